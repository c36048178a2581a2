package mockserver

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The Redis store's tests run against real redis-server processes (internal/redistest): they skip when
// redis-server is not installed, unless RATEKIT_REQUIRE_REDIS is set (as in CI).

// newTestRedisStore returns a store on client with a key prefix of its own, so that the stores of one server are
// independent. The tests' instants are virtual: a trace covers minutes in milliseconds, and the suite replays
// several traces from the same start on one store, so time runs backwards between them. Redis counts TTLs in real
// time, so the store gets an expiry margin of an hour (no key expires under a test that does not mean it to),
// and leases that last a day (random traces hold concurrency slots for minutes without releasing them, which
// the memory store allows), and a timeout of 10 s per call (a loaded CI machine running -race can take more
// than the default second for one script). opts come after these defaults.
func newTestRedisStore(t testing.TB, client redis.UniversalClient, opts ...RedisOption) *RedisStore {
	t.Helper()
	opts = append([]RedisOption{WithRedisKeyPrefix(fmt.Sprintf("test%d:", rand.Uint32())),
		WithRedisExpiryMargin(time.Hour), WithRedisLeaseTimeout(24 * time.Hour), WithRedisTimeout(10 * time.Second)}, opts...)
	s, err := NewRedisStore(client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRedisStoreSuite(t *testing.T) {
	t.Parallel() // waits on Redis round trips: overlaps with the other Redis tests
	client := redistest.Start(t).Client()
	testStoreSuite(t, func(t *testing.T) Store { return newTestRedisStore(t, client) })
}

// TestRedisStoreClusterSuite runs the whole suite on a cluster of three masters: every request's keys must be in
// one hash slot (a script with keys in two slots fails with CROSSSLOT), Len and Reset must see every master.
func TestRedisStoreClusterSuite(t *testing.T) {
	t.Parallel() // waits on Redis round trips: overlaps with the other Redis tests
	cluster := redistest.StartCluster(t, 3)
	client := cluster.Client()
	testStoreSuite(t, func(t *testing.T) Store { return newTestRedisStore(t, client) })

	t.Run("KeysSpreadOverMasters", func(t *testing.T) {
		s := newTestRedisStore(t, client)
		// Keys that could break the hash tag: empty, braces, the escape character.
		keys := []string{"", "}", "}x", "a}b", "{", "{a}", "%", "%7D", "k*", "[k]"}
		for i := range 40 {
			keys = append(keys, fmt.Sprint("client-", i))
		}
		for _, k := range keys {
			ds := mustAllow(t, s, k, suiteTier, []int64{1, 1, 1, 1, 1, 1}, tMinute)
			if len(ds) != len(suiteTier) || !ds[0].Allowed {
				t.Fatalf("key %q: %s", k, formatDecisions(ds, tMinute))
			}
		}
		if n := mustLen(t, s); n != len(keys)*len(suiteTier) {
			t.Errorf("Len = %d, want %d keys x %d rules", n, len(keys), len(suiteTier))
		}
		var mu sync.Mutex
		perMaster := map[string]int{}
		err := client.(*redis.ClusterClient).ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
			keys, _, err := m.Scan(ctx, 0, s.prefix+"*", 10_000).Result()
			mu.Lock()
			perMaster[m.Options().Addr] = len(keys)
			mu.Unlock()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for addr, n := range perMaster {
			if n == 0 {
				t.Errorf("master %s holds none of the store's keys: %v", addr, perMaster)
			}
		}
		if err := s.Reset(context.Background(), "}x"); err != nil {
			t.Fatal(err)
		}
		if n := mustLen(t, s); n != (len(keys)-1)*len(suiteTier) {
			t.Errorf("Len after resetting one key = %d, want %d", n, (len(keys)-1)*len(suiteTier))
		}
	})
}

// randomRedisPolicy returns a policy for algorithm whose emission interval W / L is a whole number of µs, from
// 1 µs to 1 s, with a random burst where the algorithm has one.
func randomRedisPolicy(rng *rand.Rand, algorithm string) Policy {
	limits := []int64{1, 2, 3, 4, 5, 7, 10, 16, 25, 100}
	intervals := []time.Duration{time.Microsecond, 7 * time.Microsecond, 250 * time.Microsecond, time.Millisecond,
		3 * time.Millisecond, 100 * time.Millisecond, 333 * time.Millisecond, time.Second}
	l := limits[rng.IntN(len(limits))]
	p := Policy{Limit: l, Window: time.Duration(l) * intervals[rng.IntN(len(intervals))]}
	switch alg := parseAlgorithm(algorithm); {
	case alg == algConcurrency:
		p.Window = 0
	case alg.hasBurst() && rng.IntN(2) == 0:
		p.Burst = 1 + rng.Int64N(2*l)
	}
	return p
}

// TestRedisStoreMatchesMemoryStore is the differential test: random tiers of random policies, random traces on
// a µs grid, replayed through the memory store and the Redis store, must get the same decisions at every step.
func TestRedisStoreMatchesMemoryStore(t *testing.T) {
	t.Parallel() // waits on Redis round trips: overlaps with the other Redis tests
	client := redistest.Start(t).Client()
	algorithms := Algorithms()
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 42))
		var rules []Rule
		for i := range 1 + rng.IntN(3) {
			alg := algorithms[rng.IntN(len(algorithms))]
			if seed < uint64(len(algorithms)) && i == 0 {
				alg = algorithms[seed] // every algorithm leads at least one tier
			}
			rules = append(rules, Rule{Name: fmt.Sprint("r", i), Algorithm: alg, Policy: randomRedisPolicy(rng, alg)})
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			maxCost := int64(1)
			for _, r := range rules {
				maxCost = max(maxCost, r.Policy.Capacity(r.Algorithm)+1)
			}
			tick := time.Millisecond
			if w := rules[0].Policy.Window; w > 0 {
				tick = w / time.Duration(rules[0].Policy.Limit)
			}
			trace := genTrace(rng, traceConfig{steps: 600, keys: 3, maxCost: maxCost, start: tMinute.Add(time.Duration(seed) * time.Microsecond),
				tick: tick, grid: time.Microsecond, releases: true, inspects: true}, rules)
			diffStores(t, newTestRedisStore(t, client), newMemoryStore(1, DefaultMemoryStoreCapacity), rules, trace)
		})
	}
}

