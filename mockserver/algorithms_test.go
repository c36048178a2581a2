package mockserver

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// t0 is the instant the tables start from: a whole number of 10 s since the Unix epoch, so window edges fall on
// t0 + 10 s, t0 + 20 s, ...
var t0 = time.Unix(1_700_000_000, 0)

// want is the expected decision of one step, with Reset relative to t0.
type want struct {
	ok    bool
	rem   int64
	reset time.Duration
	retry time.Duration
	delay time.Duration
}

// tableStep is one call of a table: a request of cost at t0+at (or a release of cost, for concurrency).
type tableStep struct {
	at      time.Duration
	cost    int64
	release bool
	want    want
}

// algorithmTable is a sequence of calls on one key, each decision checked exactly, field by field.
type algorithmTable struct {
	name      string
	algorithm string
	policy    Policy
	steps     []tableStep
}

const ns = time.Nanosecond

// tokenBucketTable is decided identically by token-bucket, leaky-bucket and gcra (ALGORITHMS.md: decision
// equivalent with the same B): 2 per second (T = 500 ms), burst 4.
var tokenBucketSteps = []tableStep{
	{at: 0, cost: 1, want: want{ok: true, rem: 3, reset: 500 * time.Millisecond}},
	{at: 0, cost: 3, want: want{ok: true, rem: 0, reset: 2 * time.Second}},
	{at: 0, cost: 1, want: want{rem: 0, reset: 2 * time.Second, retry: 500 * time.Millisecond}},
	{at: 500*time.Millisecond - ns, cost: 1, want: want{rem: 0, reset: 2 * time.Second, retry: ns}},
	{at: 500 * time.Millisecond, cost: 1, want: want{ok: true, rem: 0, reset: 2500 * time.Millisecond}},
	{at: time.Second, cost: 2, want: want{rem: 1, reset: 2500 * time.Millisecond, retry: 500 * time.Millisecond}},
	{at: time.Second, cost: 5, want: want{rem: 1, reset: 2500 * time.Millisecond}}, // 5 > burst: never
	{at: time.Second, cost: 4, want: want{rem: 1, reset: 2500 * time.Millisecond, retry: 1500 * time.Millisecond}},
	{at: 10 * time.Second, cost: 4, want: want{ok: true, rem: 0, reset: 12 * time.Second}},
}

// fractionalSteps: 3 per second, so T = 333333333.3 ns is not a whole number of ns; RetryAfter rounds up and
// the request passes exactly then.
var fractionalSteps = []tableStep{
	{at: 0, cost: 3, want: want{ok: true, rem: 0, reset: time.Second}},
	{at: 0, cost: 1, want: want{rem: 0, reset: time.Second, retry: 333333334 * ns}},
	{at: 333333333 * ns, cost: 1, want: want{rem: 0, reset: time.Second, retry: ns}},
	// 333333334 ns refill 1.000000002 tokens; after the request 2e-9 are left, and the bucket is full again
	// (3 tokens) ceil((3 - 2e-9) / 3 s) = 1 s later.
	{at: 333333334 * ns, cost: 1, want: want{ok: true, rem: 0, reset: 1333333334 * ns}},
}

