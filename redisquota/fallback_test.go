package redisquota_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/ratekit/ratekit/redisquota"
	"github.com/redis/go-redis/v9"
)

// hooks counts a Limiter's switches and keeps the last fallback error.
type hooks struct {
	fallbacks, recoveries atomic.Int32
	mu                    sync.Mutex
	err                   error // guarded by mu
}

func (h *hooks) options() []redisquota.Option {
	return []redisquota.Option{
		redisquota.WithOnFallback(func(err error) {
			h.fallbacks.Add(1)
			h.mu.Lock()
			h.err = err
			h.mu.Unlock()
		}),
		redisquota.WithOnRecover(func() { h.recoveries.Add(1) }),
	}
}

func (h *hooks) lastErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// newFallbackLimiter returns a Limiter with its own client of srv (as a separate process would have), its
// hooks, and a hook counting its round trips. Decisions in these tests take the caller's now, so the retry
// interval passes in virtual time; only Redis's failures take real time.
func newFallbackLimiter(t *testing.T, srv *redistest.Server, opts ...redisquota.Option) (*redisquota.Limiter, *hooks, *countingHook) {
	t.Helper()
	client := srv.Client()
	rt := &countingHook{}
	client.AddHook(rt)
	h := &hooks{}
	opts = append(append([]redisquota.Option{redisquota.WithTimeout(200 * time.Millisecond), redisquota.WithRetryInterval(time.Second)}, h.options()...), opts...)
	l, err := redisquota.New(client, opts...)
	require.NoError(t, err)
	return l, h, rt
}

// TestFallbackWhenRedisDies: a fleet of 4 shares a pace of 40/s; Redis dies. Each member then paces alone
// at its share, 1/4 (10/s), with no error to the caller; a member that never reached Redis takes the
// fallback share; pauses learned meanwhile bind locally; Redis is tried once per retry interval; when it is
// back, the Limiter returns to it and publishes the pause it learned while it was down.
func TestFallbackWhenRedisDies(t *testing.T) {
	srv := redistest.Start(t)
	var ls []*redisquota.Limiter
	var hs []*hooks
	var rts []*countingHook
	for range 4 {
		l, h, rt := newFallbackLimiter(t, srv)
		ls, hs, rts = append(ls, l), append(hs, h), append(rts, rt)
	}
	pace := &ratekit.Pace{Rate: 40, Burst: 4}
	for _, l := range ls {
		mustReserve(t, l, "k", 0, pace, t0)
	}
	for _, l := range ls { // now each has seen all 4 members
		mustReserve(t, l, "k", 0, nil, t0)
	}
	a, ha, rta := ls[0], hs[0], rts[0]

	srv.Kill()
	at := t0.Add(time.Millisecond)
	start := time.Now()
	assert.Zero(t, mustReserve(t, a, "k", 1, nil, at), "the first call without Redis: wait (a burst of 1 at 10/s)")
	// generous: a busy machine
	assert.LessOrEqual(t, time.Since(start), 200*time.Millisecond+2*time.Second, "the call that found Redis dead: want about the timeout (200ms) at most")
	assert.Equal(t, int32(1), ha.fallbacks.Load(), "OnFallback calls")
	if assert.Error(t, ha.lastErr(), "OnFallback's error") {
		assert.True(t, strings.HasPrefix(ha.lastErr().Error(), `redisquota: reserve "k": `), "OnFallback's error %v: want a redisquota: reserve error", ha.lastErr())
	}
	assert.True(t, a.Degraded(), "Degraded() after Redis died")
	before := rta.scripts.Load()
	assert.Equal(t, 100*time.Millisecond, mustReserve(t, a, "k", 1, nil, at), "second call: wait (a quarter of 40/s)")
	assert.Equal(t, 5*time.Second-time.Millisecond, mustReserve(t, a, "k", 0, &ratekit.Pace{PausedUntil: at.Add(5 * time.Second)}, at.Add(time.Millisecond)),
		"a pause learned while Redis is down: wait")
	assert.Equal(t, 4500*time.Millisecond, mustReserve(t, a, "k", 1, nil, at.Add(500*time.Millisecond)), "while paused: wait")
	assert.Zero(t, rta.scripts.Load()-before, "calls to Redis within the retry interval")
	assert.Equal(t, int32(1), ha.fallbacks.Load(), "OnFallback calls for one outage")

	// A member that never reached Redis does not know its peers: it takes the fallback share (1/2 here).
	e, he, _ := newFallbackLimiter(t, srv, redisquota.WithFallbackShare(0.5))
	for i, want := range []time.Duration{0, 0, 50 * time.Millisecond} {
		var learned *ratekit.Pace
		if i == 0 {
			learned = pace
		}
		assert.Equal(t, want, mustReserve(t, e, "k", 1, learned, at), "new member, call %d: wait (half of 40/s, burst 2)", i)
	}
	assert.Equal(t, int32(1), he.fallbacks.Load(), "the new member's OnFallback calls")

	// Redis is back (empty). The next call after the retry interval tries it, and the Limiter returns.
	srv.Restart()
	probeAt := at.Add(time.Second + 10*time.Millisecond)
	require.Zero(t, ha.recoveries.Load(), "OnRecover calls before any call")
	before = rta.scripts.Load()
	// go-redis may still hold the dial error for a moment after the restart (after repeated dial failures
	// it redials once a second in the background): allow probes for 5 s of real time.
	tick := time.NewTicker(20 * time.Millisecond) // real time for go-redis to reconnect
	defer tick.Stop()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); <-tick.C {
		mustReserve(t, a, "k", 0, nil, probeAt)
		probeAt = probeAt.Add(time.Second + time.Millisecond)
		if !a.Degraded() {
			break
		}
	}
	require.False(t, a.Degraded(), "Degraded() after Redis came back")
	require.Equal(t, int32(1), ha.recoveries.Load(), "OnRecover calls after Redis came back")
	assert.NotEqual(t, before, rta.scripts.Load(), "the Limiter returned to Redis without calling it")
	// The pause a learned while Redis was down is in Redis now: b, which never fell back, sees it.
	b := ls[1]
	assert.Equal(t, time.Second, mustReserve(t, b, "k", 1, nil, at.Add(4*time.Second)),
		"another member after the recovery: wait (the rest of the pause published on recovery)")
	assert.Zero(t, hs[1].fallbacks.Load(), "b fell back without calling Redis while it was down")
}

