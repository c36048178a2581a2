package mockserver

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestMemoryStoreSuite(t *testing.T) {
	testStoreSuite(t, func(t *testing.T) Store { return NewMemoryStore() })
}

// TestMemoryStoreOneShardSuite runs the suite with every key in one shard, where each call sweeps states of
// every other key: forgetting idle states must never change a decision.
func TestMemoryStoreOneShardSuite(t *testing.T) {
	testStoreSuite(t, func(t *testing.T) Store { return newMemoryStore(1, DefaultMemoryStoreCapacity) })
}

// TestMemoryStoreForgetsOnlyIdleStates replays random traces over many keys, with long idle gaps, through a
// one-shard store (which sweeps constantly) and through the pure cores with one harness per key (which never
// forget anything): every decision must be the same. A state swept too early would start over fresh and
// decide differently.
func TestMemoryStoreForgetsOnlyIdleStates(t *testing.T) {
	ctx := context.Background()
	for i, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			p := storePolicy(alg)
			rules := []Rule{{Name: "r", Algorithm: alg, Policy: p}}
			rng := rand.New(rand.NewPCG(uint64(i), 3))
			trace := genTrace(rng, traceConfig{steps: 5000, keys: 40, maxCost: p.Capacity(alg), start: tMinute,
				tick: 30 * time.Millisecond, releases: alg == Concurrency}, rules)
			s := newMemoryStore(1, DefaultMemoryStoreCapacity)
			cores := map[string]*coreHarness{}
			evicted := 0
			for j, step := range trace {
				h := cores[step.key]
				if h == nil {
					h = newCoreHarness(t, alg, p)
					cores[step.key] = h
				}
				before, _ := s.Len(ctx)
				got := replayStep(t, s, rules, step)
				if after, _ := s.Len(ctx); after < before {
					evicted += before - after
				}
				if step.op == opRelease {
					h.release(step.costs[0])
					continue
				}
				want := h.allow(step.costs[0], step.at.UnixNano()).toDecision(&h.r, step.at, step.at.UnixNano())
				if !sameDecision(got[0], want) {
					t.Fatalf("step %d (%s cost %d at +%v): store %s, never-forgetting core %s", j, step.key,
						step.costs[0], step.at.Sub(tMinute), formatDecision(got[0], step.at), formatDecision(want, step.at))
				}
			}
			if evicted == 0 {
				t.Error("no state was ever evicted: the test did not exercise the sweep")
			}
		})
	}
}

// TestMemoryStoreDropsReleasedState: a concurrency state with nothing in flight is dropped at once.
func TestMemoryStoreDropsReleasedState(t *testing.T) {
	s := NewMemoryStore()
	rules := []Rule{{Name: "inflight", Algorithm: Concurrency, Policy: Policy{Limit: 2}}}
	mustAllow(t, s, "k", rules, []int64{2}, tMinute)
	if n := mustLen(t, s); n != 1 {
		t.Fatalf("Len with a request in flight = %d, want 1", n)
	}
	mustRelease(t, s, "k", rules, []int64{2}, tMinute)
	if n := mustLen(t, s); n != 0 {
		t.Errorf("Len after the release = %d, want 0", n)
	}
}

// TestMemoryStoreMemoryFollowsActiveKeys: a million keys come and go; once they are idle and traffic goes on
// with a few thousand other keys, the store's Len and the heap return near where they started. Under the race
// detector, which would make this sequential test take many seconds, it uses a quarter of the keys.
func TestMemoryStoreMemoryFollowsActiveKeys(t *testing.T) {
	const active = 4096 // keys that go on sending
	gone := 1_000_000   // keys seen once, then idle
	calls := 300_000    // calls of the active keys after the others went idle
	if raceEnabled {
		gone, calls = gone/4, calls/4
	}
	ctx := context.Background()
	rules := []Rule{{Name: "minute", Algorithm: TokenBucket, Policy: Policy{Limit: 10, Window: time.Minute}}}
	costs := []int64{1}
	s := NewMemoryStoreWithCapacity(2 * gone) // room for every key: this test is about idle states, not capacity
	baseline := heapInUse()

	dst := make([]Decision, 0, 1)
	for i := range gone {
		if _, err := s.Allow(ctx, "gone-"+strconv.Itoa(i), rules, costs, tMinute, dst[:0]); err != nil {
			t.Fatal(err)
		}
	}
	if n := mustLen(t, s); n != gone {
		t.Fatalf("Len after %d new keys = %d", gone, n)
	}
	peak := heapInUse()

	// Six seconds refill the one token each key took: the million states are now equal to fresh ones.
	later := tMinute.Add(6 * time.Second)
	activeKeys := make([]string, active)
	for i := range activeKeys {
		activeKeys[i] = "active-" + strconv.Itoa(i)
	}
	for i := range calls {
		if _, err := s.Allow(ctx, activeKeys[i%active], rules, costs, later, dst[:0]); err != nil {
			t.Fatal(err)
		}
	}
	n := mustLen(t, s)
	end := heapInUse()
	t.Logf("heap in use: %d MiB at start, %d MiB with %d keys, %d MiB after they went idle (Len %d)",
		baseline>>20, peak>>20, gone, end>>20, n)
	if n > 2*active {
		t.Errorf("Len = %d after the %d keys went idle, want at most %d (the active keys and a few more)", n, gone, 2*active)
	}
	if limit := baseline + 16<<20; end > limit || peak-baseline < 10*(end-min(end, baseline)) {
		t.Errorf("heap in use %d MiB after the keys went idle; started at %d MiB, peaked at %d MiB",
			end>>20, baseline>>20, peak>>20)
	}
	runtime.KeepAlive(s)
}

// heapInUse returns the bytes of live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
