package ratekit_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
)

// scriptedLimiter is a shared Limiter whose n-th Reserve (from 1) answers script(n), and which records what
// each call published.
type scriptedLimiter struct {
	script func(n int) (time.Duration, error)

	mu    sync.Mutex
	calls []reserveCall
}

type reserveCall struct {
	key     string
	cost    int64
	learned *ratekit.Pace
	at      time.Time
}

func (l *scriptedLimiter) Reserve(ctx context.Context, key string, cost int64, learned *ratekit.Pace, now time.Time) (time.Duration, error) {
	l.mu.Lock()
	l.calls = append(l.calls, reserveCall{key, cost, learned, now})
	n := len(l.calls)
	l.mu.Unlock()
	return l.script(n)
}

func (l *scriptedLimiter) Calls() []reserveCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]reserveCall(nil), l.calls...)
}

func TestFleetWait(t *testing.T) {
	ok := func(n int, w http.ResponseWriter, r *http.Request) { status(w, 200) }
	t.Run("longer than MaxWait fails at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(ok)
			l := &scriptedLimiter{script: func(int) (time.Duration, error) { return time.Hour, nil }}
			tr := &ratekit.Transport{Base: srv.transport(0), Limiter: l, MaxWait: time.Minute}
			start := time.Now()
			_, err := get(t, context.Background(), tr, testURL)
			e := checkRateLimitError(t, err, ratekit.ErrWaitTooLong, start.Add(time.Hour))
			assert.Equal(t, ratekit.WaitFleet, e.Reason)
			assert.Equal(t, time.Hour, e.Wait)
			assert.Zero(t, time.Since(start), "want a return at once")
			assert.Empty(t, srv.Hits())
		})
	})
	t.Run("past the deadline fails at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(ok)
			l := &scriptedLimiter{script: func(int) (time.Duration, error) { return 30 * time.Second, nil }}
			tr := &ratekit.Transport{Base: srv.transport(0), Limiter: l}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			_, err := get(t, ctx, tr, testURL)
			checkRateLimitError(t, err, context.DeadlineExceeded, start.Add(30*time.Second))
			assert.Empty(t, srv.Hits())
		})
	})
	t.Run("ends with its context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(ok)
			l := &scriptedLimiter{script: func(int) (time.Duration, error) { return 30 * time.Second, nil }}
			var waits []ratekit.WaitEvent
			tr := &ratekit.Transport{Base: srv.transport(0), Limiter: l, OnWait: func(e ratekit.WaitEvent) { waits = append(waits, e) }}
			getCancelledAfter(t, tr, time.Second)
			assert.Empty(t, srv.Hits())
			require.Len(t, waits, 1)
			assert.Equal(t, ratekit.WaitFleet, waits[0].Reason)
			assert.Equal(t, 30*time.Second, waits[0].Wait)
		})
	})
	t.Run("within MaxWait is waited, then asked again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(ok)
			l := &scriptedLimiter{script: func(n int) (time.Duration, error) {
				if n == 1 {
					return 2 * time.Second, nil
				}
				return 0, nil
			}}
			tr := &ratekit.Transport{Base: srv.transport(0), Limiter: l}
			resp, err := get(t, context.Background(), tr, testURL)
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
			hits := srv.Hits()
			require.Len(t, hits, 1)
			assert.Equal(t, 2*time.Second, hits[0].at)
			assert.Len(t, l.Calls(), 2)
		})
	})
	t.Run("a Limiter that cannot be reached is gone around", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(ok)
			l := &scriptedLimiter{script: func(int) (time.Duration, error) { return 0, errors.New("redis: connection refused") }}
			tr := &ratekit.Transport{Base: srv.transport(0), Limiter: l}
			resp, err := get(t, context.Background(), tr, testURL)
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
		})
	})
}

// A pause that could not be published (the Limiter failed) is kept, and published with the next
// reservation: the fleet still learns of it.
func TestUnpublishedPauseIsPublishedNextTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				status(w, http.StatusTooManyRequests, "Retry-After", "10")
				return
			}
			status(w, 200)
		})
		// Call 1 reserves the first attempt; call 2 publishes the 429's pause, and fails; call 3 reserves
		// the retry.
		l := &scriptedLimiter{script: func(n int) (time.Duration, error) {
			if n == 2 {
				return 0, errors.New("redis: i/o timeout")
			}
			return 0, nil
		}}
		tr := &ratekit.Transport{Base: srv.transport(0), Limiter: l}
		start := time.Now()
		resp, err := get(t, context.Background(), tr, testURL)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		calls := l.Calls()
		require.Len(t, calls, 3)
		assert.Nil(t, calls[0].learned, "nothing was learned before the first request")
		require.NotNil(t, calls[1].learned, "the 429's pause is published at once")
		require.NotNil(t, calls[2].learned, "the pause that failed to publish is published with the retry")
		assert.Equal(t, calls[1].learned, calls[2].learned)
		assert.True(t, calls[2].learned.PausedUntil.Equal(start.Add(10*time.Second)), "PausedUntil = %v", calls[2].learned.PausedUntil)
	})
}

