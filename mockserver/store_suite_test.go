package mockserver

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// testStoreSuite checks the Store contract through the interface only, so that every store (memory, Redis)
// runs the same suite. newStore returns a new, empty store; it may register cleanups on t.
//
// Every policy here has an emission interval W / L that is a whole number of µs and every instant is on a µs
// grid, so a store that computes in µs (a Lua script with float64 numbers) must decide exactly as the memory
// store; ALGORITHMS.md's 1 µs tolerance is never needed.
func testStoreSuite(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("EveryAlgorithmMatchesNewLimiter", func(t *testing.T) { storeMatchesLimiter(t, newStore(t)) })
	t.Run("CheckAllThenCommit", func(t *testing.T) { storeCheckAllThenCommit(t, newStore(t)) })
	t.Run("PerRuleCosts", func(t *testing.T) { storePerRuleCosts(t, newStore(t)) })
	t.Run("Release", func(t *testing.T) { storeRelease(t, newStore(t)) })
	t.Run("InspectHasNoSideEffects", func(t *testing.T) { storeInspectHasNoSideEffects(t, newStore(t), newStore(t)) })
	t.Run("ResetOneKey", func(t *testing.T) { storeResetOneKey(t, newStore(t)) })
	t.Run("ResetAllKeys", func(t *testing.T) { storeResetAllKeys(t, newStore(t)) })
	t.Run("Len", func(t *testing.T) { storeLen(t, newStore(t)) })
	t.Run("BadInput", func(t *testing.T) { storeBadInput(t, newStore(t)) })
	t.Run("TierInvariants", func(t *testing.T) { storeTierInvariants(t, newStore(t)) })
	t.Run("MatchesMemoryStore", func(t *testing.T) {
		diffStores(t, newStore(t), newMemoryStore(1, DefaultMemoryStoreCapacity), suiteTier, suiteTrace(3))
	})
	t.Run("ConcurrentUse", func(t *testing.T) { storeConcurrentUse(t, newStore(t)) })
	t.Run("ConcurrentInFlight", func(t *testing.T) { storeConcurrentInFlight(t, newStore(t)) })
	t.Run("WindowOptions", func(t *testing.T) { testStoreWindowOptions(t, newStore) })
}

// tMinute is a whole minute since the Unix epoch: minute windows start there.
var tMinute = time.Unix(1_700_000_040, 0)

// storePolicy returns, for algorithm, a policy whose W / L is a whole number of µs (250 ms).
func storePolicy(algorithm string) Policy {
	switch parseAlgorithm(algorithm) {
	case algConcurrency:
		return Policy{Limit: 3}
	case algTokenBucket, algLeakyBucket, algGCRA, algLeakyBucketQueue:
		return Policy{Limit: 4, Window: time.Second, Burst: 6}
	}
	return Policy{Limit: 4, Window: time.Second}
}

// suiteTier is a tier mixing algorithms, for the random traces.
var suiteTier = []Rule{
	{Name: "second", Algorithm: SlidingWindowCounter, Policy: Policy{Limit: 5, Window: time.Second}},
	{Name: "burst", Algorithm: GCRA, Policy: Policy{Limit: 4, Window: time.Second, Burst: 3}},
	{Name: "minute", Algorithm: FixedWindow, Policy: Policy{Limit: 40, Window: time.Minute}},
	{Name: "log", Algorithm: SlidingWindowLog, Policy: Policy{Limit: 8, Window: 2 * time.Second}},
	{Name: "tokens", Algorithm: TokenBucket, Policy: Policy{Limit: 100, Window: time.Second, Burst: 200}, Dimension: "tokens"},
	{Name: "inflight", Algorithm: Concurrency, Policy: Policy{Limit: 2}},
}

// suiteTrace returns a random trace for suiteTier on a µs grid.
func suiteTrace(seed uint64) []traceStep {
	rng := rand.New(rand.NewPCG(seed, 99))
	return genTrace(rng, traceConfig{steps: 2000, keys: 4, maxCost: 6, start: tMinute, tick: 100 * time.Millisecond,
		grid: time.Microsecond, releases: true, inspects: true}, suiteTier)
}

