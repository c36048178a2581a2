// Package batch runs a batch of requests through an http.Client with several workers and measures it:
// how long it took, how many requests the server rejected, how long the longest wait was. The contract
// tests, the benchmarks and the examples use it to measure goodput the same way.
package batch

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what a batch measured.
type Result struct {
	Requests  int           // requests sent by the workers (not counting retries)
	Completed int           // requests that ended with a 2xx response
	Failed    int           // requests that ended with an error or a non-2xx response
	Elapsed   time.Duration // from the first request to the last answer
	Latencies []time.Duration
	FirstErr  error
	Statuses  map[int]int // final statuses
}

// Run sends n GET requests to url with workers goroutines through client, each with ctx.
func Run(ctx context.Context, client *http.Client, url string, n, workers int) Result {
	var next atomic.Int64
	var mu sync.Mutex
	res := Result{Requests: n, Statuses: map[int]int{}, Latencies: make([]time.Duration, 0, n)}
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				status, err := Get(ctx, client, url)
				d := time.Since(t0)
				mu.Lock()
				res.Latencies = append(res.Latencies, d)
				switch {
				case err != nil:
					res.Failed++
					if res.FirstErr == nil {
						res.FirstErr = err
					}
				case status >= 200 && status < 300:
					res.Completed++
				default:
					res.Failed++
				}
				if err == nil {
					res.Statuses[status]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

// Get sends one GET to url through client with ctx and reads the answer to the end, so the connection is
// reused. It returns the status, or the error of the request or of reading its body.
func Get(ctx context.Context, client *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// Counter is an http.Handler middleware that counts the statuses the server answered, so a test sees the
// rejections the client met (including those it retried).
type Counter struct {
	Next http.Handler

	mu       sync.Mutex
	statuses map[int]int
	total    int
}

// ServeHTTP serves with Next and counts the status.
func (c *Counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		c.mu.Lock()
		if c.statuses == nil {
			c.statuses = map[int]int{}
		}
		c.statuses[sw.status]++
		c.total++
		c.mu.Unlock()
	}()
	c.Next.ServeHTTP(sw, r)
}

// Count returns how many answers had status, and how many answers there were in all.
func (c *Counter) Count(status int) (n, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statuses[status], c.total
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}
