package mockserver

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ratekit/ratekit/internal/ctxsleep"
)

// faultDice rolls the faults of each request from one seeded source, so that the same seed and the same
// sequence of requests give the same faults. Safe for concurrent use (concurrent requests take their rolls
// in the order they arrive).
type faultDice struct {
	faults Faults
	active bool // some fault is configured; false skips the lock entirely

	mu  sync.Mutex
	rng *rand.Rand // guarded by mu
}

// faultRoll is what the dice decided for one request.
type faultRoll struct {
	latency time.Duration // to wait before responding
	fail    bool          // answer Faults.ErrorStatus instead of serving
	drop    bool          // drop the connection instead of serving
}

// newFaultDice seeds the dice with f.Seed.
func newFaultDice(f Faults) *faultDice {
	return &faultDice{
		faults: f,
		active: f.ErrorRate > 0 || f.DropRate > 0 || f.Latency > 0 || f.LatencyJitter > 0,
		rng:    rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15)),
	}
}

// roll decides the faults of one request. It always draws two numbers, whatever is configured, so a
// request's faults depend only on the seed and its position in the sequence.
func (d *faultDice) roll() faultRoll {
	if !d.active {
		return faultRoll{}
	}
	d.mu.Lock()
	a, c := d.rng.Float64(), d.rng.Float64()
	d.mu.Unlock()
	r := faultRoll{latency: d.faults.Latency}
	if d.faults.LatencyJitter > 0 {
		r.latency += time.Duration(c * float64(d.faults.LatencyJitter))
	}
	// One roll for failure and drop together: a request is failed, dropped or served, never two of them
	// (failure first when the rates add up to more than 1).
	switch {
	case a < d.faults.ErrorRate:
		r.fail = true
	case a < d.faults.ErrorRate+d.faults.DropRate:
		r.drop = true
	}
	return r
}

// holdFor waits for d, or until ctx is done; it reports whether the full wait passed.
func holdFor(ctx context.Context, d time.Duration) bool {
	return ctxsleep.Sleep(ctx, d) == nil
}
