package ratekit_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
)

// limitReq answers like nginx's limit_req with its default limit_req_status: a request sooner than
// interval after the last one it let through is refused with a bare 503 (no Retry-After, no rate-limit
// header).
type limitReq struct {
	interval time.Duration
	mu       sync.Mutex
	last     time.Time
	passed   int
}

func (l *limitReq) answer(n int, w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	now := time.Now()
	ok := l.last.IsZero() || now.Sub(l.last) >= l.interval
	if ok {
		l.last = now
		l.passed++
	}
	l.mu.Unlock()
	if ok {
		status(w, http.StatusOK)
		return
	}
	status(w, http.StatusServiceUnavailable)
}

// TestPlain503AfterSuccessesPacesTheKey: a server that lets requests through and then answers a bare 503
// (nginx's limit_req) is a limiter, and the key is paced as after a refusal, so a batch of GETs completes
// instead of spending every request's retries at once; a POST answered so is returned, never sent again;
// 503s with nothing passing between them (an outage) keep the error backoff's pace:
// TestRetryDefaultsPerCause.
func TestPlain503AfterSuccessesPacesTheKey(t *testing.T) {
	for _, c := range []struct {
		name     string
		method   string
		interval time.Duration
		workers  int
		n        int
		done     int // the least that must come back 200
		maxSent  int // the most requests the server may see
	}{
		{"10 a second, 8 workers, GET", http.MethodGet, 100 * time.Millisecond, 8, 40, 40, 60},
		{"2 a second, 4 workers, GET", http.MethodGet, 500 * time.Millisecond, 4, 20, 20, 30},
		{"10 a second, 8 workers, POST: refused ones come back as 503", http.MethodPost, 100 * time.Millisecond, 8, 40, 1, 40},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := &limitReq{interval: c.interval}
				srv := newServer(lim.answer)
				tr := &ratekit.Transport{Base: srv.transport(5 * time.Millisecond)}
				var ok, next atomic.Int64
				var wg sync.WaitGroup
				for range c.workers {
					wg.Go(func() {
						for next.Add(1) <= int64(c.n) {
							req, err := http.NewRequestWithContext(context.Background(), c.method, testURL, strings.NewReader("{}"))
							require.NoError(t, err)
							resp, err := tr.RoundTrip(req)
							if !assert.NoError(t, err) {
								continue
							}
							if resp.StatusCode == http.StatusOK {
								ok.Add(1)
							}
							resp.Body.Close()
						}
					})
				}
				wg.Wait()
				hits := srv.Hits()
				t.Logf("%d of %d came back 200; the server saw %d requests", ok.Load(), c.n, len(hits))
				assert.GreaterOrEqual(t, int(ok.Load()), c.done, "requests that came back 200")
				assert.LessOrEqual(t, len(hits), c.maxSent, "requests the server saw")
				if c.method == http.MethodPost {
					assert.Len(t, hits, c.n, "a POST answered 503 is never sent again")
				}
			})
		})
	}
}