// mustAllow calls s.Allow and fails the test on an error.
func mustAllow(t *testing.T, s Store, key string, rules []Rule, costs []int64, now time.Time) []Decision {
	t.Helper()
	ds, err := s.Allow(context.Background(), key, rules, costs, now, nil)
	if err != nil {
		t.Fatalf("Allow(%s, %v, %v): %v", key, costs, now, err)
	}
	return ds
}

// mustInspect calls s.Inspect and fails the test on an error.
func mustInspect(t *testing.T, s Store, key string, rules []Rule, now time.Time) []Decision {
	t.Helper()
	ds, err := s.Inspect(context.Background(), key, rules, now, nil)
	if err != nil {
		t.Fatalf("Inspect(%s, %v): %v", key, now, err)
	}
	return ds
}

// mustLen calls s.Len and fails the test on an error.
func mustLen(t *testing.T, s Store) int {
	t.Helper()
	n, err := s.Len(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkDecision fails the test unless got has the given fields (Reset relative to base).
func checkDecision(t *testing.T, what string, got Decision, ok bool, remaining int64, reset time.Time, retry time.Duration) {
	t.Helper()
	if got.Allowed != ok || got.Remaining != remaining || !got.Reset.Equal(reset) || got.RetryAfter != retry {
		t.Errorf("%s: got %s; want allowed %v remaining %d reset %v retry %v", what, formatDecision(got, tMinute),
			ok, remaining, reset.Sub(tMinute), retry)
	}
}

// storeMatchesLimiter: for every algorithm, a store with that one rule decides a random trace exactly as
// NewLimiter does.
func storeMatchesLimiter(t *testing.T, s Store) {
	for i, alg := range Algorithms() {
		rules := []Rule{{Name: "only-" + alg, Algorithm: alg, Policy: storePolicy(alg)}}
		l, err := NewLimiter(alg, rules[0].Policy)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 5))
		trace := genTrace(rng, traceConfig{steps: 1000, keys: 3, maxCost: rules[0].Policy.Capacity(alg) + 1,
			start: tMinute, tick: 250 * time.Millisecond, grid: time.Microsecond, releases: alg == Concurrency}, rules)
		for j, step := range trace {
			got := replayStep(t, s, rules, step)
			if step.op == opRelease {
				l.(Releaser).Release(step.key, step.costs[0], step.at)
				continue
			}
			if want := l.Allow(step.key, step.costs[0], step.at); len(got) != 1 || !sameDecision(got[0], want) {
				t.Fatalf("%s step %d (%s cost %d at +%v): store %s, NewLimiter %s", alg, j, step.key, step.costs[0],
					step.at.Sub(tMinute), formatDecisions(got, step.at), formatDecision(want, step.at))
			}
		}
	}
}

// storeCheckAllThenCommit: a request passes only if every rule passes, and a rejection consumes nothing in the
// rules that would have passed.
func storeCheckAllThenCommit(t *testing.T, s Store) {
	rules := []Rule{
		{Name: "minute", Algorithm: FixedWindow, Policy: Policy{Limit: 3, Window: time.Minute}},
		{Name: "burst", Algorithm: TokenBucket, Policy: Policy{Limit: 1, Window: time.Second, Burst: 2}},
	}
	end := tMinute.Add(time.Minute)
	ones := []int64{1, 1}
	ds := mustAllow(t, s, "k", rules, ones, tMinute)
	checkDecision(t, "1st minute", ds[0], true, 2, end, 0)
	checkDecision(t, "1st burst", ds[1], true, 1, tMinute.Add(time.Second), 0)
	ds = mustAllow(t, s, "k", rules, ones, tMinute)
	checkDecision(t, "2nd minute", ds[0], true, 1, end, 0)
	checkDecision(t, "2nd burst", ds[1], true, 0, tMinute.Add(2*time.Second), 0)
	// The burst rejects: the minute rule would pass, reports so, and is not charged.
	ds = mustAllow(t, s, "k", rules, ones, tMinute)
	checkDecision(t, "3rd minute", ds[0], true, 1, end, 0)
	checkDecision(t, "3rd burst", ds[1], false, 0, tMinute.Add(2*time.Second), time.Second)
	// One token later: passes, and the minute rule has exactly one unit left to give.
	ds = mustAllow(t, s, "k", rules, ones, tMinute.Add(time.Second))
	checkDecision(t, "4th minute", ds[0], true, 0, end, 0)
	checkDecision(t, "4th burst", ds[1], true, 0, tMinute.Add(3*time.Second), 0)
	// The minute rejects: the burst rule keeps its refilled token.
	now := tMinute.Add(2 * time.Second)
	ds = mustAllow(t, s, "k", rules, ones, now)
	checkDecision(t, "5th minute", ds[0], false, 0, end, end.Sub(now))
	checkDecision(t, "5th burst", ds[1], true, 1, tMinute.Add(3*time.Second), 0)
	ds = mustInspect(t, s, "k", rules, now)
	checkDecision(t, "inspect burst", ds[1], true, 0, tMinute.Add(4*time.Second), 0) // as if it took the token
}

