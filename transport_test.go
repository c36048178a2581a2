package ratekit_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

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
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("got %v, %v; want 200", resp, err)
				}
				hits := srv.Hits()
				if len(hits) != 2 || hits[1].at-hits[0].at != c.want {
					t.Fatalf("hits %+v: want the retry exactly %v after the 429", hits, c.want)
				}
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
					if resp, err := get(t, context.Background(), tr, testURL); err != nil || resp.StatusCode != 200 {
						t.Errorf("got %v, %v", resp, err)
					}
					time.Sleep(20 * time.Millisecond) // the workers' own pace: each sends every 20 ms
				}
			})
		}
		wg.Wait()
		hits := srv.Hits()
		if len(hits) != 65 {
			t.Fatalf("server saw %d requests, want 64 + 1 retry", len(hits))
		}
		rejectedAt := hits[4].at
		var during, probe, after int
		for _, h := range hits[5:] {
			switch {
			case h.at <= rejectedAt: // sent before the rejection came back
			case h.at < rejectedAt+10*time.Second:
				during++
			case h.at == rejectedAt+10*time.Second+latency:
				probe++
			default:
				after++
			}
		}
		if during != 0 || probe != 1 {
			t.Errorf("after the 429 at %v: %d requests during the pause, %d at its end; want 0 and exactly 1 probe", rejectedAt, during, probe)
		}
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
		if time.Since(start) != 0 {
			t.Errorf("returned after %v, want at once", time.Since(start))
		}
		// The key is paused: the next request fails before it is sent.
		_, err = get(t, ctx, tr, testURL)
		checkRateLimitError(t, err, context.DeadlineExceeded, start.Add(60*time.Second))
		if n := len(srv.Hits()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
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
		if e != nil && (e.Wait != 1000000*time.Second || e.StatusCode != 429) {
			t.Errorf("Wait = %v, StatusCode = %d", e.Wait, e.StatusCode)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Error("a MaxWait refusal must not claim a deadline")
		}
	})
}

func checkRateLimitError(t *testing.T, err, cause error, retryAt time.Time) *ratekit.RateLimitError {
	t.Helper()
	var e *ratekit.RateLimitError
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a *RateLimitError", err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("err = %v, want %v in its chain", err, cause)
	}
	if !e.RetryAt.Equal(retryAt) {
		t.Errorf("RetryAt = %v, want %v", e.RetryAt, retryAt)
	}
	return e
}

func TestCancelReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, http.StatusTooManyRequests, "Retry-After", "30")
		})
		tr := &ratekit.Transport{Base: srv.transport(0)}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		_, err := get(t, ctx, tr, testURL)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled in the chain", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("returned after %v, want 1s (when cancelled)", d)
		}
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
		if err != nil || resp.StatusCode != 429 {
			t.Fatalf("got %v, %v; want the last 429 with a nil error", resp, err)
		}
		if !errors.Is(ratekit.GiveUpReason(resp), ratekit.ErrRetriesExhausted) {
			t.Errorf("GiveUpReason = %v", ratekit.GiveUpReason(resp))
		}
		resp.Body.Close()
		if n := len(srv.Hits()); n != 4 {
			t.Errorf("server saw %d requests, want 1 + 3 retries", n)
		}
		for i, b := range bodies[:len(bodies)-1] {
			if !b.closed || b.read != 4<<10 {
				t.Errorf("discarded response %d: closed %v after reading %d bytes; want closed after 4096", i, b.closed, b.read)
			}
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
				if retried != c.retried {
					t.Fatalf("retried = %v (resp %v, err %v), want %v", retried, resp, err, c.retried)
				}
				if resp != nil {
					resp.Body.Close()
					if got := ratekit.GiveUpReason(resp); !errors.Is(got, c.reason) || (got == nil) != (c.reason == nil) {
						t.Errorf("GiveUpReason = %v, want %v", got, c.reason)
					}
				}
				if c.netErr && !c.retried && err == nil {
					t.Error("a network error that is not retried must be returned")
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
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("got %v, %v", resp, err)
		}
		resp.Body.Close()
		hits := srv.Hits()
		if len(hits) != 2 || hits[0].body != `{"name":"x"}` || hits[1].body != hits[0].body {
			t.Fatalf("bodies %q: want the same body twice", []string{hits[0].body, hits[len(hits)-1].body})
		}
		if hits[1].header.Get("Content-Type") != "application/json" {
			t.Error("the retry lost the request's headers")
		}
		if len(req.Header) != len(before) || req.Header.Get("Content-Type") != "application/json" || req.URL.String() != testURL {
			t.Error("the caller's request was modified")
		}
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
		if err != nil || resp.StatusCode != 429 {
			t.Fatalf("got %v, %v; want the 429", resp, err)
		}
		resp.Body.Close()
		if !errors.Is(ratekit.GiveUpReason(resp), ratekit.ErrBodyNotReplayable) {
			t.Errorf("GiveUpReason = %v, want ErrBodyNotReplayable", ratekit.GiveUpReason(resp))
		}
		if n := len(srv.Hits()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
		if !body.closed {
			t.Error("the request body was not closed")
		}
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
		if _, err := tr.RoundTrip(req); !errors.Is(err, ratekit.ErrWaitTooLong) {
			t.Fatalf("err = %v", err)
		}
		if !body.closed {
			t.Error("RoundTrip returned without closing the request body")
		}
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
		{"GitHub 403 with an exhausted quota waits for the reset", 403, []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "946684830"}, true, 30 * time.Second},
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
				if err != nil {
					t.Fatal(err)
				}
				hits := srv.Hits()
				if retried := len(hits) == 2; retried != c.retried {
					t.Fatalf("retried = %v (status %d), want %v", retried, resp.StatusCode, c.retried)
				}
				if c.retried && hits[1].at != c.wait {
					t.Errorf("retried after %v, want %v", hits[1].at, c.wait)
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
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v", resp, err)
		}
		hits := srv.Hits()
		// Exponential backoff from 500 ms, doubling, with ±50% jitter.
		for i, base := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second} {
			gap := hits[i+1].at - hits[i].at
			if gap < base/2 || gap > base*3/2 {
				t.Errorf("retry %d after %v, want within ±50%% of %v", i+1, gap, base)
			}
		}
	})
}

func TestRetryBudgetStopsRetryStorms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) { status(w, http.StatusServiceUnavailable) })
		tr := &ratekit.Transport{Base: srv.transport(0), MaxErrorRetries: 100, RetryBudget: 0.1}
		resp, err := get(t, context.Background(), tr, testURL)
		if err != nil || resp.StatusCode != 503 || !errors.Is(ratekit.GiveUpReason(resp), ratekit.ErrRetryBudgetExhausted) {
			t.Fatalf("got %v, %v, reason %v", resp, err, ratekit.GiveUpReason(resp))
		}
		// The budget holds 10 retries (and the request deposited 0.1): 11 attempts, not 101.
		if n := len(srv.Hits()); n != 11 {
			t.Errorf("server saw %d attempts, want 11", n)
		}
	})
}

func TestNoRetriesWhenMaxRetriesIsNegative(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, http.StatusTooManyRequests, "Retry-After", "1")
		})
		tr := &ratekit.Transport{Base: srv.transport(0), MaxRetries: -1}
		resp, err := get(t, context.Background(), tr, testURL)
		if err != nil || resp.StatusCode != 429 || len(srv.Hits()) != 1 {
			t.Fatalf("got %v, %v after %d requests", resp, err, len(srv.Hits()))
		}
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
		if last := hits[len(hits)-1].at; last != 4500*time.Millisecond {
			t.Errorf("10 requests at 2/s with burst 1 ended at %v, want 4.5s", last)
		}
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
					if resp, err := get(t, context.Background(), tr, testURL); err != nil || resp.StatusCode != 200 {
						t.Errorf("got %v, %v", resp, err)
					}
				}
			})
		}
		wg.Wait()
		hits := srv.Hits()
		rejected := len(hits) - 200
		elapsed := hits[len(hits)-1].at
		// 200 requests at 20 per 10 s: the last window starts at 90 s.
		if rejected > 1 || elapsed > 91*time.Second {
			t.Errorf("%d rejected, done at %v; want at most 1 and about 90s", rejected, elapsed)
		}
	})
}