var algorithmTables = []algorithmTable{
	{
		name: "fixed-window", algorithm: FixedWindow, policy: Policy{Limit: 3, Window: 10 * time.Second},
		steps: []tableStep{
			{at: 0, cost: 1, want: want{ok: true, rem: 2, reset: 10 * time.Second}},
			{at: time.Second, cost: 2, want: want{ok: true, rem: 0, reset: 10 * time.Second}},
			{at: 2 * time.Second, cost: 1, want: want{rem: 0, reset: 10 * time.Second, retry: 8 * time.Second}},
			{at: 10*time.Second - ns, cost: 1, want: want{rem: 0, reset: 10 * time.Second, retry: ns}},
			{at: 10 * time.Second, cost: 1, want: want{ok: true, rem: 2, reset: 20 * time.Second}},
			{at: 10 * time.Second, cost: 3, want: want{rem: 2, reset: 20 * time.Second, retry: 10 * time.Second}},
			{at: 11 * time.Second, cost: 4, want: want{rem: 2, reset: 20 * time.Second}}, // 4 > L: never
			{at: 20 * time.Second, cost: 3, want: want{ok: true, rem: 0, reset: 30 * time.Second}},
		},
	},
	{
		name: "sliding-window-log", algorithm: SlidingWindowLog, policy: Policy{Limit: 3, Window: 10 * time.Second},
		steps: []tableStep{
			{at: 0, cost: 1, want: want{ok: true, rem: 2, reset: 10 * time.Second}},
			{at: 4 * time.Second, cost: 2, want: want{ok: true, rem: 0, reset: 14 * time.Second}},
			// One unit must expire: the entry at 0 does at 10 s.
			{at: 5 * time.Second, cost: 1, want: want{rem: 0, reset: 14 * time.Second, retry: 5 * time.Second}},
			{at: 10*time.Second - ns, cost: 1, want: want{rem: 0, reset: 14 * time.Second, retry: ns}},
			{at: 10 * time.Second, cost: 1, want: want{ok: true, rem: 0, reset: 20 * time.Second}},
			// Two units must expire: the entry at 4 s (cost 2) does at 14 s.
			{at: 10 * time.Second, cost: 2, want: want{rem: 0, reset: 20 * time.Second, retry: 4 * time.Second}},
			{at: 12 * time.Second, cost: 4, want: want{rem: 0, reset: 20 * time.Second}}, // 4 > L: never
			{at: 14 * time.Second, cost: 2, want: want{ok: true, rem: 0, reset: 24 * time.Second}},
			{at: 30 * time.Second, cost: 1, want: want{ok: true, rem: 2, reset: 40 * time.Second}},
		},
	},
	{
		name: "sliding-window-counter", algorithm: SlidingWindowCounter, policy: Policy{Limit: 10, Window: 10 * time.Second},
		steps: []tableStep{
			{at: 0, cost: 4, want: want{ok: true, rem: 6, reset: 20 * time.Second}},
			{at: 5 * time.Second, cost: 6, want: want{ok: true, rem: 0, reset: 20 * time.Second}},
			// Not in this window (cur = 10); in the next one 10 * (W - elapsed) / W + 1 <= 10 from elapsed = 1 s.
			{at: 6 * time.Second, cost: 1, want: want{rem: 0, reset: 20 * time.Second, retry: 5 * time.Second}},
			{at: 11*time.Second - ns, cost: 1, want: want{rem: 0, reset: 20 * time.Second, retry: ns}},
			{at: 11 * time.Second, cost: 1, want: want{ok: true, rem: 0, reset: 30 * time.Second}},
			// e = 10 * 5 / 10 + 1 = 6; 6 + 3 <= 10; after it e = 5 + 4 = 9.
			{at: 15 * time.Second, cost: 3, want: want{ok: true, rem: 1, reset: 30 * time.Second}},
			// Window 20 s: prev = 4, e = 4 * 5 / 10 = 2.
			{at: 25 * time.Second, cost: 1, want: want{ok: true, rem: 7, reset: 40 * time.Second}},
			{at: 26 * time.Second, cost: 11, want: want{rem: 7, reset: 40 * time.Second}}, // 11 > L: never
			// Window 50 s: the stored window (20 s) is older than the previous one, so prev = 0.
			{at: 50 * time.Second, cost: 10, want: want{ok: true, rem: 0, reset: 70 * time.Second}},
		},
	},
	{name: "token-bucket", algorithm: TokenBucket, policy: Policy{Limit: 2, Window: time.Second, Burst: 4}, steps: tokenBucketSteps},
	{name: "leaky-bucket", algorithm: LeakyBucket, policy: Policy{Limit: 2, Window: time.Second, Burst: 4}, steps: tokenBucketSteps},
	{name: "gcra", algorithm: GCRA, policy: Policy{Limit: 2, Window: time.Second, Burst: 4}, steps: tokenBucketSteps},
	{name: "token-bucket/fractional", algorithm: TokenBucket, policy: Policy{Limit: 3, Window: time.Second}, steps: fractionalSteps},
	{name: "leaky-bucket/fractional", algorithm: LeakyBucket, policy: Policy{Limit: 3, Window: time.Second}, steps: fractionalSteps},
	{name: "gcra/fractional", algorithm: GCRA, policy: Policy{Limit: 3, Window: time.Second}, steps: fractionalSteps},
	{
		// 2 per second (T = 500 ms), burst 2: a request is admitted while it would be held at most 1 s.
		name: "leaky-bucket-queue", algorithm: LeakyBucketQueue, policy: Policy{Limit: 2, Window: time.Second, Burst: 2},
		steps: []tableStep{
			{at: 0, cost: 1, want: want{ok: true, rem: 2, reset: 500 * time.Millisecond}},
			{at: 0, cost: 1, want: want{ok: true, rem: 1, reset: time.Second, delay: 500 * time.Millisecond}},
			{at: 0, cost: 1, want: want{ok: true, rem: 0, reset: 1500 * time.Millisecond, delay: time.Second}},
			{at: 0, cost: 1, want: want{rem: 0, reset: 1500 * time.Millisecond, retry: 500 * time.Millisecond}},
			{at: 500*time.Millisecond - ns, cost: 1, want: want{rem: 0, reset: 1500 * time.Millisecond, retry: ns}},
			{at: 500 * time.Millisecond, cost: 1, want: want{ok: true, rem: 0, reset: 2 * time.Second, delay: time.Second}},
			{at: 500 * time.Millisecond, cost: 3, want: want{rem: 0, reset: 2 * time.Second}}, // 3 > burst: never
			{at: 5 * time.Second, cost: 2, want: want{ok: true, rem: 1, reset: 6 * time.Second}},
			{at: 5 * time.Second, cost: 2, want: want{ok: true, rem: 0, reset: 7 * time.Second, delay: time.Second}},
		},
	},
	{
		name: "concurrency", algorithm: Concurrency, policy: Policy{Limit: 2},
		steps: []tableStep{
			{at: 0, cost: 1, want: want{ok: true, rem: 1}},
			{at: 0, cost: 1, want: want{ok: true, rem: 0}},
			{at: 0, cost: 1, want: want{rem: 0}},
			{at: 0, cost: 1, release: true},
			{at: time.Second, cost: 1, want: want{ok: true, rem: 0, reset: time.Second}},
			{at: time.Second, cost: 3, want: want{rem: 0, reset: time.Second}}, // 3 > L: never
			{at: 2 * time.Second, cost: 5, release: true},                      // more than held: back to 0
			{at: 2 * time.Second, cost: 2, want: want{ok: true, rem: 0, reset: 2 * time.Second}},
		},
	},
}