// storePerRuleCosts: each rule is charged its own cost (requests and tokens).
func storePerRuleCosts(t *testing.T, s Store) {
	rules := []Rule{
		{Name: "requests", Algorithm: FixedWindow, Policy: Policy{Limit: 10, Window: time.Minute}},
		{Name: "tokens", Algorithm: FixedWindow, Policy: Policy{Limit: 1000, Window: time.Minute}, Dimension: "tokens"},
	}
	end := tMinute.Add(time.Minute)
	ds := mustAllow(t, s, "k", rules, []int64{1, 400}, tMinute)
	checkDecision(t, "requests", ds[0], true, 9, end, 0)
	checkDecision(t, "tokens", ds[1], true, 600, end, 0)
	ds = mustAllow(t, s, "k", rules, []int64{1, 700}, tMinute)
	checkDecision(t, "requests after too many tokens", ds[0], true, 9, end, 0)
	checkDecision(t, "too many tokens", ds[1], false, 600, end, time.Minute)
	ds = mustAllow(t, s, "k", rules, []int64{1, 600}, tMinute)
	checkDecision(t, "requests", ds[0], true, 8, end, 0)
	checkDecision(t, "all tokens", ds[1], true, 0, end, 0)
	ds = mustAllow(t, s, "k", rules, []int64{1, 1001}, tMinute)
	checkDecision(t, "tokens above the limit (never)", ds[1], false, 0, end, 0)
}

// storeRelease: Release gives back concurrency units, ignores other rules, and never goes below zero.
func storeRelease(t *testing.T, s Store) {
	ctx := context.Background()
	rules := []Rule{
		{Name: "inflight", Algorithm: Concurrency, Policy: Policy{Limit: 2}},
		{Name: "minute", Algorithm: FixedWindow, Policy: Policy{Limit: 100, Window: time.Minute}},
	}
	end := tMinute.Add(time.Minute)
	ones := []int64{1, 1}
	mustAllow(t, s, "k", rules, ones, tMinute)
	mustAllow(t, s, "k", rules, ones, tMinute)
	ds := mustAllow(t, s, "k", rules, ones, tMinute)
	checkDecision(t, "third in flight", ds[0], false, 0, tMinute, 0)
	checkDecision(t, "minute after the rejection", ds[1], true, 98, end, 0)
	if err := s.Release(ctx, "k", rules, ones, tMinute); err != nil {
		t.Fatal(err)
	}
	ds = mustInspect(t, s, "k", rules, tMinute)
	checkDecision(t, "inflight after a release", ds[0], true, 0, tMinute, 0)
	checkDecision(t, "minute unchanged by Release", ds[1], true, 97, end, 0)
	if err := s.Release(ctx, "k", rules, []int64{5, 1}, tMinute); err != nil { // more than held
		t.Fatal(err)
	}
	ds = mustAllow(t, s, "k", rules, []int64{2, 1}, tMinute)
	checkDecision(t, "inflight after releasing everything", ds[0], true, 0, tMinute, 0)
	if err := s.Release(ctx, "never-seen", rules, ones, tMinute); err != nil {
		t.Fatal(err)
	}
}

