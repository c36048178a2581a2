package interop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ratekit/ratekit"
)

// Client is a contender: how it wraps the peer's transport.
type Client struct {
	Name string
	New  func(base http.RoundTripper) *http.Client
}

// The clients of the scoreboard, each with its defaults: told nothing about the policy.
var (
	RatekitClient = Client{"ratekit", func(base http.RoundTripper) *http.Client {
		return &http.Client{Transport: &ratekit.Transport{Base: base}}
	}}
	RetryableClient = Client{"retryablehttp", func(base http.RoundTripper) *http.Client {
		c := retryablehttp.NewClient()
		c.Logger = nil
		c.HTTPClient = &http.Client{Transport: base}
		return c.StandardClient()
	}}
	PlainClient = Client{"net/http", func(base http.RoundTripper) *http.Client { return &http.Client{Transport: base} }}
)

// Clients are the scoreboard's contenders, in the order of its columns.
func Clients() []Client { return []Client{RatekitClient, RetryableClient, PlainClient} }

// Result is the score of one batch.
type Result struct {
	Peer      string
	Client    string
	N         int           // requests in the batch
	Completed int           // requests that ended in a 2xx
	Elapsed   time.Duration // from the first request to the last answer
	Ideal     time.Duration // the peer's ideal time for the batch
	Sent      int           // requests that reached the server, retries included
	Rejected  int           // answers that were rejections (429 or 503)
	FirstErr  error
}

// Efficiency is the ideal time over the time the batch took (at most 1), scaled by the share of requests
// that completed: 1 is every request done as fast as the peer's policy allows.
func (r Result) Efficiency() float64 {
	if r.N == 0 || r.Elapsed <= 0 {
		return 0
	}
	return min(float64(max(r.Ideal, time.Millisecond))/float64(r.Elapsed), 1) * float64(r.Completed) / float64(r.N)
}

// RejectedShare is the share of the server's answers that were rejections.
func (r Result) RejectedShare() float64 {
	if r.Sent == 0 {
		return 0
	}
	return float64(r.Rejected) / float64(r.Sent)
}

func (r Result) String() string {
	s := fmt.Sprintf("%-34s %-13s done %3d/%-3d in %8v (ideal %8v) efficiency %.2f rejected %3d/%-3d (%4.1f%%)",
		r.Peer, r.Client, r.Completed, r.N, r.Elapsed.Round(time.Millisecond), r.Ideal.Round(time.Millisecond),
		r.Efficiency(), r.Rejected, r.Sent, 100*r.RejectedShare())
	if r.FirstErr != nil {
		s += " first error: " + r.FirstErr.Error()
	}
	return s
}

// Batch sizes: 200 requests with 8 goroutines, as in the issue; 60 against a real-time peer at 10/s, so
// that its batch stays about 5 s long.
const (
	BatchRequests     = 200
	BatchWorkers      = 8
	slowBatchRequests = 60
)

// BatchSize is how many requests the suite sends to the peer.
func BatchSize(p Peer) int {
	if !p.Virtual && p.Policy.Window/time.Duration(p.Policy.Limit) > 50*time.Millisecond {
		return slowBatchRequests
	}
	return BatchRequests
}

// RunBatch starts a fresh limiter for the peer, sends n GET requests with workers goroutines through the
// client, and scores the batch. Every time is read through time.Now: inside a synctest bubble a Virtual
// peer's batch runs in virtual time.
func RunBatch(ctx context.Context, peer Peer, client Client, n, workers int) (Result, error) {
	target, err := peer.Start(ctx)
	if err != nil {
		return Result{}, err
	}
	defer target.Close()
	counter := &statusCounter{next: target.Transport()}
	defer closeIdle(counter.next)
	hc := client.New(counter)
	defer hc.CloseIdleConnections()

	url := target.ItemURL()
	var next atomic.Int64
	var mu sync.Mutex
	res := Result{Peer: peer.Name(), Client: client.Name, N: n, Ideal: peer.Ideal(n)}
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				status, err := get(ctx, hc, url)
				mu.Lock()
				switch {
				case err != nil && res.FirstErr == nil:
					res.FirstErr = err
				case err == nil && status >= 200 && status < 300:
					res.Completed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Sent, res.Rejected = counter.counts()
	return res, nil
}

func get(ctx context.Context, c *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode, nil
}

func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// statusCounter counts, below the client, every answer the server gave and the rejections among them.
type statusCounter struct {
	next http.RoundTripper

	mu       sync.Mutex
	sent     int // guarded by mu
	rejected int // guarded by mu
}

var _ http.RoundTripper = (*statusCounter)(nil)

func (c *statusCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.sent++
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		c.rejected++
	}
	c.mu.Unlock()
	return resp, nil
}

func (c *statusCounter) counts() (sent, rejected int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.rejected
}