// A key forgotten while a request waits for the fleet is looked up again: the request is admitted by the
// key's new state, not by the state that was dropped.
func TestKeyForgottenDuringTheFleetWaitIsLookedUpAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) { status(w, 200) })
		l := &scriptedLimiter{script: func(n int) (time.Duration, error) {
			if n == 1 {
				return 5 * time.Second, nil
			}
			return 0, nil
		}}
		tr := &ratekit.Transport{Base: srv.transport(0), Limiter: l}
		done := make(chan error, 1)
		go func() {
			_, err := get(t, context.Background(), tr, testURL)
			done <- err
		}()
		time.Sleep(time.Second)
		require.True(t, tr.Forget("http://api.test"), "the waiting request's key is held")
		require.NoError(t, <-done)
		hits := srv.Hits()
		require.Len(t, hits, 1)
		assert.Equal(t, 5*time.Second, hits[0].at)
		// The fleet was asked before the wait, again after it (for the forgotten state), and once more for the
		// state the re-lookup made.
		assert.Len(t, l.Calls(), 3)
		snaps := tr.Snapshot()
		require.Len(t, snaps, 1)
		assert.Equal(t, int64(1), snaps[0].Sent, "the new state counts the request it sent")
	})
}

// errorBackoffOf is a Transport.Backoff that waits d between retries after errors.
func errorBackoffOf(d time.Duration) func() backoff.BackOff {
	return func() backoff.BackOff { return backoff.NewConstantBackOff(d) }
}

func TestErrorBackoffEnds(t *testing.T) {
	badGateway := func(n int, w http.ResponseWriter, r *http.Request) { status(w, http.StatusBadGateway) }
	abort := func(n int, w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }
	for _, tc := range []struct {
		name    string
		answer  func(n int, w http.ResponseWriter, r *http.Request)
		backoff func() backoff.BackOff
		timeout time.Duration // the request's deadline; 0: none
		reason  error         // GiveUpReason of the 502, or the error's cause for a network error
	}{
		{"a 502 after Stop", badGateway, func() backoff.BackOff { return &backoff.StopBackOff{} }, 0, ratekit.ErrRetriesExhausted},
		{"a 502 whose backoff passes the deadline", badGateway, errorBackoffOf(10 * time.Second), 5 * time.Second, context.DeadlineExceeded},
		{"a network error after Stop", abort, func() backoff.BackOff { return &backoff.StopBackOff{} }, 0, nil},
		{"a network error whose backoff passes the deadline", abort, errorBackoffOf(10 * time.Second), 5 * time.Second, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(tc.answer)
				tr := &ratekit.Transport{Base: srv.transport(0), Backoff: tc.backoff}
				ctx := context.Background()
				if tc.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.timeout)
					defer cancel()
				}
				start := time.Now()
				resp, err := get(t, ctx, tr, testURL)
				assert.Zero(t, time.Since(start), "the backoff that ends the retries is not slept")
				assert.Len(t, srv.Hits(), 1)
				if tc.reason == nil { // a network error is returned as it is
					require.Error(t, err)
					assert.Nil(t, resp)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
				assert.ErrorIs(t, ratekit.GiveUpReason(resp), tc.reason)
			})
		})
	}
}

func TestCancelDuringTheErrorBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) { status(w, http.StatusServiceUnavailable) })
		var waits []ratekit.WaitEvent
		tr := &ratekit.Transport{Base: srv.transport(0), Backoff: errorBackoffOf(10 * time.Second),
			OnWait: func(e ratekit.WaitEvent) { waits = append(waits, e) }}
		getCancelledAfter(t, tr, time.Second) // not at the backoff's end
		assert.Len(t, srv.Hits(), 1)
		require.Len(t, waits, 1)
		assert.Equal(t, ratekit.WaitErrorBackoff, waits[0].Reason)
		assert.Equal(t, 10*time.Second, waits[0].Wait)
		assert.Equal(t, http.StatusServiceUnavailable, waits[0].StatusCode)
	})
}