// storeInspectHasNoSideEffects: for every algorithm, Inspect at any instant changes nothing: a store that was
// inspected decides exactly as a twin that was not, and Inspect creates no state.
func storeInspectHasNoSideEffects(t *testing.T, s, twin Store) {
	for _, alg := range Algorithms() {
		rules := []Rule{{Name: alg, Algorithm: alg, Policy: storePolicy(alg)}}
		costs := []int64{2}
		for _, st := range []Store{s, twin} {
			mustAllow(t, st, "k", rules, costs, tMinute)
			mustAllow(t, st, "k", rules, costs, tMinute.Add(100*time.Millisecond))
		}
		before := mustLen(t, s)
		for _, d := range []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, time.Second, time.Hour} {
			mustInspect(t, s, "k", rules, tMinute.Add(d))
			mustInspect(t, s, "never-seen", rules, tMinute.Add(d))
		}
		if after := mustLen(t, s); after != before {
			t.Errorf("%s: Len %d after Inspect, %d before", alg, after, before)
		}
		for _, d := range []time.Duration{200 * time.Millisecond, 250 * time.Millisecond, 700 * time.Millisecond} {
			now := tMinute.Add(d)
			got := mustAllow(t, s, "k", rules, costs, now)
			want := mustAllow(t, twin, "k", rules, costs, now)
			if !slices.EqualFunc(got, want, sameDecision) {
				t.Errorf("%s at +%v: after Inspect %s, without %s", alg, d, formatDecisions(got, now), formatDecisions(want, now))
			}
		}
	}
}