// TestRedisStoreOffGridInstants replays traces at whole-ns instants, as time.Now() gives them. The script
// decides at now floored to the µs: every algorithm decides as the memory store does at the floored instant,
// and reports the same absolute instants (Reset, now + RetryAfter, now + Delay), with Reset never before now;
// the sliding-window-counter, which the script computes in ns, decides as the memory store at the exact instant.
func TestRedisStoreOffGridInstants(t *testing.T) {
	t.Parallel() // waits on Redis round trips: overlaps with the other Redis tests
	client := redistest.Start(t).Client()
	for i, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			rules := []Rule{{Name: "r", Algorithm: alg, Policy: storePolicy(alg)}}
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			trace := genTrace(rng, traceConfig{steps: 1500, keys: 2, maxCost: rules[0].Policy.Capacity(alg) + 1,
				start: tMinute.Add(123), tick: 250 * time.Millisecond, releases: alg == Concurrency}, rules)
			redisStore, mem := newTestRedisStore(t, client), newMemoryStore(1, DefaultMemoryStoreCapacity)
			for j, step := range trace {
				got := replayStep(t, redisStore, rules, step)
				memStep := step
				if alg != SlidingWindowCounter {
					memStep.at = time.Unix(0, step.at.UnixNano()/1000*1000)
				}
				want := replayStep(t, mem, rules, memStep)
				if step.op == opRelease {
					continue
				}
				sub := step.at.Sub(memStep.at)
				w := want[0]
				if w.Reset.Before(step.at) {
					w.Reset = step.at
				}
				if w.RetryAfter > 0 {
					w.RetryAfter -= sub
				}
				if w.Delay > 0 {
					w.Delay = max(w.Delay-sub, 0)
				}
				if !sameDecision(got[0], w) {
					t.Fatalf("step %d (%v %s cost %d at +%v): redis %s, memory at +%v %s", j, step.op, step.key,
						step.costs[0], step.at.Sub(tMinute), formatDecision(got[0], step.at), memStep.at.Sub(tMinute),
						formatDecision(w, step.at))
				}
			}
		})
	}
}

// countingHook counts the commands and pipelines a client sends to Redis: each is one round trip.
type countingHook struct{ roundTrips atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.roundTrips.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.roundTrips.Add(1)
		return next(ctx, cmds)
	}
}

// TestRedisStoreOneRoundTripPerDecision: once Redis has the scripts, Allow, Inspect and Release are one EVALSHA
// each, whatever the number of rules; a Redis that lost its scripts (SCRIPT FLUSH, a restart) costs one EVAL
// more, and decisions go on.
func TestRedisStoreOneRoundTripPerDecision(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	hook := &countingHook{}
	client.AddHook(hook)
	s := newTestRedisStore(t, client)
	ctx := context.Background()
	costs := []int64{1, 1, 1, 1, 1, 1}
	mustAllow(t, s, "warm-up", suiteTier, costs, tMinute) // EVALSHA answers NOSCRIPT, then EVAL
	// Release runs the script of the concurrency rules alone (each set of algorithms has its script): load it.
	if err := s.Release(ctx, "warm-up", suiteTier, costs, tMinute); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"Allow", func() error { _, err := s.Allow(ctx, "k", suiteTier, costs, tMinute, nil); return err }},
		{"Inspect", func() error { _, err := s.Inspect(ctx, "k", suiteTier, tMinute, nil); return err }},
		{"Release", func() error { return s.Release(ctx, "k", suiteTier, costs, tMinute) }},
	} {
		before := hook.roundTrips.Load()
		if err := tt.call(); err != nil {
			t.Fatal(err)
		}
		if n := hook.roundTrips.Load() - before; n != 1 {
			t.Errorf("%s with %d rules: %d round trips, want 1", tt.name, len(suiteTier), n)
		}
	}
	before := hook.roundTrips.Load()
	if err := s.Release(ctx, "k", suiteTier[:1], costs[:1], tMinute); err != nil {
		t.Fatal(err)
	}
	if n := hook.roundTrips.Load() - before; n != 0 {
		t.Errorf("Release without a concurrency rule: %d round trips, want 0", n)
	}
	srv.Do("SCRIPT", "FLUSH")
	before = hook.roundTrips.Load()
	ds := mustAllow(t, s, "k", suiteTier, costs, tMinute)
	if n := hook.roundTrips.Load() - before; n != 2 || !ds[0].Allowed {
		t.Errorf("after SCRIPT FLUSH: %d round trips (want 2: NOSCRIPT, then EVAL), %s", n, formatDecisions(ds, tMinute))
	}
}