// TestAlgorithmTables runs every table through NewLimiter and checks every field of every decision.
func TestAlgorithmTables(t *testing.T) {
	covered := map[string]bool{}
	for _, tt := range algorithmTables {
		covered[tt.algorithm] = true
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLimiter(tt.algorithm, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				now := t0.Add(s.at)
				if s.release {
					l.(Releaser).Release("k", s.cost, now)
					continue
				}
				got := l.Allow("k", s.cost, now)
				w := Decision{Allowed: s.want.ok, Limit: tt.policy.Limit, Remaining: s.want.rem,
					Reset: t0.Add(s.want.reset), RetryAfter: s.want.retry, Delay: s.want.delay}
				if !sameDecision(got, w) {
					t.Fatalf("step %d (cost %d at t0+%v):\n got %s\nwant %s", i, s.cost, s.at,
						formatDecision(got, t0), formatDecision(w, t0))
				}
			}
		})
	}
	for _, alg := range Algorithms() {
		if !covered[alg] {
			t.Errorf("no table for %s", alg)
		}
	}
}

// suitePolicy returns a policy for algorithm with a burst where it has one.
func suitePolicy(algorithm string) Policy {
	switch parseAlgorithm(algorithm) {
	case algConcurrency:
		return Policy{Limit: 5}
	case algTokenBucket, algLeakyBucket, algGCRA, algLeakyBucketQueue:
		return Policy{Limit: 3, Window: time.Second, Burst: 5}
	}
	return Policy{Limit: 5, Window: time.Second}
}

