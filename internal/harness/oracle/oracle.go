// Package oracle computes the ideal time of a batch against a rate limit: how long a client that knows
// the server's algorithm and policy exactly needs to get n requests served, sending each the instant the
// server would take it. Goodput is that ideal time over the time a real client took.
package oracle

import (
	"context"
	"fmt"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// IdealTime is how long after start the n-th request of cost 1 is served by a fresh key of algorithm with
// policy p, for a client that sends each request at the first instant the server accepts it, with no
// network latency. For the queue it includes the last request's delay; for concurrency, whose limit is on
// requests in flight and not over time, it is 0.
func IdealTime(algorithm string, p mockserver.Policy, n int, start time.Time) (time.Duration, error) {
	if _, err := mockserver.NewLimiter(algorithm, p); err != nil { // its errors name the bad field
		return 0, err
	}
	return IdealTimeRule(mockserver.Rule{Algorithm: algorithm, Policy: p}, n, start, start)
}

// IdealTimeRule is IdealTime for one rule with its options (anchor, counting of rejections, rounded estimate),
// as a profile resolves them: how long after start the n-th request of cost 1 is served by a fresh key. A rule
// anchored with AnchorStart has its windows aligned to built, the instant the server was built.
func IdealTimeRule(r mockserver.Rule, n int, start, built time.Time) (time.Duration, error) {
	if r.Algorithm == mockserver.Concurrency || n <= 0 {
		return 0, nil
	}
	if r.Anchor == mockserver.AnchorStart {
		r.Anchor = mockserver.AnchorEpoch
		if r.Policy.Window > 0 {
			r.AnchorOffset = time.Duration((built.UnixNano() + int64(r.AnchorOffset)) % int64(r.Policy.Window))
		}
	}
	if r.Name == "" {
		r.Name = "rule"
	}
	store := mockserver.NewMemoryStore()
	rules, costs := []mockserver.Rule{r}, []int64{1}
	now, served := start, 0
	var last time.Time
	var ds []mockserver.Decision
	for served < n {
		var err error
		if ds, err = store.Allow(context.Background(), "k", rules, costs, now, ds[:0]); err != nil {
			return 0, fmt.Errorf("oracle: %w", err)
		}
		switch d := ds[0]; {
		case d.Allowed:
			served++
			last = now.Add(d.Delay)
		case d.RetryAfter > 0:
			now = now.Add(d.RetryAfter)
		default:
			return 0, fmt.Errorf("oracle: %s %+v never serves a request of cost 1", r.Algorithm, r.Policy)
		}
	}
	return last.Sub(start), nil
}
