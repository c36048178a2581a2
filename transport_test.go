package ratekit_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
)

const testURL = "http://api.test/v1/items"

func TestRetryAfterIsWaitedExactly(t *testing.T) {
	for _, c := range []struct {
		name   string
		header []string
		want   time.Duration
	}{
		{"delay seconds", []string{"Retry-After", "7"}, 7 * time.Second},
		{"HTTP-date", []string{"Retry-After", "Sat, 01 Jan 2000 00:00:12 GMT"}, 12 * time.Second},
		{"retry-after-ms wins", []string{"Retry-After", "7", "Retry-After-Ms", "2500"}, 2500 * time.Millisecond},
		{"decimal", []string{"Retry-After", "1.5"}, 1500 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == 1 {
						status(w, http.StatusTooManyRequests, c.header...)
						return
					}
					status(w, http.StatusOK)
				})
				tr := &ratekit.Transport{Base: srv.transport(0)}
				resp, err := get(t, context.Background(), tr, testURL)
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				hits := srv.Hits()
				require.Len(t, hits, 2)
				assert.Equal(t, c.want, hits[1].at-hits[0].at, "the retry after the 429")
			})
		})
	}
}

// One 429 among 32 concurrent goroutines pauses the whole key: nothing else is sent during the pause, then
// one probe, then the rest. The server sees one rejection, not 32.
func TestOneRejectionPausesTheWholeKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency = 10 * time.Millisecond
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 5 {
				status(w, http.StatusTooManyRequests, "Retry-After", "10")
				return
			}
			status(w, http.StatusOK)
		})
		tr := &ratekit.Transport{Base: srv.transport(latency)}
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				for range 2 {
					resp, err := get(t, context.Background(), tr, testURL)
					if assert.NoError(t, err) {
						assert.Equal(t, 200, resp.StatusCode)
					}
					time.Sleep(20 * time.Millisecond) // the workers' own pace: each sends every 20 ms
				}
			})
		}
		wg.Wait()
		hits := srv.Hits()
		require.Len(t, hits, 65, "64 requests + 1 retry")
		rejectedAt := hits[4].at
		probeAt := rejectedAt + 10*time.Second + latency
		// The probe's answer is back at once (memtransport's latency is on the way in); a follower reaches
		// the server a latency after that.
		followersFrom := probeAt + latency
		var before, during, probe, early, after int
		for _, h := range hits[5:] {
			switch {
			case h.at <= rejectedAt: // sent before the rejection came back
				before++
			case h.at < rejectedAt+10*time.Second:
				during++
			case h.at == probeAt:
				probe++
			case h.at < followersFrom:
				early++
			default:
				after++
			}
		}
		assert.Zero(t, during, "requests during the pause after the 429 at %v", rejectedAt)
		assert.Equal(t, 1, probe, "probes at the pause's end")
		assert.Zero(t, early, "requests sent before the probe's answer came back")
		assert.Equal(t, len(hits[5:])-before-probe, after, "every other request follows the probe's answer")
	})
}

func TestWaitPastTheDeadlineFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, http.StatusTooManyRequests, "Retry-After", "60")
		})
		tr := &ratekit.Transport{Base: srv.transport(0)}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := get(t, ctx, tr, testURL)
		checkRateLimitError(t, err, context.DeadlineExceeded, start.Add(60*time.Second))
		assert.Zero(t, time.Since(start), "want a return at once")
		// The key is paused: the next request fails before it is sent.
		_, err = get(t, ctx, tr, testURL)
		checkRateLimitError(t, err, context.DeadlineExceeded, start.Add(60*time.Second))
		assert.Len(t, srv.Hits(), 1)
	})
}

