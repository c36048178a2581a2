package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/harness/batch"
)

// result is what the workers measured.
type result struct {
	start     time.Time
	elapsed   time.Duration // from the first request to the last answer
	sent      int           // requests the workers started (fewer than n when interrupted)
	completed int           // answered 2xx
	failed    int           // answered otherwise, or no answer
	statuses  map[int]int   // final statuses
	latencies []time.Duration
	firstErr  string // the first failure, for the summary
}

// runBatch sends n GET requests to url with workers goroutines sharing client, calling done after each.
// It stops starting requests when ctx ends.
func runBatch(ctx context.Context, client *http.Client, url string, n, workers int, done func()) result {
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	res := result{start: time.Now(), statuses: map[int]int{}, latencies: make([]time.Duration, 0, n)}
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && next.Add(1) <= int64(n) {
				t0 := time.Now()
				status, err := batch.Get(ctx, client, url)
				latency := time.Since(t0)

				mu.Lock()
				res.sent++
				res.latencies = append(res.latencies, latency)
				switch {
				case err != nil:
					res.failed++
					if res.firstErr == "" {
						res.firstErr = err.Error()
					}
				case status < 200 || status > 299:
					res.failed++
					res.statuses[status]++
					if res.firstErr == "" {
						res.firstErr = fmt.Sprintf("status %d %s", status, http.StatusText(status))
					}
				default:
					res.completed++
					res.statuses[status]++
				}
				mu.Unlock()
				done()
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(res.start)
	return res
}

// recorder collects what ratekit's hooks report, for the summary. Safe for concurrent use: the hooks run on
// the workers' goroutines.
type recorder struct {
	mu          sync.Mutex
	retries     int           // guarded by mu
	retried429  int           // 429 answers that ratekit retried; guarded by mu
	longestWait time.Duration // guarded by mu
	longestWhy  string        // guarded by mu
}

// onWait is Transport.OnWait.
func (r *recorder) onWait(ev ratekit.WaitEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Wait > r.longestWait {
		r.longestWait, r.longestWhy = ev.Wait, ev.Reason.String()
		if ev.Quota != "" {
			r.longestWhy += " (" + ev.Quota + ")"
		}
	}
}

// onRetry is Transport.OnRetry.
func (r *recorder) onRetry(ev ratekit.RetryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries++
	if ev.Response != nil && ev.Response.StatusCode == http.StatusTooManyRequests {
		r.retried429++
	}
}

// status is one line about what the Transport sees now, for the progress display:
// "core 0/100 left, resets in 4s; 0 in flight, 8 waiting; paused by the server, 3.9s more".
func status(t *ratekit.Transport) string {
	now := time.Now()
	keys := t.SnapshotAt(now)
	if len(keys) == 0 {
		return "no request answered yet"
	}
	k := keys[0] // one URL, one key
	s := "no quota reported"
	if q, ok := (ratekit.Observation{Quotas: k.Quotas}).Binding(); ok {
		s = fmt.Sprintf("%s %d/%d left", q.Policy, q.Remaining, q.Limit)
		if in := q.ResetIn(now).Round(100 * time.Millisecond); in > 0 {
			s += fmt.Sprintf(", resets in %s", in)
		}
	}
	s += fmt.Sprintf("; %d in flight, %d waiting", k.InFlight, k.Waiting)
	if left := k.PausedUntil.Sub(now).Round(100 * time.Millisecond); left > 0 {
		s += fmt.Sprintf("; %s, %s more", k.PauseReason, left) // "paused by the server", "backoff after a rejection"
	}
	return s
}