// TestAlgorithmsNeverPass: a cost above the capacity is rejected with RetryAfter 0 and changes nothing; a cost
// equal to the capacity passes on a fresh key; CanNeverPass tells the two apart.
func TestAlgorithmsNeverPass(t *testing.T) {
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			p := suitePolicy(alg)
			capacity := p.Capacity(alg)
			l, err := NewLimiter(alg, p)
			if err != nil {
				t.Fatal(err)
			}
			d := l.Allow("k", capacity+1, t0)
			if d.Allowed || d.RetryAfter != 0 || d.Delay != 0 || d.Remaining != capacity {
				t.Errorf("cost %d > capacity %d: got %s, want rejected, RetryAfter 0, nothing consumed",
					capacity+1, capacity, formatDecision(d, t0))
			}
			if !CanNeverPass(alg, p, capacity+1) || CanNeverPass(alg, p, capacity) {
				t.Errorf("CanNeverPass(%d) = %v, CanNeverPass(%d) = %v; want true, false",
					capacity+1, CanNeverPass(alg, p, capacity+1), capacity, CanNeverPass(alg, p, capacity))
			}
			// The queue still admits one request after a full burst: it is held while the burst drains.
			wantRemaining := int64(0)
			if alg == LeakyBucketQueue {
				wantRemaining = 1
			}
			if d := l.Allow("k", capacity, t0); !d.Allowed || d.Remaining != wantRemaining {
				t.Errorf("cost %d = capacity on a fresh key: got %s, want allowed, Remaining %d",
					capacity, formatDecision(d, t0), wantRemaining)
			}
		})
	}
}

// TestAlgorithmsKeysAreIndependent: exhausting one key leaves every other key fresh.
func TestAlgorithmsKeysAreIndependent(t *testing.T) {
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			p := suitePolicy(alg)
			l, err := NewLimiter(alg, p)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := NewLimiter(alg, p)
			if err != nil {
				t.Fatal(err)
			}
			want := fresh.Allow("other", 1, t0)
			for i := range 100 {
				l.Allow(fmt.Sprintf("busy%d", i%3), 2, t0)
			}
			if got := l.Allow("k", 1, t0); !sameDecision(got, want) {
				t.Errorf("fresh key after others were exhausted: got %s, want %s", formatDecision(got, t0), formatDecision(want, t0))
			}
		})
	}
}

// TestAlgorithmsPromises replays random traces through every algorithm's core and checks, at every decision,
// what the Decision promises a client:
//   - a rejection's RetryAfter is exact: the same request passes after waiting RetryAfter and not 1 ns earlier
//     (ALGORITHMS.md allows 1 µs of slack for the bucket algorithms; these cores are exact, so none is taken);
//   - Remaining is how many more cost-1 requests pass at the same instant;
//   - at Reset the key is as good as new, and 1 ns earlier it is not (when Reset is in the future);
//   - Remaining is within [0, capacity], RetryAfter and Delay are 0 where they must be.
func TestAlgorithmsPromises(t *testing.T) {
	policies := map[string][]Policy{}
	for _, alg := range Algorithms() {
		policies[alg] = []Policy{suitePolicy(alg)}
	}
	for _, alg := range []string{TokenBucket, LeakyBucket, GCRA, LeakyBucketQueue} {
		// W / L not a whole number of ns, and a burst below the limit.
		policies[alg] = append(policies[alg], Policy{Limit: 7, Window: time.Second, Burst: 3})
	}
	policies[SlidingWindowCounter] = append(policies[SlidingWindowCounter], Policy{Limit: 7, Window: 3 * time.Second})
	policies[FixedWindow] = append(policies[FixedWindow], Policy{Limit: 7, Window: 3 * time.Second})
	for _, alg := range Algorithms() {
		for pi, p := range policies[alg] {
			t.Run(fmt.Sprintf("%s/%d", alg, pi), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(pi), 42))
				capacity := p.Capacity(alg)
				tick := int64(time.Second) / p.Limit
				for trace := range 20 {
					h := newCoreHarness(t, alg, p)
					for i, c := range genCalls(rng, 100, t0.UnixNano(), tick, capacity+1) {
						if alg == Concurrency && rng.IntN(3) == 0 {
							h.release(c.cost)
							continue
						}
						before := h.clone()
						v := h.allow(c.cost, c.at)
						where := fmt.Sprintf("trace %d call %d (cost %d at t0+%v)", trace, i, c.cost, time.Duration(c.at-t0.UnixNano()))
						checkPromises(t, where, alg, before, h, v, c)
					}
				}
			})
		}
	}
}