// TestRedisStoreIsTheCoreInMicroseconds checks the script's exact arithmetic when W / L is not a whole number of
// µs (where the Redis store may differ from the memory store by less than 1 µs): the script computes with µs
// exactly as the Go cores compute with ns, so the Redis store at instant t with window W decides as the memory
// store at t' = t.UnixMicro() ns with window W / 1000, every duration scaled by 1000. (Not for the
// sliding-window-counter, whose estimate the script evaluates in ns, as the Go core does.)
func TestRedisStoreIsTheCoreInMicroseconds(t *testing.T) {
	t.Parallel() // waits on Redis round trips: overlaps with the other Redis tests
	client := redistest.Start(t).Client()
	micro := func(at time.Time) time.Time { return time.Unix(0, at.UnixMicro()) }
	for i, alg := range Algorithms() {
		if alg == SlidingWindowCounter {
			continue
		}
		t.Run(alg, func(t *testing.T) {
			for seed := range uint64(8) {
				rng := rand.New(rand.NewPCG(uint64(i), seed))
				// Windows from 1 µs to 3 s, log-uniform: short ones put instants within 1 µs of a refill often.
				window := time.Duration(math.Pow(3e6, rng.Float64())) * time.Microsecond
				p := Policy{Limit: 1 + rng.Int64N(12), Window: window}
				if alg == Concurrency {
					p.Window = 0
				} else if parseAlgorithm(alg).hasBurst() && rng.IntN(2) == 0 {
					p.Burst = 1 + rng.Int64N(2*p.Limit)
				}
				scaled := p
				scaled.Window /= 1000
				rules := []Rule{{Name: "r", Algorithm: alg, Policy: p}}
				scaledRules := []Rule{{Name: "r", Algorithm: alg, Policy: scaled}}
				tick := max(p.Window/time.Duration(p.Limit), time.Microsecond)
				trace := genTrace(rng, traceConfig{steps: 400, keys: 2, maxCost: p.Capacity(alg) + 1, start: tMinute,
					tick: tick, grid: time.Microsecond, releases: alg == Concurrency, inspects: true}, rules)
				redisStore, mem := newTestRedisStore(t, client), newMemoryStore(1, DefaultMemoryStoreCapacity)
				for j, step := range trace {
					got := replayStep(t, redisStore, rules, step)
					memStep := step
					memStep.at = micro(step.at)
					want := replayStep(t, mem, scaledRules, memStep)
					if step.op == opRelease {
						continue
					}
					w := want[0]
					w.Reset = step.at.Add(w.Reset.Sub(memStep.at) * 1000)
					w.RetryAfter *= 1000
					w.Delay *= 1000
					if !sameDecision(got[0], w) {
						t.Fatalf("policy %+v step %d (%v %s cost %d at +%v): redis %s, memory core in µs %s", p, j, step.op,
							step.key, step.costs[0], step.at.Sub(tMinute), formatDecision(got[0], step.at), formatDecision(w, step.at))
					}
				}
			}
		})
	}
}

// TestRedisStoreServesEveryProfile builds a Handler of every profile on the Redis store (httprate's windows
// anchored at the Handler's start, a ns instant, are truncated to the µs the script counts) and checks that it
// decides like one on the memory store.
func TestRedisStoreServesEveryProfile(t *testing.T) {
	client := redistest.Start(t).Client()
	for _, name := range Profiles() {
		t.Run(name, func(t *testing.T) {
			tiers := []Tier{{Name: "t", Rules: []Rule{{Policy: Policy{Limit: 3, Window: time.Second}}}}}
			redisH, err := NewHandler(Config{Profile: name, Tiers: tiers, Store: newTestRedisStore(t, client)})
			if err != nil {
				t.Fatal(err)
			}
			memH, err := NewHandler(Config{Profile: name, Tiers: tiers})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				a, b := httptest.NewRecorder(), httptest.NewRecorder()
				redisH.ServeHTTP(a, httptest.NewRequest("GET", "/", nil))
				memH.ServeHTTP(b, httptest.NewRequest("GET", "/", nil))
				if a.Code != b.Code {
					t.Errorf("request %d: redis %d, memory %d", i, a.Code, b.Code)
				}
			}
		})
	}
}