// TestFallbackStartsFromTheFleetsDebt: a member that falls back owes what the fleet owed when Redis last
// answered it, so the fleet's burst is not spent twice; a faster pace learned meanwhile repays its debt
// faster, a slower one does not lengthen it.
func TestFallbackStartsFromTheFleetsDebt(t *testing.T) {
	srv := redistest.Start(t)
	a, _, _ := newFallbackLimiter(t, srv)
	b, hb, _ := newFallbackLimiter(t, srv)
	require.Zero(t, mustReserve(t, a, "k", 1, &ratekit.Pace{Rate: 10, Burst: 1}, t0), "a's first call: wait")
	require.Zero(t, mustReserve(t, b, "k", 0, nil, t0), "b's call of cost 0: wait") // b learns the fleet's debt (100 ms) and 2 peers
	srv.Kill()
	// b alone: 5/s (half of 10/s), burst 1, from the fleet's TAT at t0 + 100ms.
	assert.Equal(t, 100*time.Millisecond, mustReserve(t, b, "k", 1, nil, t0), "b's first call without Redis: wait")
	assert.Equal(t, int32(1), hb.fallbacks.Load(), "b's fallbacks")
	assert.Zero(t, mustReserve(t, b, "k", 1, nil, t0.Add(100*time.Millisecond)), "b once the fleet's debt is paid: wait")
	assert.Equal(t, 200*time.Millisecond, mustReserve(t, b, "k", 1, nil, t0.Add(100*time.Millisecond)), "b's next: wait (one interval at 5/s)")
	// A faster pace (40/s: 20/s for b) repays the debt faster: its 200 ms at 5/s are 50 ms at 20/s.
	at := t0.Add(100 * time.Millisecond)
	mustReserve(t, b, "k", 0, &ratekit.Pace{Rate: 40, Burst: 1}, at)
	assert.Equal(t, 50*time.Millisecond, mustReserve(t, b, "k", 1, nil, at), "after a faster pace: wait")
	// A slower one (2/s: 1/s for b) keeps the debt's time: 50 ms.
	mustReserve(t, b, "k", 0, &ratekit.Pace{Rate: 2, Burst: 1}, at)
	assert.Equal(t, 50*time.Millisecond, mustReserve(t, b, "k", 1, nil, at), "after a slower pace: wait")
}

// TestFallbackPaceWaitsEndWithTheRetryInterval: while Redis is down, a wait for the pace lasts at most
// until Redis is tried again, so that the fleet decides again as soon as it answers; a pause is waited in
// full.
func TestFallbackPaceWaitsEndWithTheRetryInterval(t *testing.T) {
	srv := redistest.Start(t)
	l, h, _ := newFallbackLimiter(t, srv, redisquota.WithFallbackShare(0.25))
	srv.Kill()
	slow := &ratekit.Pace{Rate: 1, Burst: 1} // a quarter each: one request per 4 s
	require.Zero(t, mustReserve(t, l, "k", 1, slow, t0), "first call: wait")
	require.Equal(t, int32(1), h.fallbacks.Load(), "first call: fallbacks")
	// Redis is tried again at t0 + 1s (the retry interval): the 4 s wait ends then.
	assert.Equal(t, 700*time.Millisecond, mustReserve(t, l, "k", 1, nil, t0.Add(300*time.Millisecond)),
		"a wait of 3.7 s for the pace: want one until Redis is tried again")
	mustReserve(t, l, "k", 0, &ratekit.Pace{PausedUntil: t0.Add(time.Minute)}, t0.Add(300*time.Millisecond))
	assert.Equal(t, time.Minute-400*time.Millisecond, mustReserve(t, l, "k", 1, nil, t0.Add(400*time.Millisecond)), "a pause: wait all of it")
}

