package contract_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/harness/oracle"
	"github.com/ratekit/ratekit/internal/harness/scoreboard"
	"github.com/ratekit/ratekit/mockserver"
)

// The contract, tested from both sides: every server-side algorithm, in every header dialect, against a
// ratekit Transport that is told nothing about the policy. Each cell sends a batch through the mock server's
// real handler over an in-memory network, in virtual time, and must complete every request close to the
// quota's ideal time with almost no rejections.

// bounds is what a cell must achieve.
type bounds struct {
	minGoodput     float64
	maxRejected    float64 // share of the server's answers
	noRejections   bool
	completeAlways bool
}

var (
	headerBounds = bounds{minGoodput: 0.95, maxRejected: 0.01, completeAlways: true}
	// A silent server must first be found by probing, and pacing cannot use a window's burst it does not
	// know of: windows measure 0.75 to 0.78 at about 3-4% rejected, buckets 0.99 at about 2%.
	silentBounds = bounds{minGoodput: 0.7, maxRejected: 0.05, completeAlways: true}
	// A silent server that limits requests in flight is paced by rate, the only thing rejections can
	// teach: the rate it finds first is far below what the slots allow, and it has to climb (0.43 to 0.9).
	silentConcurrencyBounds = bounds{minGoodput: 0.4, maxRejected: 0.05, completeAlways: true}
)

func contractCells() []scoreboard.Cell {
	var cells []scoreboard.Cell
	for _, alg := range mockserver.Algorithms() {
		for _, dialect := range mockserver.Dialects() {
			c := scoreboard.Cell{
				Algorithm: alg, Dialect: dialect,
				Policy: mockserver.Policy{Limit: 100, Window: time.Minute},
				N:      800, Workers: 8, Latency: 10 * time.Millisecond,
			}
			if alg == mockserver.Concurrency {
				// 4 in flight, each held 50 ms by the server: 80 requests a second at best.
				c.Policy = mockserver.Policy{Limit: 4}
				c.Faults = mockserver.Faults{Latency: 50 * time.Millisecond}
			}
			cells = append(cells, c)
		}
	}
	return cells
}

func cellBounds(c scoreboard.Cell) bounds {
	b := headerBounds
	if c.Dialect == mockserver.DialectNone {
		b = silentBounds
		if c.Algorithm == mockserver.Concurrency {
			b = silentConcurrencyBounds
		}
	}
	if c.Algorithm == mockserver.LeakyBucketQueue {
		b.noRejections = true // the queue delays instead of rejecting: the client must never fill it
	}
	return b
}

func ratekitClient(base http.RoundTripper) *http.Client {
	return &http.Client{Transport: &ratekit.Transport{Base: base, MaxWait: time.Hour}}
}

// sixErrorRetries is ratekitClient retrying errors 6 times, not 3.
func sixErrorRetries(base http.RoundTripper) *http.Client {
	return &http.Client{Transport: &ratekit.Transport{Base: base, MaxWait: time.Hour, MaxErrorRetries: 6}}
}

func TestContractMatrix(t *testing.T) {
	for _, c := range contractCells() {
		t.Run(c.Label(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, err := scoreboard.Run(context.Background(), c, ratekitClient)
				if err != nil {
					t.Fatal(err)
				}
				t.Log(r)
				checkMatrixCell(t, r, cellBounds(c))
			})
		})
	}
}

func checkBounds(t *testing.T, r scoreboard.Result, b bounds) {
	t.Helper()
	if b.completeAlways && r.Completed != r.Cell.N {
		t.Errorf("%d of %d requests completed (first error: %v)", r.Completed, r.Cell.N, r.FirstErr)
	}
	if g := r.Goodput(); g < b.minGoodput {
		t.Errorf("goodput %.3f, want >= %.2f", g, b.minGoodput)
	}
	if s := r.RejectedShare(); s > b.maxRejected || (b.noRejections && r.Rejected > 0) {
		t.Errorf("%d of %d answers were rejections (%.1f%%), want at most %.0f%%", r.Rejected, r.Hits, 100*s, 100*b.maxRejected)
	}
}

