package main

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/memtransport"
)

// The policy functions have retryablehttp's types.
var (
	_ retryablehttp.CheckRetry = ratekit.RetryablehttpCheckRetry
	_ retryablehttp.Backoff    = ratekit.RetryablehttpBackoff
)

// onceLimited refuses its first request with a Retry-After of 3 s and takes the rest, noting when each
// arrived (virtual time, since it was made).
type onceLimited struct {
	mu    sync.Mutex
	start time.Time
	at    []time.Duration
}

func (s *onceLimited) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.at = append(s.at, time.Since(s.start))
	first := len(s.at) == 1
	s.mu.Unlock()
	if first {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
	}
}

func (s *onceLimited) arrivals() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.at...)
}

func TestRetryablehttpAndRatekit(t *testing.T) {
	tests := []struct {
		name string
		// configure sets the client up over base, the server's transport.
		configure func(c *retryablehttp.Client, base http.RoundTripper)
		post      bool
		// the retry's earliest and latest arrival
		from, to time.Duration
	}{
		{"retryablehttp with ratekit's policies waits as long as the server asks (a POST the server refused is safe to retry)",
			func(c *retryablehttp.Client, base http.RoundTripper) {
				c.HTTPClient = &http.Client{Transport: base}
				c.CheckRetry, c.Backoff = ratekit.RetryablehttpCheckRetry, ratekit.RetryablehttpBackoff
			}, true, 3 * time.Second, 3300 * time.Millisecond},
		{"over a ratekit Transport, ratekit waits exactly as asked and retryablehttp has nothing to retry",
			func(c *retryablehttp.Client, base http.RoundTripper) {
				c.HTTPClient = &http.Client{Transport: &ratekit.Transport{Base: base}}
			}, false, 3 * time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := &onceLimited{start: time.Now()}
				client := retryablehttp.NewClient()
				client.Logger = nil
				tt.configure(client, &memtransport.Transport{Handler: srv})
				var resp *http.Response
				var err error
				if tt.post {
					resp, err = client.Post("http://api.test/items", "application/json", []byte(`{}`))
				} else {
					resp, err = client.Get("http://api.test/items")
				}
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				at := srv.arrivals()
				require.Len(t, at, 2, "the refused request and its one retry")
				assert.GreaterOrEqual(t, at[1], tt.from)
				assert.LessOrEqual(t, at[1], tt.to)
			})
		})
	}
}
