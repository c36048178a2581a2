package mockserver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The store suite's checks of concurrent use: they hold under the race detector, and their counts are exact
// because every request comes at one instant (nothing refills).

// storeConcurrentUse: many goroutines on many keys at one instant (nothing refills) admit exactly the
// capacity of the binding rule per key, and the other rule is charged exactly for the admitted requests.
func storeConcurrentUse(t *testing.T, s Store) {
	const (
		goroutines = 8
		keys       = 16
		rounds     = 20 // attempts per key: goroutines * rounds = 160
	)
	rules := []Rule{
		{Name: "minute", Algorithm: FixedWindow, Policy: Policy{Limit: 50, Window: time.Minute}},
		{Name: "burst", Algorithm: TokenBucket, Policy: Policy{Limit: 1, Window: time.Minute, Burst: 30}},
	}
	var allowed [keys]atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			dst := make([]Decision, 0, 2)
			for r := range rounds {
				for k := range keys {
					key := fmt.Sprintf("key%d", (k+g+r)%keys)
					ds, err := s.Allow(context.Background(), key, rules, []int64{1, 1}, tMinute, dst[:0])
					if err != nil {
						t.Error(err)
						return
					}
					if ds[0].Allowed && ds[1].Allowed {
						allowed[(k+g+r)%keys].Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	for k := range keys {
		if n := allowed[k].Load(); n != 30 {
			t.Errorf("key%d: %d requests allowed, want exactly the burst, 30", k, n)
		}
		ds := mustInspect(t, s, fmt.Sprintf("key%d", k), rules, tMinute)
		if ds[0].Remaining != 50-30-1 {
			t.Errorf("key%d: the minute rule has %d left after a request, want %d", k, ds[0].Remaining, 50-30-1)
		}
	}
}

// storeConcurrentInFlight: goroutines that hold a concurrency slot while they work never exceed the limit
// together, and once they are all done nothing is in flight.
func storeConcurrentInFlight(t *testing.T, s Store) {
	const limit = 3
	rules := []Rule{{Name: "inflight", Algorithm: Concurrency, Policy: Policy{Limit: limit}}}
	var inFlight, peak, admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ctx := context.Background()
			for range 200 {
				ds, err := s.Allow(ctx, "k", rules, []int64{1}, tMinute, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if !ds[0].Allowed {
					continue
				}
				admitted.Add(1)
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				inFlight.Add(-1)
				if err := s.Release(ctx, "k", rules, []int64{1}, tMinute); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > limit {
		t.Errorf("%d requests in flight at once, limit %d", p, limit)
	}
	if admitted.Load() == 0 {
		t.Error("no request was admitted")
	}
	if d := mustInspect(t, s, "k", rules, tMinute)[0]; !d.Allowed || d.Remaining != limit-1 {
		t.Errorf("after every release: %s, want all %d slots free", formatDecision(d, tMinute), limit)
	}
}