func TestAbsurdRetryAfterIsRefusedAgainstMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, http.StatusTooManyRequests, "Retry-After", "1000000")
		})
		tr := &ratekit.Transport{Base: srv.transport(0), MaxWait: time.Hour}
		start := time.Now()
		_, err := get(t, context.Background(), tr, testURL)
		e := checkRateLimitError(t, err, ratekit.ErrWaitTooLong, start.Add(1000000*time.Second))
		assert.Equal(t, 1000000*time.Second, e.Wait)
		assert.Equal(t, 429, e.StatusCode)
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "a MaxWait refusal must not claim a deadline")
	})
}

func checkRateLimitError(t *testing.T, err, cause error, retryAt time.Time) *ratekit.RateLimitError {
	t.Helper()
	var e *ratekit.RateLimitError
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, cause)
	assert.True(t, e.RetryAt.Equal(retryAt), "RetryAt = %v, want %v", e.RetryAt, retryAt)
	return e
}

func TestCancelReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, http.StatusTooManyRequests, "Retry-After", "30")
		})
		getCancelledAfter(t, &ratekit.Transport{Base: srv.transport(0)}, time.Second)
	})
}

func TestRetriesRunOutReturnTheLastResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var bodies []*trackedBody
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, http.StatusTooManyRequests, "Retry-After", "1")
			w.Write(make([]byte, 10000)) // more than the 4 KiB a discarded response is drained of
		})
		base := srv.transport(0)
		tracking := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := base.RoundTrip(r)
			if err == nil {
				b := &trackedBody{r: resp.Body}
				mu.Lock()
				bodies = append(bodies, b)
				mu.Unlock()
				resp.Body = b
			}
			return resp, err
		})
		tr := &ratekit.Transport{Base: tracking, MaxRetries: 3}
		req, _ := http.NewRequest(http.MethodGet, testURL, nil)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err, "want the last 429 with a nil error")
		require.Equal(t, 429, resp.StatusCode)
		assert.ErrorIs(t, ratekit.GiveUpReason(resp), ratekit.ErrRetriesExhausted)
		resp.Body.Close()
		assert.Len(t, srv.Hits(), 4, "1 + 3 retries")
		require.Len(t, bodies, 4)
		for i, b := range bodies[:len(bodies)-1] {
			assert.True(t, b.closed, "discarded response %d closed", i)
			assert.Equal(t, 4<<10, b.read, "discarded response %d drained of 4 KiB", i)
		}
	})
}

func TestIdempotencyRules(t *testing.T) {
	for _, c := range []struct {
		name    string
		method  string
		header  string
		status  int
		netErr  bool
		retried bool
		reason  error
	}{
		{"429 POST is retried: the server did not process it", http.MethodPost, "", 429, false, true, nil},
		{"503 GET is retried", http.MethodGet, "", 503, false, true, nil},
		{"503 POST is not", http.MethodPost, "", 503, false, false, ratekit.ErrNotIdempotent},
		{"503 POST with Idempotency-Key is", http.MethodPost, "Idempotency-Key", 503, false, true, nil},
		{"502 PUT is retried", http.MethodPut, "", 502, false, true, nil},
		{"500 PATCH is not", http.MethodPatch, "", 500, false, false, ratekit.ErrNotIdempotent},
		{"404 GET is not retried", http.MethodGet, "", 404, false, false, nil},
		{"501 GET is not retried", http.MethodGet, "", 501, false, false, nil},
		{"network error on GET is retried", http.MethodGet, "", 0, true, true, nil},
		{"network error on POST is not", http.MethodPost, "", 0, true, false, nil},
		{"network error on POST with X-Idempotency-Key is", http.MethodPost, "X-Idempotency-Key", 0, true, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == 1 {
						if c.netErr {
							panic(http.ErrAbortHandler)
						}
						status(w, c.status, "Retry-After", "1")
						return
					}
					status(w, http.StatusOK)
				})
				tr := &ratekit.Transport{Base: srv.transport(0)}
				req, _ := http.NewRequest(c.method, testURL, nil)
				if c.header != "" {
					req.Header.Set(c.header, "k-1")
				}
				resp, err := tr.RoundTrip(req)
				retried := len(srv.Hits()) == 2
				require.Equal(t, c.retried, retried, "retried (resp %v, err %v)", resp, err)
				if resp != nil {
					resp.Body.Close()
					if c.reason == nil {
						assert.NoError(t, ratekit.GiveUpReason(resp))
					} else {
						assert.ErrorIs(t, ratekit.GiveUpReason(resp), c.reason)
					}
				}
				if c.netErr && !c.retried {
					assert.Error(t, err, "a network error that is not retried must be returned")
				}
			})
		})
	}
}

func TestBodyIsReplayedThroughGetBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				status(w, http.StatusTooManyRequests, "Retry-After", "2")
				return
			}
			status(w, http.StatusCreated)
		})
		tr := &ratekit.Transport{Base: srv.transport(0)}
		req, _ := http.NewRequest(http.MethodPost, testURL, strings.NewReader(`{"name":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		before := req.Header.Clone()
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		resp.Body.Close()
		hits := srv.Hits()
		require.Len(t, hits, 2)
		assert.Equal(t, `{"name":"x"}`, hits[0].body)
		assert.Equal(t, hits[0].body, hits[1].body, "the retry's body")
		assert.Equal(t, "application/json", hits[1].header.Get("Content-Type"), "the retry's headers")
		assert.Equal(t, before, req.Header, "the caller's request was modified")
		assert.Equal(t, testURL, req.URL.String(), "the caller's request was modified")
	})
}

func TestUnreplayableBodyIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, http.StatusTooManyRequests, "Retry-After", "2")
		})
		tr := &ratekit.Transport{Base: srv.transport(0)}
		body := &trackedBody{r: strings.NewReader("payload")}
		req, _ := http.NewRequest(http.MethodPost, testURL, body) // an io.ReadCloser: no GetBody
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		require.Equal(t, 429, resp.StatusCode)
		resp.Body.Close()
		assert.ErrorIs(t, ratekit.GiveUpReason(resp), ratekit.ErrBodyNotReplayable)
		assert.Len(t, srv.Hits(), 1)
		assert.True(t, body.closed, "the request body was closed")
	})
}

func TestBodyIsClosedWhenNothingIsSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, http.StatusTooManyRequests, "Retry-After", "600")
		})
		tr := &ratekit.Transport{Base: srv.transport(0), MaxWait: time.Minute}
		get(t, context.Background(), tr, testURL) // pauses the key for 10 minutes
		body := &trackedBody{r: strings.NewReader("payload")}
		req, _ := http.NewRequest(http.MethodPost, testURL, body)
		_, err := tr.RoundTrip(req)
		require.ErrorIs(t, err, ratekit.ErrWaitTooLong)
		assert.True(t, body.closed, "RoundTrip closed the request body")
	})
}

func TestStatusesThatSignalRateLimits(t *testing.T) {
	for _, c := range []struct {
		name    string
		status  int
		header  []string
		retried bool
		wait    time.Duration
	}{
		{"GitHub 403 with an exhausted quota waits for the reset", 403, []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "946684830"}, true, 30*time.Second + time.Millisecond}, // the reset's instant may still be in the window
		{"GitHub secondary limit: 403 with Retry-After", 403, []string{"Retry-After", "5", "X-RateLimit-Remaining", "4000"}, true, 5 * time.Second},
		{"403 without a rate-limit signal is an answer", 403, nil, false, 0},
		{"503 with Retry-After pauses the key", 503, []string{"Retry-After", "9"}, true, 9 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == 1 {
						status(w, c.status, c.header...)
						return
					}
					status(w, http.StatusOK)
				})
				tr := &ratekit.Transport{Base: srv.transport(0)}
				resp, err := get(t, context.Background(), tr, testURL)
				require.NoError(t, err)
				hits := srv.Hits()
				require.Equal(t, c.retried, len(hits) == 2, "retried (status %d)", resp.StatusCode)
				if c.retried {
					assert.Equal(t, c.wait, hits[1].at, "retried after")
				}
			})
		})
	}
}

func TestServerErrorsBackOffPerRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			if n <= 3 {
				status(w, http.StatusBadGateway)
				return
			}
			status(w, http.StatusOK)
		})
		tr := &ratekit.Transport{Base: srv.transport(0)}
		resp, err := get(t, context.Background(), tr, testURL)
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
		hits := srv.Hits()
		require.Len(t, hits, 4)
		// Exponential backoff from 500 ms, doubling, with ±50% jitter.
		for i, base := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second} {
			gap := hits[i+1].at - hits[i].at
			assert.GreaterOrEqual(t, gap, base/2, "retry %d", i+1)
			assert.LessOrEqual(t, gap, base*3/2, "retry %d", i+1)
		}
	})
}

func TestRetryBudgetStopsRetryStorms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) { status(w, http.StatusServiceUnavailable) })
		tr := &ratekit.Transport{Base: srv.transport(0), MaxErrorRetries: 100, RetryBudget: 0.1}
		resp, err := get(t, context.Background(), tr, testURL)
		require.NoError(t, err)
		assert.Equal(t, 503, resp.StatusCode)
		assert.ErrorIs(t, ratekit.GiveUpReason(resp), ratekit.ErrRetryBudgetExhausted)
		// The budget holds 10 retries (and the request deposited 0.1): 11 attempts, not 101.
		assert.Len(t, srv.Hits(), 11)
	})
}

func TestNoRetriesWhenMaxRetriesIsNegative(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, http.StatusTooManyRequests, "Retry-After", "1")
		})
		tr := &ratekit.Transport{Base: srv.transport(0), MaxRetries: -1}
		resp, err := get(t, context.Background(), tr, testURL)
		require.NoError(t, err)
		assert.Equal(t, 429, resp.StatusCode)
		assert.Len(t, srv.Hits(), 1)
	})
}

func TestLocalCeiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) { status(w, http.StatusOK) })
		tr := &ratekit.Transport{Base: srv.transport(0), Limit: 2, Burst: 1}
		for range 10 {
			get(t, context.Background(), tr, testURL)
		}
		hits := srv.Hits()
		require.Len(t, hits, 10)
		assert.Equal(t, 4500*time.Millisecond, hits[len(hits)-1].at, "10 requests at 2/s with burst 1 end at")
	})
}

// The pacing spreads a fixed window's remaining requests: no burst into 429s, and after the one rejection
// that shows the window is fixed, none at all.
func TestPacingFromHeadersAvoidsRejections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		used := map[int64]int{}
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			now := time.Now()
			window := now.Unix() / 10
			reset := strconv.FormatInt((window+1)*10-now.Unix(), 10)
			mu.Lock()
			defer mu.Unlock()
			if used[window] >= 20 {
				status(w, 429, "Retry-After", reset, "X-RateLimit-Limit", "20", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset)
				return
			}
			used[window]++
			status(w, 200, "X-RateLimit-Limit", "20", "X-RateLimit-Remaining", strconv.Itoa(20-used[window]), "X-RateLimit-Reset", reset)
		})
		tr := &ratekit.Transport{Base: srv.transport(5 * time.Millisecond)}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 25 {
					resp, err := get(t, context.Background(), tr, testURL)
					if assert.NoError(t, err) {
						assert.Equal(t, 200, resp.StatusCode)
					}
				}
			})
		}
		wg.Wait()
		hits := srv.Hits()
		rejected := len(hits) - 200
		elapsed := hits[len(hits)-1].at
		// 200 requests at 20 per 10 s: the last window starts at 90 s.
		assert.LessOrEqual(t, rejected, 1)
		assert.LessOrEqual(t, elapsed, 91*time.Second)
	})
}