// checkPromises checks one decision v of call c: before is the state before it, after the state after it.
func checkPromises(t *testing.T, where, alg string, before, after *coreHarness, v verdict, c call) {
	t.Helper()
	capacity := after.r.capacity
	if v.remaining < 0 || v.remaining > capacity {
		t.Fatalf("%s: Remaining %d outside [0, %d]", where, v.remaining, capacity)
	}
	if v.allowed && v.retryAfter != 0 || !v.allowed && v.delay != 0 || alg != LeakyBucketQueue && v.delay != 0 {
		t.Fatalf("%s: %+v: RetryAfter must be 0 when allowed, Delay 0 unless queued", where, v)
	}
	if !v.allowed {
		switch {
		case c.cost > capacity || alg == Concurrency:
			if v.retryAfter != 0 {
				t.Fatalf("%s: RetryAfter %v, want 0", where, time.Duration(v.retryAfter))
			}
		case v.retryAfter <= 0:
			t.Fatalf("%s: rejected with RetryAfter %v, want > 0", where, time.Duration(v.retryAfter))
		default:
			if w := before.peek(c.cost, c.at+v.retryAfter); !w.allowed {
				t.Fatalf("%s: still rejected after waiting RetryAfter %v", where, time.Duration(v.retryAfter))
			}
			if w := before.peek(c.cost, c.at+v.retryAfter-1); w.allowed {
				t.Fatalf("%s: allowed 1 ns before RetryAfter %v", where, time.Duration(v.retryAfter))
			}
		}
	}
	// Remaining more cost-1 requests pass now, and the next one does not. An empty queue admits one more than
	// Remaining shows (Remaining is clamped to the burst).
	probe := after.clone()
	passed := int64(0)
	for passed <= capacity+1 && probe.allow(1, c.at).allowed {
		passed++
	}
	if passed != v.remaining && !(alg == LeakyBucketQueue && v.remaining == capacity && passed == capacity+1) {
		t.Fatalf("%s: Remaining %d, but %d more requests pass at the same instant", where, v.remaining, passed)
	}
	if alg == Concurrency {
		return
	}
	// At Reset the key is as good as new.
	fresh := newCoreHarnessFor(after.r)
	if got, want := after.peek(1, v.reset), fresh.peek(1, v.reset); got != want {
		t.Fatalf("%s: at Reset (+%v) the key is not fresh: %+v, fresh %+v", where, time.Duration(v.reset-c.at), got, want)
	}
	if v.reset > c.at && after.peek(1, c.at) != fresh.peek(1, c.at) {
		if got, want := after.peek(1, v.reset-1), fresh.peek(1, v.reset-1); got == want {
			t.Fatalf("%s: 1 ns before Reset (+%v) the key is already fresh", where, time.Duration(v.reset-c.at))
		}
	}
}

// newCoreHarnessFor returns a harness for a fresh key under an already compiled rule.
func newCoreHarnessFor(r compiledRule) *coreHarness {
	return &coreHarness{r: r}
}

// TestPolicyValidate checks that every impossible policy is an error naming the field and what is allowed.
func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		algorithm string
		policy    Policy
		want      string // a substring of the error; "" for valid
	}{
		{TokenBucket, Policy{Limit: 1, Window: time.Second}, ""},
		{Concurrency, Policy{Limit: 1}, ""},
		{LeakyBucketQueue, Policy{Limit: 1, Window: time.Second, Burst: 10}, ""},
		{"tokenbucket", Policy{Limit: 1, Window: time.Second},
			`mockserver: unknown algorithm "tokenbucket": want one of fixed-window, sliding-window-log, sliding-window-counter, token-bucket, leaky-bucket, leaky-bucket-queue, gcra, concurrency`},
		{"", Policy{Limit: 1, Window: time.Second}, `unknown algorithm ""`},
		{FixedWindow, Policy{Limit: 0, Window: time.Second}, "mockserver: fixed-window policy: limit 0: want limit >= 1"},
		{GCRA, Policy{Limit: -5, Window: time.Second}, "gcra policy: limit -5: want limit >= 1"},
		{SlidingWindowLog, Policy{Limit: 1}, "sliding-window-log policy: window 0s: want window > 0"},
		{SlidingWindowCounter, Policy{Limit: 1, Window: -time.Second}, "window -1s: want window > 0"},
		{Concurrency, Policy{Limit: 1, Window: -time.Second}, "concurrency policy: window -1s: want window >= 0"},
		{TokenBucket, Policy{Limit: 1, Window: time.Second, Burst: -1}, "token-bucket policy: burst -1: want burst >= 0 (0 means burst = limit)"},
		{FixedWindow, Policy{Limit: 1, Window: time.Second, Burst: 5}, "fixed-window policy: burst 5: want 0 (fixed-window has no burst; burst applies to token-bucket, leaky-bucket, leaky-bucket-queue, gcra)"},
		{Concurrency, Policy{Limit: 1, Burst: 2}, "concurrency policy: burst 2: want 0"},
		{FixedWindow, Policy{Limit: 1, Window: 200 * 365 * 24 * time.Hour}, "want window <= "},
		{GCRA, Policy{Limit: 1, Window: 24 * time.Hour, Burst: 1 << 20}, "gcra policy: burst 1048576 at limit 1 per window 24h0m0s takes 2873 years to refill"},
	}
	for _, tt := range tests {
		err := tt.policy.Validate(tt.algorithm)
		_, newErr := NewLimiter(tt.algorithm, tt.policy)
		switch {
		case tt.want == "" && (err != nil || newErr != nil):
			t.Errorf("%s %+v: Validate = %v, NewLimiter = %v; want no error", tt.algorithm, tt.policy, err, newErr)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %+v: Validate = %v; want an error containing %q", tt.algorithm, tt.policy, err, tt.want)
		case tt.want != "" && (newErr == nil || newErr.Error() != err.Error()):
			t.Errorf("%s %+v: NewLimiter error %v; want Validate's %v", tt.algorithm, tt.policy, newErr, err)
		}
	}
}

