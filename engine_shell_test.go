package ratekit_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
)

// A CostFunc is user code: ratekit calls it outside the key's lock, so it may read the Transport's state.
func TestCostFuncMayCallSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, 200, "X-RateLimit-Limit", "100", "X-RateLimit-Remaining", strconv.Itoa(100-n), "X-RateLimit-Reset", "60")
		})
		var tr *ratekit.Transport
		var calls atomic.Int64
		tr = &ratekit.Transport{Base: srv.transport(time.Millisecond), CostFunc: func(r *http.Request, dim string) int64 {
			calls.Add(1)
			_ = tr.Snapshot()
			return ratekit.DefaultCost(r, dim)
		}}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				resp, err := get(t, context.Background(), tr, testURL)
				assert.NoError(t, err)
				assert.Equal(t, 200, resp.StatusCode)
			})
		}
		wg.Wait()
		// Once per attempt in "requests" (the only dimension), and once for the first answer's new quota at
		// most: never once per decision.
		assert.LessOrEqual(t, calls.Load(), int64(8*2))
	})
}

// Every wait is reported, the backoff after a 5xx too.
func TestOnWaitReportsErrorBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				status(w, http.StatusBadGateway)
				return
			}
			status(w, 200)
		})
		var events []ratekit.WaitEvent
		tr := &ratekit.Transport{Base: srv.transport(0), OnWait: func(e ratekit.WaitEvent) { events = append(events, e) }}
		resp, err := get(t, context.Background(), tr, testURL)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		require.Len(t, events, 1)
		assert.Equal(t, ratekit.WaitErrorBackoff, events[0].Reason)
		assert.Equal(t, http.StatusBadGateway, events[0].StatusCode)
		assert.Positive(t, events[0].Wait)
		assert.Equal(t, "backoff after an error", events[0].Reason.String())
	})
}

// 5xx answers and network errors are retried 3 times by default; 429s up to MaxRetries (10).
func TestRetryDefaultsPerCause(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tr       func(http.RoundTripper) *ratekit.Transport
		answer   func(w http.ResponseWriter)
		attempts int
		maxTime  time.Duration
	}{
		{"a plain 503 is tried 4 times", func(b http.RoundTripper) *ratekit.Transport { return &ratekit.Transport{Base: b} },
			func(w http.ResponseWriter) { status(w, 503) }, 4, 10 * time.Second},
		{"MaxErrorRetries sets it", func(b http.RoundTripper) *ratekit.Transport {
			return &ratekit.Transport{Base: b, MaxErrorRetries: 1}
		}, func(w http.ResponseWriter) { status(w, 500) }, 2, 5 * time.Second},
		{"a 429 is tried up to MaxRetries", func(b http.RoundTripper) *ratekit.Transport { return &ratekit.Transport{Base: b} },
			func(w http.ResponseWriter) { status(w, 429, "Retry-After", "1") }, 11, 12 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) { tc.answer(w) })
				start := time.Now()
				resp, err := get(t, context.Background(), tc.tr(srv.transport(0)), testURL)
				require.NoError(t, err)
				assert.ErrorIs(t, ratekit.GiveUpReason(resp), ratekit.ErrRetriesExhausted)
				assert.Len(t, srv.Hits(), tc.attempts)
				assert.LessOrEqual(t, time.Since(start), tc.maxTime)
			})
		})
	}
	t.Run("a refused connection is tried 4 times", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var n atomic.Int64
			tr := &ratekit.Transport{Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				n.Add(1)
				return nil, errors.New("connect: connection refused")
			})}
			_, err := get(t, context.Background(), tr, testURL)
			require.Error(t, err)
			assert.Equal(t, int64(4), n.Load())
		})
	})
}

// A key a server paused for a day can be forgotten, and is forgotten when nothing uses it.
func TestStuckPauses(t *testing.T) {
	day := func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			status(w, 429, "Retry-After", "86400")
			return
		}
		status(w, 200)
	}
	t.Run("Forget drops the pause", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(day)
			tr := &ratekit.Transport{Base: srv.transport(0), MaxWait: time.Minute}
			_, err := get(t, context.Background(), tr, testURL)
			var rle *ratekit.RateLimitError
			require.ErrorAs(t, err, &rle)
			assert.Equal(t, ratekit.WaitServerPause, rle.Reason)
			assert.True(t, tr.Forget("http://api.test"))
			assert.False(t, tr.Forget("http://api.test"))
			resp, err := get(t, context.Background(), tr, testURL)
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
		})
	})
	t.Run("a paused key nothing uses is evicted", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(day)
			tr := &ratekit.Transport{Base: srv.transport(0), MaxWait: time.Minute, IdleTimeout: time.Minute}
			_, err := get(t, context.Background(), tr, testURL)
			require.Error(t, err)
			time.Sleep(2 * time.Minute)
			get(t, context.Background(), tr, "http://other.test/") // eviction sweeps on use
			assert.Equal(t, 1, tr.Keys())
		})
	})
	t.Run("Forget wakes the requests waiting for the key", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					status(w, 429, "Retry-After", "3600")
					return
				}
				status(w, 200)
			})
			tr := &ratekit.Transport{Base: srv.transport(0), MaxRetries: -1, MaxWait: -1}
			get(t, context.Background(), tr, testURL)
			done := make(chan *http.Response)
			go func() { resp, _ := get(t, context.Background(), tr, testURL); done <- resp }()
			synctest.Wait()
			tr.Forget("http://api.test")
			resp := <-done
			require.NotNil(t, resp)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Less(t, srv.Hits()[1].at, time.Second)
		})
	})
}