// TestOneProbeAtATime: while Redis hangs, one call per retry interval tries it and waits for the timeout;
// the calls made meanwhile are decided locally at once.
func TestOneProbeAtATime(t *testing.T) {
	srv := redistest.Start(t)
	l, h, rt := newFallbackLimiter(t, srv)
	mustReserve(t, l, "k", 0, &ratekit.Pace{Rate: 1000, Burst: 1000}, t0)
	srv.Pause()
	defer srv.Resume()
	mustReserve(t, l, "k", 1, nil, t0)
	require.True(t, l.Degraded(), "Redis hangs: Degraded()")
	require.Equal(t, int32(1), h.fallbacks.Load(), "Redis hangs: fallbacks")
	before := rt.scripts.Load()
	probeAt := t0.Add(time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := l.Reserve(context.Background(), "k", 1, nil, probeAt)
			assert.NoError(t, err, "Reserve while Redis hangs")
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), rt.scripts.Load()-before, "8 concurrent calls after the retry interval: calls to Redis (one probe)")
	// The failed probe starts a new interval.
	before = rt.scripts.Load()
	mustReserve(t, l, "k", 1, nil, probeAt.Add(time.Second-time.Nanosecond))
	assert.Zero(t, rt.scripts.Load()-before, "a call within the interval after a failed probe: calls to Redis")
	assert.Equal(t, int32(1), h.fallbacks.Load(), "fallbacks")
	assert.Zero(t, h.recoveries.Load(), "recoveries")
}

// TestCallerDeadlineIsNotARedisFailure: a caller whose deadline ends before the Limiter's timeout gets its
// context's error (the Transport then fails the request, as its deadline requires), and Redis is not
// declared down for it.
func TestCallerDeadlineIsNotARedisFailure(t *testing.T) {
	srv := redistest.Start(t)
	l, h, _ := newFallbackLimiter(t, srv, redisquota.WithTimeout(5*time.Second))
	mustReserve(t, l, "k", 1, nil, t0)
	srv.Pause()
	defer srv.Resume()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := l.Reserve(ctx, "k", 1, nil, t0)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Reserve past the caller's deadline")
	assert.LessOrEqual(t, time.Since(start), 2*time.Second, "Reserve with a 20ms deadline")
	assert.False(t, l.Degraded(), "Degraded()")
	assert.Zero(t, h.fallbacks.Load(), "fallbacks")
}

// TestNewChecksItsInput: every bad option, a nil client, and a client that a context deadline cannot cut
// are errors that name the setting and what is allowed. No Redis is needed: New does not call it.
func TestNewChecksItsInput(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer client.Close()
	tests := []struct {
		opts []redisquota.Option
		want string
	}{
		{[]redisquota.Option{redisquota.WithKeyPrefix("app{1}:")}, `redisquota: New: key prefix "app{1}:": want no '{' or '}'`},
		{[]redisquota.Option{redisquota.WithTimeout(0)}, "redisquota: New: timeout 0s: want more than 0"},
		{[]redisquota.Option{redisquota.WithExpiryMargin(time.Microsecond)}, "redisquota: New: expiry margin 1µs: want 1ms or more"},
		{[]redisquota.Option{redisquota.WithPeerWindow(0)}, "redisquota: New: peer window 0s: want 1ms or more"},
		{[]redisquota.Option{redisquota.WithFallbackShare(0)}, "redisquota: New: fallback share 0: want more than 0 and at most 1"},
		{[]redisquota.Option{redisquota.WithFallbackShare(1.5)}, "redisquota: New: fallback share 1.5: want more than 0 and at most 1"},
		{[]redisquota.Option{redisquota.WithRetryInterval(-time.Second)}, "redisquota: New: retry interval -1s: want more than 0"},
		{[]redisquota.Option{redisquota.WithInstanceID("")}, `redisquota: New: instance ID "": want a name unique in the fleet`},
	}
	for _, tt := range tests {
		_, err := redisquota.New(client, tt.opts...)
		if assert.Error(t, err) {
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "error %v, want one starting %q", err, tt.want)
		}
	}
	_, err := redisquota.New(nil)
	assert.ErrorContains(t, err, "client is nil")
	blocking := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer blocking.Close()
	_, err = redisquota.New(blocking)
	assert.ErrorContains(t, err, "ContextTimeoutEnabled is false", "a client without ContextTimeoutEnabled")
	l, err := redisquota.New(client, nil) // a nil option is ignored
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(l.InstanceID(), ":"), "default instance ID %q, want host:pid:random", l.InstanceID())
}
