package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/mockserver"
)

// apiKey is the one API key the whole fleet uses.
const apiKey = "fleet-demo-key"

// result is what one run of the fleet measured: at the workers, and at the server.
type result struct {
	requests, completed int
	wall                time.Duration
	arrivals, rejected  int // requests that reached the server (retries included), and its 429s
	busiest             int // the most requests that reached the server in one window of the quota
	firstErr            error
}

// runFleet starts a fresh mock server and sends it o.requests requests from each of o.members workers (each
// its own ratekit.Transport, as separate processes would have, with o.concurrency goroutines), sharing the
// quota through limiter(i) for member i (nil: each paces alone). done releases what limiter made.
func runFleet(ctx context.Context, o *options, limiter func(member int) ratekit.Limiter) (result, error) {
	h, err := mockserver.NewHandler(mockserver.Config{
		Key:     mockserver.KeyAPIKey,
		Dialect: mockserver.DialectXRateLimit,
		Tiers: []mockserver.Tier{{Name: "fleet", Rules: []mockserver.Rule{{
			Name: "quota", Algorithm: o.algorithm, Policy: mockserver.Policy{Limit: o.limit, Window: o.window},
		}}}},
	})
	if err != nil {
		return result{}, err
	}
	server := &countingHandler{next: h, window: o.window, perWin: map[int64]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	srv := &http.Server{Handler: server, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		_ = srv.Close()
		<-served
	}()
	url := "http://" + ln.Addr().String() + "/v1/items"

	var (
		completed atomic.Int64
		mu        sync.Mutex
		firstErr  error
		wg        sync.WaitGroup
	)
	start := time.Now()
	for m := range o.members {
		base := &http.Transport{MaxIdleConnsPerHost: o.concurrency}
		defer base.CloseIdleConnections()
		client := &http.Client{Transport: &ratekit.Transport{
			Base:    base,
			KeyFunc: ratekit.KeyByAPIKey,
			Limiter: limiter(m),
			MaxWait: time.Minute,
		}}
		var next atomic.Int64
		for range o.concurrency {
			wg.Go(func() {
				for next.Add(1) <= int64(o.requests) {
					if err := get(ctx, client, url); err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						continue
					}
					completed.Add(1)
				}
			})
		}
	}
	wg.Wait()
	arrivals, rejected, busiest := server.counts()
	return result{
		requests:  o.members * o.requests,
		completed: int(completed.Load()),
		wall:      time.Since(start),
		arrivals:  arrivals,
		rejected:  rejected,
		busiest:   busiest,
		firstErr:  firstErr,
	}, nil
}

// get sends one request with the fleet's API key and reads the answer; anything but 200 is an error.
func get(ctx context.Context, client *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", apiKey)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New("status " + resp.Status)
	}
	return nil
}

// countingHandler counts the requests that reach the server, the rejected ones, and the requests in each
// window of the quota (aligned to the Unix epoch, as the server's fixed windows are).
type countingHandler struct {
	next     http.Handler
	window   time.Duration
	rejected atomic.Int64

	mu       sync.Mutex
	arrivals int
	perWin   map[int64]int // guarded by mu: arrivals per window start (Unix ns)
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now().UnixNano() / int64(c.window) * int64(c.window)
	c.mu.Lock()
	c.arrivals++
	c.perWin[start]++
	c.mu.Unlock()
	c.next.ServeHTTP(&statusWatcher{ResponseWriter: w, onReject: func() { c.rejected.Add(1) }}, r)
}

// counts returns the arrivals, the rejections, and the most arrivals in one window.
func (c *countingHandler) counts() (arrivals, rejected, busiest int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.perWin {
		busiest = max(busiest, n)
	}
	return c.arrivals, int(c.rejected.Load()), busiest
}

// statusWatcher calls onReject when the handler answers 429.
type statusWatcher struct {
	http.ResponseWriter
	onReject func()
}

func (w *statusWatcher) WriteHeader(code int) {
	if code == http.StatusTooManyRequests {
		w.onReject()
	}
	w.ResponseWriter.WriteHeader(code)
}

// quota describes the quota for the header.
func (o *options) quota() string {
	return fmt.Sprintf("%s, %d requests per %v (%.0f/s)", o.algorithm, o.limit, o.window, o.rate())
}

// rate is the quota in requests per second.
func (o *options) rate() float64 { return float64(o.limit) / o.window.Seconds() }
