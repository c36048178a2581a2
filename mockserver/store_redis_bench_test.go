package mockserver

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratekit/ratekit/internal/redistest"
)

// The Redis store's benchmarks run against a local redis-server (internal/redistest; skipped without one). They
// report decisions/s and roundtrips/op next to ns/op: a decision is one round trip (one EVALSHA), so the numbers
// are mostly the loopback round trip and the script's run time in Redis.

// reportRoundTrips reports the round trips per op counted by hook since before, and the ops per second.
func reportRoundTrips(b *testing.B, hook *countingHook, before int64) {
	b.ReportMetric(float64(hook.roundTrips.Load()-before)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkRedisStoreAllow measures one RedisStore.Allow per algorithm, on 1,000 keys, one request at a time.
// Every key receives a request every half emission interval, so about half of the requests pass. The
// concurrency benchmark releases every allowed request (so its roundtrips/op is above 1: the Release).
func BenchmarkRedisStoreAllow(b *testing.B) {
	srv := redistest.Start(b)
	client := srv.Client()
	hook := &countingHook{}
	client.AddHook(hook)
	ctx := context.Background()
	keys := benchKeyNames()[:1000]
	for _, alg := range Algorithms() {
		b.Run(alg, func(b *testing.B) {
			s := newTestRedisStore(b, client)
			rules := []Rule{{Name: "bench", Algorithm: alg, Policy: benchPolicy(alg)}}
			costs := []int64{1}
			dst := make([]Decision, 0, 1)
			// Every key sees a request each half emission interval (5 ms): 1000 calls advance 5 ms.
			step := time.Second / 100 / 2 / time.Duration(len(keys))
			now := t0
			if _, err := s.Allow(ctx, "warm-up", rules, costs, now, nil); err != nil { // loads the script
				b.Fatal(err)
			}
			before := hook.roundTrips.Load()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				now = now.Add(step)
				key := keys[i%len(keys)]
				i++
				var err error
				if dst, err = s.Allow(ctx, key, rules, costs, now, dst[:0]); err != nil {
					b.Fatal(err)
				}
				if alg == Concurrency && dst[0].Allowed {
					if err := s.Release(ctx, key, rules, costs, now); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportRoundTrips(b, hook, before)
		})
	}
}

// BenchmarkRedisStoreAllowTier measures RedisStore.Allow for a request checked against the suite's six-rule
// tier (every kind of state at once), on 1,000 keys: still one round trip. "parallel" runs GOMAXPROCS * 8
// goroutines, as a busy server would, to show the throughput one Redis gives.
func BenchmarkRedisStoreAllowTier(b *testing.B) {
	srv := redistest.Start(b)
	client := srv.Client()
	hook := &countingHook{}
	client.AddHook(hook)
	ctx := context.Background()
	keys := benchKeyNames()[:1000]
	costs := []int64{1, 1, 1, 1, 1, 1}
	b.Run("sequential", func(b *testing.B) {
		s := newTestRedisStore(b, client)
		if _, err := s.Allow(ctx, "warm-up", suiteTier, costs, t0, nil); err != nil {
			b.Fatal(err)
		}
		dst := make([]Decision, 0, len(suiteTier))
		now := t0
		before := hook.roundTrips.Load()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			now = now.Add(100 * time.Microsecond)
			var err error
			if dst, err = s.Allow(ctx, keys[i%len(keys)], suiteTier, costs, now, dst[:0]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportRoundTrips(b, hook, before)
	})
	b.Run("parallel", func(b *testing.B) {
		s := newTestRedisStore(b, client)
		if _, err := s.Allow(ctx, "warm-up", suiteTier, costs, t0, nil); err != nil {
			b.Fatal(err)
		}
		var clock atomic.Int64 // one virtual clock for all goroutines, as time.Now() would be
		seed := rand.Uint64()
		before := hook.roundTrips.Load()
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed, rand.Uint64()))
			dst := make([]Decision, 0, len(suiteTier))
			for pb.Next() {
				now := t0.Add(time.Duration(clock.Add(int64(100 * time.Microsecond))))
				var err error
				if dst, err = s.Allow(ctx, keys[rng.IntN(len(keys))], suiteTier, costs, now, dst[:0]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRoundTrips(b, hook, before)
	})
}
