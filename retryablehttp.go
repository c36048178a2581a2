package ratekit

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The two Retryablehttp functions below give github.com/hashicorp/go-retryablehttp ratekit's judgement
// without ratekit's Transport. Their types match retryablehttp.CheckRetry and retryablehttp.Backoff, so they
// plug in directly:
//
//	client := retryablehttp.NewClient()
//	client.CheckRetry = ratekit.RetryablehttpCheckRetry
//	client.Backoff = ratekit.RetryablehttpBackoff
//
// Or keep retryablehttp and put a ratekit Transport under it, so requests are paced before they leave and
// one pause covers every goroutine: client.HTTPClient.Transport = &ratekit.Transport{MaxRetries: -1}
// (let one layer retry, not both).
//
// Transport.Backoff is unrelated: it is the backoff policy of the Transport's own retries.

// RetryablehttpCheckRetry decides whether go-retryablehttp retries, as ratekit's Transport does: a 429 (and
// a 403 or 503 that carries a rate-limit signal) is retried for any method, since the server refused it
// unprocessed; 500, 502, 503 and 504 only for idempotent requests (by method, or an Idempotency-Key header); network
// errors only for idempotent methods, never after a certificate error or when the context has ended.
// retryablehttp's default policy retries every 5xx and every network error, POSTs included.
func RetryablehttpCheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var ue *url.Error
		if !errors.As(err, &ue) {
			return false, err
		}
		u, parseErr := url.Parse(ue.URL)
		if parseErr != nil {
			return false, err
		}
		// http.Client reports the method in url.Error.Op, as "Get", "Post", ...
		req := &http.Request{Method: strings.ToUpper(ue.Op), URL: u, Header: http.Header{}}
		return idempotent(req) && retryableError(req, err), err
	}
	if resp == nil {
		return false, nil
	}
	obs := ParseHeaders(resp.Header, time.Now())
	req := resp.Request
	if req == nil {
		req = &http.Request{Method: http.MethodGet, Header: http.Header{}}
	}
	switch {
	case isRateLimited(resp.StatusCode, obs):
		return resp.StatusCode != http.StatusServiceUnavailable || idempotent(req), nil
	case retryableStatus(resp.StatusCode):
		return idempotent(req), nil
	}
	return false, nil
}

// RetryablehttpBackoff is how long go-retryablehttp waits before a retry: as long as the server asked, in
// any of the forms ParseHeaders reads (Retry-After as seconds, decimals or a date; retry-after-ms; the reset
// of an exhausted quota in any dialect), plus up to 10% so that clients told the same instant do not all
// return at once, and capped at max; without a server signal, exponential from min, doubling per attempt up to max, with
// jitter over the upper half (as retryablehttp's LinearJitterBackoff spreads its waits).
func RetryablehttpBackoff(min, max time.Duration, attemptNum int, resp *http.Response) time.Duration {
	if resp != nil {
		now := time.Now()
		if wait := ParseHeaders(resp.Header, now).Wait(now); wait > 0 {
			wait += time.Duration(rand.Float64() * 0.1 * float64(wait))
			return capDuration(wait, max)
		}
	}
	d := min
	for i := 0; i < attemptNum && d < max; i++ {
		d *= 2
	}
	d = capDuration(d, max)
	return d/2 + time.Duration(rand.Float64()*float64(d/2))
}

func capDuration(d, limit time.Duration) time.Duration {
	if limit > 0 && d > limit {
		return limit
	}
	return d
}
