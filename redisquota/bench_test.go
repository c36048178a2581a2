package redisquota_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/ratekit/ratekit/redisquota"
)

// The benchmarks run against a local redis-server (internal/redistest; skipped without one). They report
// decisions/s and roundtrips/op next to ns/op: a Reserve is one round trip (one EVALSHA), so the figures are
// mostly the loopback round trip and the script's run time in Redis. Run them on one core to compare with a
// single process's budget: go test ./redisquota -run '^$' -bench . -cpu 1

// benchKeys are the client keys the benchmarks spread their calls over.
var benchKeys = func() []string {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("https://api%d.example.com", i)
	}
	return keys
}()

// reportDecisions reports the round trips per op counted by hook since before, and the decisions per second.
func reportDecisions(b *testing.B, hook *countingHook, before int64) {
	if hook != nil {
		b.ReportMetric(float64(hook.roundTrips.Load()-before)/float64(b.N), "roundtrips/op")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkReserve measures one Reserve at a time on 1,000 keys paced at 100/s, each asked every 5 ms (so
// about half of the calls wait): through Redis, through Redis publishing a pace with every call (as a
// Transport does after each response), decided locally while Redis is down, and, for comparison, by
// ratekit.LocalLimiter.
func BenchmarkReserve(b *testing.B) {
	srv := redistest.Start(b)
	client := srv.Client()
	hook := &countingHook{}
	client.AddHook(hook)
	ctx := context.Background()
	pace := &ratekit.Pace{Rate: 100, Burst: 1}
	step := 5 * time.Millisecond / time.Duration(len(benchKeys))

	run := func(b *testing.B, l ratekit.Limiter, learnEveryCall bool, hook *countingHook) {
		now := t0
		for _, key := range benchKeys { // every key learns its pace; Redis loads the script
			if _, err := l.Reserve(ctx, key, 1, pace, now); err != nil {
				b.Fatal(err)
			}
		}
		var before int64
		if hook != nil {
			before = hook.roundTrips.Load()
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			now = now.Add(step)
			var learned *ratekit.Pace
			if learnEveryCall {
				learned = pace
			}
			if _, err := l.Reserve(ctx, benchKeys[i%len(benchKeys)], 1, learned, now); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportDecisions(b, hook, before)
	}

	b.Run("redis", func(b *testing.B) {
		run(b, newLimiter(b, client, redisquota.WithKeyPrefix("bench1:")), false, hook)
	})
	b.Run("redis-learning", func(b *testing.B) {
		run(b, newLimiter(b, client, redisquota.WithKeyPrefix("bench2:")), true, hook)
	})
	b.Run("LocalLimiter", func(b *testing.B) {
		run(b, ratekit.NewLocalLimiter(), false, nil)
	})
	b.Run("fallback", func(b *testing.B) {
		down := redistest.Start(b)
		dead := down.Client()
		deadHook := &countingHook{}
		dead.AddHook(deadHook)
		l, err := redisquota.New(dead, redisquota.WithRetryInterval(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		// The Limiter learns the fleet from Redis, then Redis dies: every call is decided locally.
		for _, key := range benchKeys {
			if _, err := l.Reserve(ctx, key, 0, pace, t0); err != nil {
				b.Fatal(err)
			}
		}
		down.Kill()
		if _, err := l.Reserve(ctx, benchKeys[0], 0, nil, t0); err != nil || !l.Degraded() {
			b.Fatalf("after Redis died: %v, Degraded() = %v", err, l.Degraded())
		}
		run(b, l, false, deadHook)
	})
}

// BenchmarkReserveParallel measures Reserve through Redis from GOMAXPROCS * 8 goroutines on 1,000 keys, as
// a busy process would call it: the throughput one process gets from one Redis.
func BenchmarkReserveParallel(b *testing.B) {
	client := redistest.Start(b).Client()
	hook := &countingHook{}
	client.AddHook(hook)
	l := newLimiter(b, client)
	ctx := context.Background()
	var clock atomic.Int64 // one virtual clock for all goroutines, as time.Now() would be
	var next atomic.Int64
	before := hook.roundTrips.Load()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			now := t0.Add(time.Duration(clock.Add(int64(5 * time.Microsecond))))
			if _, err := l.Reserve(ctx, benchKeys[next.Add(1)%int64(len(benchKeys))], 1, nil, now); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportDecisions(b, hook, before)
}
