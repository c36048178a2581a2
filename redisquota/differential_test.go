package redisquota_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/ratekit/ratekit/redisquota"
)

// call is one Reserve of a random trace.
type call struct {
	key     string
	cost    int64
	learned *ratekit.Pace
	now     time.Time
}

func (c call) String() string {
	return fmt.Sprintf("Reserve(%q, %d, %+v, %s)", c.key, c.cost, c.learned, c.now.Format(time.RFC3339Nano))
}

// randomTrace returns n calls on a few keys: times at any ns (not on a µs grid), from any year between 1970
// and 2200, mostly close together and sometimes seconds apart (never 10 minutes, after which LocalLimiter
// forgets an idle key); costs -1 to 5; paces from 0.01/s to 10^7/s with bursts from 0.1 to 1000, and now and
// then values no server sends (0, negative, NaN, ±Inf, 1e-300); pauses in the past and the future.
func randomTrace(rng *rand.Rand, n int) []call {
	keys := []string{"a", "b", "", "{a}", "%", "fleet:https://api.example.com"}
	now := time.Unix(rng.Int64N(230*365*24*3600), rng.Int64N(1e9)).UTC()
	trace := make([]call, 0, n)
	for range n {
		switch r := rng.Float64(); {
		case r < 0.8:
			now = now.Add(time.Duration(rng.Int64N(int64(50 * time.Millisecond))))
		case r < 0.95:
			now = now.Add(time.Duration(rng.Int64N(int64(2 * time.Second))))
		default:
			now = now.Add(time.Duration(rng.Int64N(int64(10 * time.Second))))
		}
		c := call{key: keys[rng.IntN(len(keys))], cost: 1, now: now}
		switch r := rng.Float64(); {
		case r < 0.01:
			c.cost = -1 // no Transport sends it; mirrored all the same
		case r < 0.1:
			c.cost = 0
		case r < 0.25:
			c.cost = 2 + rng.Int64N(4)
		}
		if rng.Float64() < 0.3 {
			c.learned = &ratekit.Pace{}
			if rng.Float64() < 0.8 {
				c.learned.Rate = math.Pow(10, -2+9*rng.Float64())
				c.learned.Burst = math.Pow(10, -1+4*rng.Float64())
				if rng.Float64() < 0.5 {
					c.learned.Burst = math.Round(c.learned.Burst) // whole bursts, as most servers have
				}
			}
			if rng.Float64() < 0.05 {
				odd := []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1), 1e-300, 1e300}
				c.learned.Rate, c.learned.Burst = odd[rng.IntN(len(odd))], odd[rng.IntN(len(odd))]
			}
			if rng.Float64() < 0.3 {
				c.learned.PausedUntil = now.Add(time.Duration(rng.Int64N(int64(40*time.Second))) - 10*time.Second)
			}
		}
		trace = append(trace, c)
	}
	return trace
}

// TestDifferentialAgainstLocalLimiter replays random traces through LocalLimiter (the reference) and
// through redisquota on a real Redis, and requires identical waits, to the ns.
func TestDifferentialAgainstLocalLimiter(t *testing.T) {
	client := redistest.Start(t).Client()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	const traces, calls = 4, 600
	for i := range traces {
		ref := ratekit.NewLocalLimiter()
		l := newLimiter(t, client, redisquota.WithKeyPrefix(fmt.Sprintf("diff%d:", i)))
		mismatches := 0
		for j, c := range randomTrace(rng, calls) {
			want := mustReserve(t, ref, c.key, c.cost, c.learned, c.now)
			got := mustReserve(t, l, c.key, c.cost, c.learned, c.now)
			if !assert.Equal(t, want, got, "trace %d, call %d: %v: redisquota's wait against LocalLimiter's", i, j, c) {
				if mismatches++; mismatches == 5 {
					t.FailNow()
				}
			}
		}
	}
}
