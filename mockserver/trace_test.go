package mockserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Random request traces, shared by the algorithm tests, the store suite and differential tests: a later store
// (Redis) replays the same trace as the memory store and must make the same decisions.

// traceOp is what one step of a trace does.
type traceOp int

const (
	opAllow   traceOp = iota // Store.Allow
	opRelease                // Store.Release (meaningful for concurrency rules)
	opInspect                // Store.Inspect
)

// traceStep is one call of a trace.
type traceStep struct {
	op    traceOp
	key   string
	costs []int64 // one per rule
	at    time.Time
}

// traceConfig shapes a random trace.
type traceConfig struct {
	steps   int
	keys    int           // distinct keys, "k0", "k1", ...
	maxCost int64         // costs are drawn from [1, maxCost]; make it above the capacity to test never-pass
	start   time.Time     // the first instant
	tick    time.Duration // the typical gap between calls (e.g. the emission interval W / L)
	// grid rounds every instant down to a multiple of grid (e.g. time.Microsecond, so that a store computing in
	// µs, as a Lua script does, decides exactly as the memory store). 0 keeps nanoseconds.
	grid     time.Duration
	releases bool // also emit Release steps (for concurrency rules)
	inspects bool // also emit Inspect steps
}

// genTrace returns a random trace for rules: instants that never go backwards, mostly in bursts (gap 0), often
// around tick, sometimes long idle periods, so that windows roll over and buckets refill.
func genTrace(rng *rand.Rand, cfg traceConfig, rules []Rule) []traceStep {
	steps := make([]traceStep, 0, cfg.steps)
	at := cfg.start
	for range cfg.steps {
		var gap time.Duration
		switch p := rng.IntN(100); {
		case p < 35: // same instant: bursts
		case p < 90:
			gap = time.Duration(rng.Int64N(int64(2*cfg.tick) + 1))
		default:
			gap = time.Duration(rng.Int64N(int64(40*cfg.tick) + 1))
		}
		at = at.Add(gap)
		if cfg.grid > 0 {
			at = time.Unix(0, at.UnixNano()/int64(cfg.grid)*int64(cfg.grid))
		}
		step := traceStep{op: opAllow, key: fmt.Sprintf("k%d", rng.IntN(cfg.keys)), at: at}
		switch p := rng.IntN(100); {
		case cfg.releases && p < 30:
			step.op = opRelease
		case cfg.inspects && p >= 90:
			step.op = opInspect
		}
		for range rules {
			c := int64(1)
			if rng.IntN(3) == 0 {
				c = 1 + rng.Int64N(cfg.maxCost)
			}
			step.costs = append(step.costs, c)
		}
		steps = append(steps, step)
	}
	return steps
}

// replayStep performs one step on s and returns its decisions (none for a release).
func replayStep(t *testing.T, s Store, rules []Rule, step traceStep) []Decision {
	t.Helper()
	ctx := context.Background()
	var (
		ds  []Decision
		err error
	)
	switch step.op {
	case opAllow:
		ds, err = s.Allow(ctx, step.key, rules, step.costs, step.at, nil)
	case opRelease:
		err = s.Release(ctx, step.key, rules, step.costs, step.at)
	case opInspect:
		ds, err = s.Inspect(ctx, step.key, rules, step.at, nil)
	}
	if err != nil {
		t.Fatalf("%v of %s at %v: %v", step.op, step.key, step.at.UnixNano(), err)
	}
	return ds
}

// diffStores replays trace through a and b and fails at the first step where their decisions differ.
func diffStores(t *testing.T, a, b Store, rules []Rule, trace []traceStep) {
	t.Helper()
	for i, step := range trace {
		da := replayStep(t, a, rules, step)
		db := replayStep(t, b, rules, step)
		if !slices.EqualFunc(da, db, sameDecision) {
			t.Fatalf("step %d (%v %s costs %v at %d):\n a: %s\n b: %s", i, step.op, step.key, step.costs,
				step.at.UnixNano(), formatDecisions(da, step.at), formatDecisions(db, step.at))
		}
	}
}

// String names the op in failure messages.
func (op traceOp) String() string {
	return [...]string{"allow", "release", "inspect"}[op]
}

// sameDecision reports whether a and b are equal, comparing Reset as an instant.
func sameDecision(a, b Decision) bool {
	return a.Allowed == b.Allowed && a.Limit == b.Limit && a.Remaining == b.Remaining && a.Reset.Equal(b.Reset) &&
		a.RetryAfter == b.RetryAfter && a.Delay == b.Delay
}

// formatDecision shows d with Reset relative to now, for failure messages.
func formatDecision(d Decision, now time.Time) string {
	return fmt.Sprintf("{allowed %v limit %d remaining %d reset +%v retry %v delay %v}",
		d.Allowed, d.Limit, d.Remaining, d.Reset.Sub(now), d.RetryAfter, d.Delay)
}

// formatDecisions shows ds with Resets relative to now.
func formatDecisions(ds []Decision, now time.Time) string {
	s := ""
	for _, d := range ds {
		s += formatDecision(d, now)
	}
	return s
}

// coreHarness drives one algorithm's pure core on one key, as a store does, but can also peek at a decision
// without committing it and clone its state: the algorithm tests use it to check what the Decision promises
// ("waiting RetryAfter makes the request pass", "Remaining more requests pass now").
type coreHarness struct {
	r     compiledRule
	st    ruleState
	found bool
}

// newCoreHarness returns a harness for a fresh key; it fails the test when the policy is invalid.
func newCoreHarness(t testing.TB, algorithm string, p Policy) *coreHarness {
	t.Helper()
	r, err := compileRule(Rule{Algorithm: algorithm, Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	return &coreHarness{r: r}
}

// peek decides a request of cost units at now without committing it.
func (h *coreHarness) peek(cost, now int64) verdict {
	var next ruleState
	return decideState(&h.r, &h.st, h.found, cost, now, &next)
}

// allow decides a request of cost units at now and commits it when allowed.
func (h *coreHarness) allow(cost, now int64) verdict {
	var next ruleState
	v := decideState(&h.r, &h.st, h.found, cost, now, &next)
	if v.allowed {
		commitState(&h.r, &h.st, &next, cost, now)
		h.found = true
	}
	return v
}

// release gives back cost units of a concurrency rule.
func (h *coreHarness) release(cost int64) {
	if h.found && h.r.alg == algConcurrency {
		h.st.a = concurrencyState{inflight: h.st.a}.release(cost).inflight
	}
}

// clone returns an independent copy (the sliding log deep-copied).
func (h *coreHarness) clone() *coreHarness {
	c := *h
	if h.st.log != nil {
		l := *h.st.log
		l.entries = slices.Clone(l.entries)
		c.st.log = &l
	}
	return &c
}

// callTrace is a random sequence of (instant, cost) for one key, instants never going backwards.
type call struct {
	at, cost int64
}

// genCalls returns n random calls from start on: bursts, gaps around tick, and idle periods.
func genCalls(rng *rand.Rand, n int, start, tick, maxCost int64) []call {
	calls := make([]call, n)
	at := start
	for i := range calls {
		switch p := rng.IntN(100); {
		case p < 35:
		case p < 90:
			at += rng.Int64N(2*tick + 1)
		default:
			at += rng.Int64N(40*tick + 1)
		}
		cost := int64(1)
		if rng.IntN(3) == 0 {
			cost = 1 + rng.Int64N(maxCost)
		}
		calls[i] = call{at: at, cost: cost}
	}
	return calls
}
