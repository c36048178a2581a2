package ratekit_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
)

func TestRetryablehttpCheckRetry(t *testing.T) {
	resp := func(method string, code int, kv ...string) *http.Response {
		r := &http.Response{StatusCode: code, Header: http.Header{}, Request: &http.Request{Method: method, Header: http.Header{}}}
		for i := 0; i+1 < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		return r
	}
	netErr := func(op string, err error) error { return &url.Error{Op: op, URL: "https://api.test/x", Err: err} }
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		resp *http.Response
		err  error
		want bool
	}{
		{"429 POST", context.Background(), resp("POST", 429), nil, true},
		{"GitHub 403 with an exhausted quota", context.Background(), resp("GET", 403, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "60"), nil, true},
		{"plain 403", context.Background(), resp("GET", 403), nil, false},
		{"503 GET", context.Background(), resp("GET", 503), nil, true},
		{"503 POST", context.Background(), resp("POST", 503), nil, false},
		{"503 POST with Retry-After is still not retried", context.Background(), resp("POST", 503, "Retry-After", "1"), nil, false},
		{"500 DELETE", context.Background(), resp("DELETE", 500), nil, true},
		{"501 GET", context.Background(), resp("GET", 501), nil, false},
		{"200", context.Background(), resp("GET", 200), nil, false},
		{"network error on GET", context.Background(), nil, netErr("Get", errors.New("connection reset")), true},
		{"network error on POST", context.Background(), nil, netErr("Post", errors.New("connection reset")), false},
		{"certificate error", context.Background(), nil, netErr("Get", x509.UnknownAuthorityError{}), false},
		{"context ended", cancelled, resp("GET", 429), nil, false},
	} {
		got, _ := ratekit.RetryablehttpCheckRetry(c.ctx, c.resp, c.err)
		assert.Equal(t, c.want, got, "%s: retry", c.name)
	}
}

func TestRetryablehttpBackoff(t *testing.T) {
	withHeader := func(kv ...string) *http.Response {
		r := &http.Response{Header: http.Header{}}
		for i := 0; i+1 < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		return r
	}
	for range 100 {
		d := ratekit.RetryablehttpBackoff(time.Second, time.Minute, 1, withHeader("Retry-After", "7"))
		require.GreaterOrEqual(t, d, 7*time.Second, "Retry-After 7")
		require.LessOrEqual(t, d, 7700*time.Millisecond, "Retry-After 7")
		d = ratekit.RetryablehttpBackoff(time.Second, time.Minute, 1, withHeader("Retry-After-Ms", "1500"))
		require.GreaterOrEqual(t, d, 1500*time.Millisecond, "retry-after-ms 1500")
		require.LessOrEqual(t, d, 1650*time.Millisecond, "retry-after-ms 1500")
		d = ratekit.RetryablehttpBackoff(time.Second, 30*time.Second, 1, withHeader("Retry-After", "1000000"))
		require.Equal(t, 30*time.Second, d, "Retry-After 1000000 with max 30s")
		d = ratekit.RetryablehttpBackoff(time.Second, time.Minute, 3, withHeader())
		require.GreaterOrEqual(t, d, 4*time.Second, "attempt 3 without a signal")
		require.LessOrEqual(t, d, 8*time.Second, "attempt 3 without a signal")
		d = ratekit.RetryablehttpBackoff(time.Second, 5*time.Second, 10, nil)
		require.GreaterOrEqual(t, d, 2500*time.Millisecond, "attempt 10 capped at 5s")
		require.LessOrEqual(t, d, 5*time.Second, "attempt 10 capped at 5s")
	}
}
