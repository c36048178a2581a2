// Package scoreboard runs one batch of requests through a client against a mock server of a given
// algorithm and header dialect, and scores it: did every request complete, how close to the quota's ideal
// time it finished (goodput), how many requests the server rejected, how long the slowest waited. The
// contract tests run it for every cell in virtual time; examples/compare runs it for several clients.
package scoreboard

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/ratekit/ratekit/internal/ctxsleep"
	"github.com/ratekit/ratekit/internal/harness/batch"
	"github.com/ratekit/ratekit/internal/harness/oracle"
	"github.com/ratekit/ratekit/internal/memtransport"
	"github.com/ratekit/ratekit/mockserver"
)

// Cell is one kind of server, and the batch sent to it.
type Cell struct {
	Name      string // for reports; empty: algorithm/dialect
	Algorithm string
	Dialect   string
	Policy    mockserver.Policy
	N         int           // requests
	Workers   int           // goroutines sending them
	Latency   time.Duration // one way, network
	Faults    mockserver.Faults
	// Config, when set, replaces the one-rule server the fields above describe (tiers, costs); Ideal then
	// gives the ideal time.
	Config *mockserver.Config
	Ideal  time.Duration
	// Header adds headers to every request (an API key, a cost).
	Header http.Header
	// Profile, when set, makes the one-rule server imitate a public limiter (mockserver.Profiles): the
	// profile fixes the algorithm and dialect, so Algorithm and Dialect are ignored.
	Profile string
	// RejectStatus is the status of the one-rule server's rejections (0: the profile's, else 429).
	RejectStatus int
	// Phase is how long after the server is built the batch starts: a sub-second phase puts the client's
	// first request off the server's whole seconds and windows.
	Phase time.Duration
}

// Label names the cell.
func (c Cell) Label() string {
	if c.Name != "" {
		return c.Name
	}
	if c.Profile != "" {
		return "profile " + c.Profile
	}
	return c.Algorithm + "/" + c.Dialect
}

// Result is the score of one batch.
type Result struct {
	Cell      Cell
	Completed int           // requests that ended in a 2xx
	Elapsed   time.Duration // first request to last answer
	Ideal     time.Duration // the quota's ideal time for the batch
	Hits      int           // requests the server answered, retries included
	Rejected  int           // answers that were rate-limit rejections (429, or the configured status)
	P99       time.Duration // the 99th percentile of request latency
	P99Extra  time.Duration // P99 less the time the network and the server take: the waiting
	MaxWait   time.Duration // the slowest request
	FirstErr  error
}

// Goodput is how close to the ideal the batch finished (ideal time over elapsed time, at most 1), scaled by
// the share of requests that completed: 1 is every request done as fast as the quota allows; a client that
// gives up on a third of its requests scores at most 2/3, however fast it gave up.
func (r Result) Goodput() float64 {
	if r.Elapsed <= 0 || r.Cell.N == 0 {
		return 0
	}
	ideal := max(r.Ideal, time.Millisecond)
	return min(float64(ideal)/float64(r.Elapsed), 1) * float64(r.Completed) / float64(r.Cell.N)
}

// RejectedShare is the share of the server's answers that were rejections.
func (r Result) RejectedShare() float64 {
	if r.Hits == 0 {
		return 0
	}
	return float64(r.Rejected) / float64(r.Hits)
}

func (r Result) String() string {
	return fmt.Sprintf("%-44s done %4d/%-4d in %9v (ideal %9v) goodput %.3f rejected %3d/%-4d (%.1f%%) p99 %v",
		r.Cell.Label(), r.Completed, r.Cell.N, r.Elapsed.Round(time.Millisecond), r.Ideal.Round(time.Millisecond),
		r.Goodput(), r.Rejected, r.Hits, 100*r.RejectedShare(), r.P99.Round(time.Millisecond))
}

// Run sends the cell's batch through the client that newClient makes over the in-memory network to a
// fresh mock server, and scores it. It reads the clock through time.Now, so inside a testing/synctest bubble
// the batch runs in virtual time.
func Run(ctx context.Context, c Cell, newClient func(base http.RoundTripper) *http.Client) (Result, error) {
	cfg := mockserver.Config{
		Dialect:     c.Dialect,
		Tiers:       []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{{Name: "minute", Algorithm: c.Algorithm, Policy: c.Policy}}}},
		DefaultTier: "default",
		Faults:      c.Faults,
	}
	cfg.RejectStatus = c.RejectStatus
	if c.Profile != "" && c.Config == nil {
		cfg.Dialect = ""
		cfg.Profile = c.Profile
		cfg.Tiers[0].Rules[0].Algorithm = ""
	}
	if c.Config != nil {
		cfg = *c.Config
	}
	built := time.Now()
	h, err := mockserver.NewHandler(cfg)
	if err != nil {
		return Result{}, err
	}
	if cfg, err = mockserver.ResolveProfile(cfg); err != nil { // the status and rule the profile stands for
		return Result{}, err
	}
	if err := ctxsleep.Sleep(ctx, c.Phase); err != nil {
		return Result{}, err
	}
	rejectStatus := cfg.RejectStatus
	if rejectStatus == 0 {
		rejectStatus = http.StatusTooManyRequests
	}
	counter := &batch.Counter{Next: h}
	var base http.RoundTripper = &memtransport.Transport{Handler: counter, Latency: c.Latency}
	if len(c.Header) > 0 {
		base = withHeader{base, c.Header}
	}
	start := time.Now()
	ideal := c.Ideal
	switch {
	case c.Config == nil && c.Algorithm == mockserver.Concurrency:
		// A client that keeps the limit in flight: each request holds a slot for the server's time,
		// after the one-way latency.
		ideal = time.Duration(c.N) * (c.Faults.Latency + c.Latency) / time.Duration(max(c.Policy.Limit, 1))
	case c.Config == nil:
		// Injected errors count against the quota: the ideal batch spends units on them too.
		units := int(math.Ceil(float64(c.N) / (1 - c.Faults.ErrorRate - c.Faults.DropRate)))
		if ideal, err = oracle.IdealTimeRule(cfg.Tiers[0].Rules[0], units, start, built); err != nil {
			return Result{}, err
		}
	}
	res := batch.Run(ctx, newClient(base), "http://api.test/items", c.N, c.Workers)
	rejected, hits := counter.Count(rejectStatus)
	lat := slices.Clone(res.Latencies)
	slices.Sort(lat)
	r := Result{Cell: c, Completed: res.Completed, Elapsed: res.Elapsed, Ideal: ideal, Hits: hits, Rejected: rejected, FirstErr: res.FirstErr}
	if len(lat) > 0 {
		r.P99 = lat[(len(lat)*99)/100]
		r.MaxWait = lat[len(lat)-1]
	}
	r.P99Extra = max(r.P99-c.Latency-c.Faults.Latency, 0)
	return r, nil
}

// withHeader adds headers to every request (on a copy).
type withHeader struct {
	rt http.RoundTripper
	h  http.Header
}

func (w withHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range w.h {
		r.Header[k] = v
	}
	return w.rt.RoundTrip(r)
}