// TestAlgorithmsList: Algorithms is stable, complete, and every name resolves.
func TestAlgorithmsList(t *testing.T) {
	got := strings.Join(Algorithms(), ",")
	want := "fixed-window,sliding-window-log,sliding-window-counter,token-bucket,leaky-bucket,leaky-bucket-queue,gcra,concurrency"
	if got != want {
		t.Errorf("Algorithms() = %s, want %s", got, want)
	}
	a := Algorithms()
	a[0] = "changed"
	if Algorithms()[0] != FixedWindow {
		t.Error("Algorithms() returns a shared slice")
	}
}

// TestCostBelowOneCountsAsOne: ALGORITHMS.md says a cost is always >= 1.
func TestCostBelowOneCountsAsOne(t *testing.T) {
	for _, alg := range Algorithms() {
		l, err := NewLimiter(alg, suitePolicy(alg))
		if err != nil {
			t.Fatal(err)
		}
		capacity := suitePolicy(alg).Capacity(alg)
		wantRemaining := capacity - 1
		if alg == LeakyBucketQueue {
			wantRemaining = capacity // one served, and still the whole burst may queue
		}
		for _, cost := range []int64{0, -3} {
			if d := l.Allow(fmt.Sprint(cost), cost, t0); !d.Allowed || d.Remaining != wantRemaining {
				t.Errorf("%s cost %d: got %s, want allowed with Remaining %d", alg, cost, formatDecision(d, t0), wantRemaining)
			}
		}
	}
}

// TestTimeNeverRunsBackwards: a request stamped earlier than the key's latest one (two server goroutines
// reading the clock, then locking in the other order) is decided as if it came at the latest time, not in a
// window or a refill that has already passed.
func TestTimeNeverRunsBackwards(t *testing.T) {
	for _, alg := range []string{FixedWindow, SlidingWindowLog, SlidingWindowCounter, TokenBucket, LeakyBucket} {
		t.Run(alg, func(t *testing.T) {
			p := Policy{Limit: 2, Window: 10 * time.Second}
			late, err := NewLimiter(alg, p)
			if err != nil {
				t.Fatal(err)
			}
			inOrder, err := NewLimiter(alg, p)
			if err != nil {
				t.Fatal(err)
			}
			late.Allow("k", 2, t0.Add(10*time.Second)) // the next window / a full refill later
			inOrder.Allow("k", 2, t0.Add(10*time.Second))
			got := late.Allow("k", 1, t0.Add(9*time.Second))
			want := inOrder.Allow("k", 1, t0.Add(10*time.Second))
			if got.Allowed != want.Allowed || got.Remaining != want.Remaining || !got.Reset.Equal(want.Reset) {
				t.Errorf("late request: got %s, want the decision at the latest time %s",
					formatDecision(got, t0), formatDecision(want, t0))
			}
		})
	}
}
