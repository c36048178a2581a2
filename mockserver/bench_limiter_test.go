package mockserver

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// benchKeys is the number of distinct keys of the many-key benchmarks.
const benchKeys = 10_000

// benchPolicy is 100 per second (T = 10 ms), burst 20 where there is one.
func benchPolicy(algorithm string) Policy {
	switch parseAlgorithm(algorithm) {
	case algConcurrency:
		return Policy{Limit: 20}
	case algTokenBucket, algLeakyBucket, algGCRA, algLeakyBucketQueue:
		return Policy{Limit: 100, Window: time.Second, Burst: 20}
	}
	return Policy{Limit: 100, Window: time.Second}
}

// benchKeyNames returns benchKeys distinct keys.
func benchKeyNames() []string {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = "client-" + strconv.Itoa(i)
	}
	return keys
}

// BenchmarkLimiterAllow measures one decision of NewLimiter's Limiter. Every key receives a request every half
// emission interval (5 ms), so about half of the requests pass: both paths are measured. Concurrency releases
// every allowed request (the Release is included).
func BenchmarkLimiterAllow(b *testing.B) {
	for _, alg := range Algorithms() {
		p := benchPolicy(alg)
		half := time.Second / 100 / 2
		b.Run(alg+"/one-key", func(b *testing.B) {
			l, err := NewLimiter(alg, p)
			if err != nil {
				b.Fatal(err)
			}
			r, _ := l.(Releaser)
			now := t0
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(half)
				if d := l.Allow("client-1", 1, now); r != nil && d.Allowed {
					r.Release("client-1", 1, now)
				}
			}
		})
		b.Run(alg+"/many-keys", func(b *testing.B) {
			l, err := NewLimiter(alg, p)
			if err != nil {
				b.Fatal(err)
			}
			r, _ := l.(Releaser)
			keys := benchKeyNames()
			now := t0
			step := half / benchKeys
			for _, key := range keys { // warm up: every key has its state, every table its size
				l.Allow(key, 1, now)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				now = now.Add(step)
				key := keys[i%benchKeys]
				if d := l.Allow(key, 1, now); r != nil && d.Allowed {
					r.Release(key, 1, now)
				}
				i++
			}
		})
	}
}

// BenchmarkLimiterAllowParallel measures decisions under contention: every goroutine (GOMAXPROCS of them)
// sends to random keys among benchKeys, each with its own view of the time.
func BenchmarkLimiterAllowParallel(b *testing.B) {
	for _, alg := range []string{FixedWindow, SlidingWindowCounter, TokenBucket, GCRA} {
		b.Run(alg, func(b *testing.B) {
			l, err := NewLimiter(alg, benchPolicy(alg))
			if err != nil {
				b.Fatal(err)
			}
			keys := benchKeyNames()
			for _, key := range keys {
				l.Allow(key, 1, t0)
			}
			seed := rand.Uint64()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed, rand.Uint64()))
				now := t0
				for pb.Next() {
					now = now.Add(time.Microsecond)
					l.Allow(keys[rng.IntN(benchKeys)], 1, now)
				}
			})
		})
	}
}

// BenchmarkStoreAllowTier measures MemoryStore.Allow for a request checked against a two-rule tier (a minute
// quota and a token bucket), on many keys, sequentially and in parallel.
func BenchmarkStoreAllowTier(b *testing.B) {
	rules := []Rule{
		{Name: "minute", Algorithm: FixedWindow, Policy: Policy{Limit: 600, Window: time.Minute}},
		{Name: "burst", Algorithm: TokenBucket, Policy: Policy{Limit: 10, Window: time.Second, Burst: 20}},
	}
	costs := []int64{1, 1}
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		s := NewMemoryStore()
		keys := benchKeyNames()
		dst := make([]Decision, 0, len(rules))
		now := t0
		for _, key := range keys {
			dst, _ = s.Allow(ctx, key, rules, costs, now, dst[:0])
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			now = now.Add(10 * time.Microsecond)
			var err error
			if dst, err = s.Allow(ctx, keys[i%benchKeys], rules, costs, now, dst[:0]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := NewMemoryStore()
		keys := benchKeyNames()
		for _, key := range keys {
			if _, err := s.Allow(ctx, key, rules, costs, t0, nil); err != nil {
				b.Fatal(err)
			}
		}
		seed := rand.Uint64()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(seed, rand.Uint64()))
			dst := make([]Decision, 0, len(rules))
			now := t0
			for pb.Next() {
				now = now.Add(10 * time.Microsecond)
				var err error
				if dst, err = s.Allow(ctx, keys[rng.IntN(benchKeys)], rules, costs, now, dst[:0]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
