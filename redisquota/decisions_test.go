package redisquota_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/redistest"
)

// step is one Reserve of a decision table and the wait it must return.
type step struct {
	at      time.Duration // after t0
	cost    int64
	learned *ratekit.Pace
	want    time.Duration
	why     string
}

// paceAt is a pause until t0 + d.
func pauseUntil(d time.Duration) *ratekit.Pace { return &ratekit.Pace{PausedUntil: t0.Add(d)} }

// decisionTable is the contract of a shared Limiter, on one key, in order: LocalLimiter and redisquota must
// both pass it.
var decisionTable = []step{
	{0, 1, nil, 0, "nothing learned: no pace"},
	{0, 1, nil, 0, "nothing learned: still no pace"},
	{0, 1, &ratekit.Pace{Rate: 10, Burst: 2}, 0, "10/s in bursts of 2: the first of the burst"},
	{0, 1, nil, 0, "the second of the burst"},
	{0, 1, nil, 100 * time.Millisecond, "the burst is spent: one interval"},
	{100 * time.Millisecond, 1, nil, 0, "an interval later"},
	{150 * time.Millisecond, 1, nil, 50 * time.Millisecond, "half an interval later"},
	{200 * time.Millisecond, 1, nil, 0, "exactly at the instant: passes"},
	{200 * time.Millisecond, 3, nil, 300 * time.Millisecond, "a cost above the burst waits longer, never forever"},
	{200 * time.Millisecond, 0, nil, 0, "cost 0 takes nothing"},
	{time.Second, 0, pauseUntil(5 * time.Second), 4 * time.Second, "a pause binds at once"},
	{2 * time.Second, 1, nil, 3 * time.Second, "and binds every later call until it ends"},
	{2 * time.Second, 0, pauseUntil(4 * time.Second), 3 * time.Second, "an earlier pause does not shorten it"},
	{5 * time.Second, 1, nil, 0, "the pause is over: the pace has room"},
	{5 * time.Second, 1, &ratekit.Pace{Rate: 1, Burst: 1}, 100 * time.Millisecond, "a new pace applies to the debt"},
	{5100 * time.Millisecond, 1, nil, 0, "at 1/s"},
	{5100 * time.Millisecond, 1, nil, time.Second, "at 1/s, burst 1"},
	// 3/s in bursts of 1.5: an interval of 333333333 ns, a burst span of 499999999 ns.
	{10*time.Second + 7, 1, &ratekit.Pace{Rate: 3, Burst: 1.5}, 0, "odd ns: the first"},
	{10*time.Second + 7, 1, nil, 166666667, "odd ns: to the ns"},
	{10*time.Second + 7 + 166666667, 1, nil, 0, "odd ns: exactly then"},
	{10*time.Second + 7 + 166666667, 1, nil, 333333333, "odd ns: one interval"},
	{11 * time.Second, 1, &ratekit.Pace{Rate: 0, Burst: 9, PausedUntil: t0.Add(12 * time.Second)}, time.Second, "rate 0 leaves the pace; the pause binds"},
	{12 * time.Second, 1, nil, 0, "after the pause, at 3/s: the debt is paid"},
	{12 * time.Second, 1, nil, 166666667, "at 3/s, burst 1.5: two intervals less the burst span"},
}

// runDecisionTable replays decisionTable on key "p" of l, then checks that keys which look alike in Redis's
// syntax are independent.
func runDecisionTable(t *testing.T, l ratekit.Limiter) {
	t.Helper()
	for i, s := range decisionTable {
		got := mustReserve(t, l, "p", s.cost, s.learned, t0.Add(s.at))
		assert.Equal(t, s.want, got, "step %d at %v, cost %d (%s): wait", i, s.at, s.cost, s.why)
	}
	// Each key gets one unit a second: a second call at once waits, unless two keys share a state.
	at := t0.Add(time.Minute)
	for _, key := range []string{"", "%", "%25", "}", "%7D", "{p}", "p}", "{", "p", "p*", `\`, "\xff"} {
		w := mustReserve(t, l, "odd "+key, 1, &ratekit.Pace{Rate: 1, Burst: 1}, at)
		assert.Zero(t, w, "key %q: the first call waits: it shares a state with another key", "odd "+key)
		w = mustReserve(t, l, "odd "+key, 1, nil, at)
		assert.Equal(t, time.Second, w, "key %q: the second call", "odd "+key)
	}
}

func TestDecisionTable(t *testing.T) {
	t.Run("LocalLimiter", func(t *testing.T) {
		runDecisionTable(t, ratekit.NewLocalLimiter())
	})
	t.Run("redis", func(t *testing.T) {
		runDecisionTable(t, newLimiter(t, redistest.Start(t).Client()))
	})
}

// TestOneRoundTripPerReserve: once Redis has the script, each Reserve is one EVALSHA, whatever it learned;
// a Redis that lost its scripts costs one EVAL more, and decisions go on.
func TestOneRoundTripPerReserve(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	hook := &countingHook{}
	client.AddHook(hook)
	l := newLimiter(t, client)
	mustReserve(t, l, "warm-up", 1, nil, t0) // loads the script (EVALSHA, NOSCRIPT, EVAL) unless cached
	for i, learned := range []*ratekit.Pace{nil, {Rate: 5, Burst: 1}, {PausedUntil: t0.Add(time.Second)}, nil} {
		before := hook.roundTrips.Load()
		mustReserve(t, l, "k", 1, learned, t0.Add(time.Duration(i)*time.Second))
		assert.Equal(t, int64(1), hook.roundTrips.Load()-before, "Reserve %d (learned %+v): round trips", i, learned)
	}
	srv.Do("SCRIPT", "FLUSH")
	before := hook.roundTrips.Load()
	assert.Zero(t, mustReserve(t, l, "k", 1, nil, t0.Add(time.Minute)), "after SCRIPT FLUSH: wait (the state is kept)")
	assert.Equal(t, int64(2), hook.roundTrips.Load()-before, "after SCRIPT FLUSH: round trips (EVALSHA answered NOSCRIPT, then EVAL)")
}

// TestReserveWithDoneContext: a caller that gave up gets its context's error, and Redis is not blamed.
func TestReserveWithDoneContext(t *testing.T) {
	l := newLimiter(t, redistest.Start(t).Client())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.Reserve(ctx, "k", 1, nil, t0)
	assert.ErrorIs(t, err, context.Canceled, "Reserve with a cancelled context")
	assert.False(t, l.Degraded(), "a cancelled caller made the Limiter fall back")
}