// storeResetOneKey: Reset(key) makes that key fresh and leaves the others alone.
func storeResetOneKey(t *testing.T, s Store) {
	rules := []Rule{{Name: "minute", Algorithm: FixedWindow, Policy: Policy{Limit: 2, Window: time.Minute}}}
	for _, k := range []string{"a", "b"} {
		mustAllow(t, s, k, rules, []int64{2}, tMinute)
	}
	if err := s.Reset(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	end := tMinute.Add(time.Minute)
	checkDecision(t, "reset key", mustAllow(t, s, "a", rules, []int64{1}, tMinute)[0], true, 1, end, 0)
	checkDecision(t, "other key", mustAllow(t, s, "b", rules, []int64{1}, tMinute)[0], false, 0, end, time.Minute)
}

// storeResetAllKeys: Reset("") makes every key fresh and empties the store.
func storeResetAllKeys(t *testing.T, s Store) {
	for _, k := range []string{"a", "b", "c"} {
		mustAllow(t, s, k, suiteTier, []int64{1, 1, 1, 1, 1, 1}, tMinute)
	}
	if err := s.Reset(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if n := mustLen(t, s); n != 0 {
		t.Errorf("Len after Reset(\"\") = %d, want 0", n)
	}
	fresh := newMemoryStore(1, DefaultMemoryStoreCapacity)
	for _, k := range []string{"a", "b", "c"} {
		got := mustAllow(t, s, k, suiteTier, []int64{1, 1, 1, 1, 1, 1}, tMinute)
		want := mustAllow(t, fresh, k, suiteTier, []int64{1, 1, 1, 1, 1, 1}, tMinute)
		if !slices.EqualFunc(got, want, sameDecision) {
			t.Errorf("key %s after Reset(\"\"): %s, want fresh %s", k, formatDecisions(got, tMinute), formatDecisions(want, tMinute))
		}
	}
}

// storeLen: Len counts (rule, key) states.
func storeLen(t *testing.T, s Store) {
	rules := suiteTier[:2]
	if n := mustLen(t, s); n != 0 {
		t.Fatalf("Len of a new store = %d, want 0", n)
	}
	mustAllow(t, s, "a", rules, []int64{1, 1}, tMinute)
	mustAllow(t, s, "a", rules, []int64{1, 1}, tMinute)
	mustAllow(t, s, "b", rules, []int64{1, 1}, tMinute)
	if n := mustLen(t, s); n != 4 {
		t.Errorf("Len after 2 keys x 2 rules = %d, want 4", n)
	}
	if err := s.Reset(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if n := mustLen(t, s); n != 2 {
		t.Errorf("Len after Reset(a) = %d, want 2", n)
	}
}

// storeBadInput: invalid rules and mismatched costs are errors that say what is wrong, and append nothing.
func storeBadInput(t *testing.T, s Store) {
	ctx := context.Background()
	good := Rule{Name: "ok", Algorithm: FixedWindow, Policy: Policy{Limit: 1, Window: time.Second}}
	tests := []struct {
		rules []Rule
		costs []int64
		want  string
	}{
		{[]Rule{good, {Name: "x", Algorithm: "tokenbucket", Policy: Policy{Limit: 1, Window: time.Second}}}, []int64{1, 1},
			`mockserver: rule "x": unknown algorithm "tokenbucket": want one of fixed-window,`},
		{[]Rule{{Name: "zero", Algorithm: GCRA, Policy: Policy{Window: time.Second}}}, []int64{1},
			`mockserver: rule "zero": gcra policy: limit 0: want limit >= 1`},
		{[]Rule{good, good}, []int64{1, 1}, `mockserver: rules 0 and 1 are both named "ok": want unique names`},
		{[]Rule{good}, []int64{1, 1}, "mockserver: 1 rules but 2 costs: want one cost per rule"},
	}
	dst := []Decision{{Limit: 42}}
	for _, tt := range tests {
		got, err := s.Allow(ctx, "k", tt.rules, tt.costs, tMinute, dst)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Allow: error %v, want one containing %q", err, tt.want)
		}
		if len(got) != 1 || got[0].Limit != 42 {
			t.Errorf("Allow with an error appended decisions: %v", got)
		}
		if err := s.Release(ctx, "k", tt.rules, tt.costs, tMinute); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Release: error %v, want one containing %q", err, tt.want)
		}
		if len(tt.rules) == len(tt.costs) {
			if _, err := s.Inspect(ctx, "k", tt.rules, tMinute, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Inspect: error %v, want one containing %q", err, tt.want)
			}
		}
	}
	if n := mustLen(t, s); n != 0 {
		t.Errorf("Len after only bad input = %d, want 0", n)
	}
}

// storeTierInvariants replays random traces through a mixed tier and checks, at every Allow: a request passes
// iff every rule allows it; a rejected request leaves every rule as it was (Inspect before and after agree);
// Remaining is within [0, capacity]; RetryAfter is 0 when allowed; one decision per rule.
func storeTierInvariants(t *testing.T, s Store) {
	for seed := range uint64(3) {
		for i, step := range suiteTrace(seed + 10) {
			if step.op != opAllow {
				replayStep(t, s, suiteTier, step)
				continue
			}
			before := mustInspect(t, s, step.key, suiteTier, step.at)
			ds := mustAllow(t, s, step.key, suiteTier, step.costs, step.at)
			if len(ds) != len(suiteTier) {
				t.Fatalf("step %d: %d decisions for %d rules", i, len(ds), len(suiteTier))
			}
			all := true
			for j, d := range ds {
				all = all && d.Allowed
				if c := suiteTier[j].Policy.Capacity(suiteTier[j].Algorithm); d.Remaining < 0 || d.Remaining > c {
					t.Fatalf("step %d rule %s: Remaining %d outside [0, %d]", i, suiteTier[j].Name, d.Remaining, c)
				}
				if d.Allowed && d.RetryAfter != 0 || d.Limit != suiteTier[j].Policy.Limit {
					t.Fatalf("step %d rule %s: %s", i, suiteTier[j].Name, formatDecision(d, step.at))
				}
			}
			if !all {
				after := mustInspect(t, s, step.key, suiteTier, step.at)
				if !slices.EqualFunc(before, after, sameDecision) {
					t.Fatalf("step %d: a rejected request changed the state:\nbefore %s\n after %s", i,
						formatDecisions(before, step.at), formatDecisions(after, step.at))
				}
			} else {
				// An allowed request holds its concurrency slot until released, as a handler would.
				mustRelease(t, s, step.key, suiteTier, step.costs, step.at)
			}
		}
	}
}

// mustRelease calls s.Release and fails the test on an error.
func mustRelease(t *testing.T, s Store, key string, rules []Rule, costs []int64, now time.Time) {
	t.Helper()
	if err := s.Release(context.Background(), key, rules, costs, now); err != nil {
		t.Fatal(err)
	}
}