// The cells beyond the matrix: tiers, costs, and servers that misbehave.
func TestContractExtraCells(t *testing.T) {
	minute := mockserver.Policy{Limit: 200, Window: time.Minute}
	tiers := &mockserver.Config{
		Key: mockserver.KeyAPIKey, Dialect: mockserver.DialectIETF,
		Tiers: []mockserver.Tier{
			{Name: "free", Rules: []mockserver.Rule{{Name: "minute", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 20, Window: time.Minute}}}},
			{Name: "pro", Keys: []string{"pro-key"}, Rules: []mockserver.Rule{
				{Name: "minute", Algorithm: mockserver.TokenBucket, Policy: minute},
				{Name: "day", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 100000, Window: 24 * time.Hour}},
			}},
		},
		DefaultTier: "free",
	}
	costs := &mockserver.Config{
		Dialect: mockserver.DialectXRateLimit,
		Tiers: []mockserver.Tier{{Name: "t", Rules: []mockserver.Rule{
			{Name: "minute", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 1000, Window: time.Minute}},
		}}},
		DefaultTier: "t",
		Routes:      []mockserver.Route{{Pattern: "/items", Cost: 5}},
	}
	idealOf := func(alg string, p mockserver.Policy, n int) time.Duration {
		d, err := oracle.IdealTime(alg, p, n, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	type extra struct {
		cell   scoreboard.Cell
		client func(http.RoundTripper) *http.Client
		bounds bounds
	}
	base := scoreboard.Cell{Algorithm: mockserver.GCRA, Dialect: mockserver.DialectGitHub, Policy: minute, N: 800, Workers: 8, Latency: 10 * time.Millisecond}
	with := func(name string, f func(*scoreboard.Cell)) scoreboard.Cell {
		c := base
		c.Name = name
		f(&c)
		return c
	}
	for _, x := range []extra{
		{with("tiers: pro key, minute and day", func(c *scoreboard.Cell) {
			c.Config, c.Ideal = tiers, idealOf(mockserver.TokenBucket, minute, c.N)
			c.Header = http.Header{"X-Api-Key": {"pro-key"}}
		}), ratekitClient, headerBounds},
		{with("costs: a route costs 5, told by CostFunc", func(c *scoreboard.Cell) {
			c.Config, c.Ideal = costs, idealOf(mockserver.FixedWindow, mockserver.Policy{Limit: 200, Window: time.Minute}, c.N)
		}), func(base http.RoundTripper) *http.Client {
			return &http.Client{Transport: &ratekit.Transport{Base: base, MaxWait: time.Hour, CostFunc: func(r *http.Request, dim string) int64 {
				if r.URL.Path == "/items" {
					return 5
				}
				return ratekit.DefaultCost(r, dim)
			}}}
		}, headerBounds},
		// A burst smaller than the limit: the reset says when the burst is full again, not the limit.
		{with("token-bucket, burst 10 of 200, ietf", func(c *scoreboard.Cell) {
			c.Algorithm, c.Dialect, c.Policy.Burst = mockserver.TokenBucket, mockserver.DialectIETF, 10
		}), ratekitClient, headerBounds},
		{with("token-bucket, burst 10 of 200, x-ratelimit", func(c *scoreboard.Cell) {
			c.Algorithm, c.Dialect, c.Policy.Burst = mockserver.TokenBucket, mockserver.DialectXRateLimit, 10
		}), ratekitClient, headerBounds},
		{with("gcra, burst 10 of 200, github", func(c *scoreboard.Cell) {
			c.Policy.Burst = 10
		}), ratekitClient, headerBounds},
		{with("gcra, burst 10 of 200, openai", func(c *scoreboard.Cell) {
			c.Dialect, c.Policy.Burst = mockserver.DialectOpenAI, 10
		}), ratekitClient, headerBounds},
		// Every request must complete in the two cells of 5% errors, so the client retries errors 6 times: with
		// the default 3, four errors in a row for one request (0.05^4 = 6e-6 a request) lose one of the 800 in
		// about one batch in 150 (the interleaving of the 8 workers decides which request draws which fault:
		// 3 in 300 runs of the 503 cell); with 6, one in 2 million.
		{with("faults: 5% of answers are 500s", func(c *scoreboard.Cell) {
			c.Faults = mockserver.Faults{Seed: 1, ErrorRate: 0.05}
		}), sixErrorRetries, bounds{minGoodput: 0.9, maxRejected: 0.01, completeAlways: true}},
		{with("faults: 5% are 503s, x-ratelimit", func(c *scoreboard.Cell) {
			c.Dialect, c.Algorithm = mockserver.DialectXRateLimit, mockserver.FixedWindow
			c.Faults = mockserver.Faults{Seed: 2, ErrorRate: 0.05, ErrorStatus: 503}
		}), sixErrorRetries, bounds{minGoodput: 0.9, maxRejected: 0.01, completeAlways: true}},
		{with("faults: the server's clock is 5 minutes ahead", func(c *scoreboard.Cell) {
			c.Faults = mockserver.Faults{ClockSkew: 5 * time.Minute}
		}), ratekitClient, headerBounds},
		{with("faults: the server's clock is an hour behind, fixed window", func(c *scoreboard.Cell) {
			c.Algorithm = mockserver.FixedWindow
			c.Faults = mockserver.Faults{ClockSkew: -time.Hour}
		}), ratekitClient, headerBounds},
		{with("faults: resets in milliseconds, pinned", func(c *scoreboard.Cell) {
			c.Dialect = mockserver.DialectXRateLimit
			c.Faults = mockserver.Faults{ResetAs: "delta-ms"}
		}), func(base http.RoundTripper) *http.Client {
			return &http.Client{Transport: &ratekit.Transport{Base: base, MaxWait: time.Hour,
				ResetFormats: map[string]ratekit.ResetFormat{"api.test": ratekit.ResetDelayMilliseconds}}}
		}, headerBounds},
		{with("faults: resets in epoch seconds where delays are expected", func(c *scoreboard.Cell) {
			c.Dialect, c.Algorithm = mockserver.DialectIETFLegacy, mockserver.FixedWindow
			c.Faults = mockserver.Faults{ResetAs: "epoch"}
		}), ratekitClient, headerBounds},
		// Unpinned, a reset of 300 ms reads as 300 s: ratekit paces far too slowly (0.2 of the ideal) but
		// never into rejections. A rejection's Retry-After would reveal the unit; none comes.
		{with("faults: resets in milliseconds, not pinned", func(c *scoreboard.Cell) {
			c.Dialect = mockserver.DialectXRateLimit
			c.Faults = mockserver.Faults{ResetAs: "delta-ms"}
		}), ratekitClient, bounds{minGoodput: 0.15, maxRejected: 0.01, completeAlways: true}},
		// A fixed window whose resets are milliseconds: the first window's refill, a thousand times too
		// slow, costs minutes; then the one rejection that shows the window fixed also shows, through its
		// Retry-After, that the resets are milliseconds, and the rest is paced right.
		{with("faults: fixed window, resets in milliseconds, not pinned", func(c *scoreboard.Cell) {
			c.Dialect, c.Algorithm = mockserver.DialectXRateLimit, mockserver.FixedWindow
			c.Faults = mockserver.Faults{ResetAs: "delta-ms"}
		}), ratekitClient, bounds{minGoodput: 0.2, maxRejected: 0.01, completeAlways: true}},
	} {
		t.Run(x.cell.Label(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, err := scoreboard.Run(context.Background(), x.cell, x.client)
				if err != nil {
					t.Fatal(err)
				}
				t.Log(r)
				checkBounds(t, r, x.bounds)
			})
		})
	}
}
