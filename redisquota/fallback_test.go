package redisquota_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
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
	if w := mustReserve(t, a, "k", 1, nil, at); w != 0 {
		t.Errorf("the first call without Redis: wait %v, want 0 (a burst of 1 at 10/s)", w)
	}
	if elapsed := time.Since(start); elapsed > 200*time.Millisecond+2*time.Second { // generous: a busy machine
		t.Errorf("the call that found Redis dead took %v, want about the timeout (200ms) at most", elapsed)
	}
	if n := ha.fallbacks.Load(); n != 1 || ha.lastErr() == nil || !strings.HasPrefix(ha.lastErr().Error(), `redisquota: reserve "k": `) {
		t.Errorf("OnFallback: %d calls, last error %v; want 1, a redisquota: reserve error", n, ha.lastErr())
	}
	if !a.Degraded() {
		t.Error("Degraded() = false after Redis died")
	}
	before := rta.scripts.Load()
	if w := mustReserve(t, a, "k", 1, nil, at); w != 100*time.Millisecond {
		t.Errorf("second call: wait %v, want 100ms (a quarter of 40/s)", w)
	}
	if w := mustReserve(t, a, "k", 0, &ratekit.Pace{PausedUntil: at.Add(5 * time.Second)}, at.Add(time.Millisecond)); w != 5*time.Second-time.Millisecond {
		t.Errorf("a pause learned while Redis is down: wait %v, want 4.999s", w)
	}
	if w := mustReserve(t, a, "k", 1, nil, at.Add(500*time.Millisecond)); w != 4500*time.Millisecond {
		t.Errorf("while paused: wait %v, want 4.5s", w)
	}
	if n := rta.scripts.Load() - before; n != 0 {
		t.Errorf("%d calls to Redis within the retry interval, want 0", n)
	}
	if n := ha.fallbacks.Load(); n != 1 {
		t.Errorf("OnFallback called %d times for one outage, want 1", n)
	}

	// A member that never reached Redis does not know its peers: it takes the fallback share (1/2 here).
	e, he, _ := newFallbackLimiter(t, srv, redisquota.WithFallbackShare(0.5))
	for i, want := range []time.Duration{0, 0, 50 * time.Millisecond} {
		var learned *ratekit.Pace
		if i == 0 {
			learned = pace
		}
		if w := mustReserve(t, e, "k", 1, learned, at); w != want {
			t.Errorf("new member, call %d: wait %v, want %v (half of 40/s, burst 2)", i, w, want)
		}
	}
	if he.fallbacks.Load() != 1 {
		t.Errorf("the new member's OnFallback: %d calls, want 1", he.fallbacks.Load())
	}

	// Redis is back (empty). The next call after the retry interval tries it, and the Limiter returns.
	srv.Restart()
	probeAt := at.Add(time.Second + 10*time.Millisecond)
	if n := ha.recoveries.Load(); n != 0 {
		t.Fatalf("OnRecover before any call: %d", n)
	}
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
	if a.Degraded() || ha.recoveries.Load() != 1 {
		t.Fatalf("after Redis came back: Degraded() = %v, OnRecover called %d times; want false, 1", a.Degraded(), ha.recoveries.Load())
	}
	if rta.scripts.Load() == before {
		t.Error("the Limiter returned to Redis without calling it")
	}
	// The pause a learned while Redis was down is in Redis now: b, which never fell back, sees it.
	b := ls[1]
	if w := mustReserve(t, b, "k", 1, nil, at.Add(4*time.Second)); w != time.Second {
		t.Errorf("another member after the recovery: wait %v, want 1s (the rest of the pause published on recovery)", w)
	}
	if hs[1].fallbacks.Load() != 0 {
		t.Errorf("b fell back without calling Redis while it was down")
	}
}

// TestFallbackStartsFromTheFleetsDebt: a member that falls back owes what the fleet owed when Redis last
// answered it, so the fleet's burst is not spent twice; a faster pace learned meanwhile repays its debt
// faster, a slower one does not lengthen it.
func TestFallbackStartsFromTheFleetsDebt(t *testing.T) {
	srv := redistest.Start(t)
	a, _, _ := newFallbackLimiter(t, srv)
	b, hb, _ := newFallbackLimiter(t, srv)
	if w := mustReserve(t, a, "k", 1, &ratekit.Pace{Rate: 10, Burst: 1}, t0); w != 0 {
		t.Fatalf("a's first call: wait %v", w)
	}
	if w := mustReserve(t, b, "k", 0, nil, t0); w != 0 { // b learns the fleet's debt (100 ms) and 2 peers
		t.Fatalf("b's call of cost 0: wait %v", w)
	}
	srv.Kill()
	// b alone: 5/s (half of 10/s), burst 1, from the fleet's TAT at t0 + 100ms.
	if w := mustReserve(t, b, "k", 1, nil, t0); w != 100*time.Millisecond || hb.fallbacks.Load() != 1 {
		t.Errorf("b's first call without Redis: wait %v (%d fallbacks), want 100ms (1)", w, hb.fallbacks.Load())
	}
	if w := mustReserve(t, b, "k", 1, nil, t0.Add(100*time.Millisecond)); w != 0 {
		t.Errorf("b once the fleet's debt is paid: wait %v, want 0", w)
	}
	if w := mustReserve(t, b, "k", 1, nil, t0.Add(100*time.Millisecond)); w != 200*time.Millisecond {
		t.Errorf("b's next: wait %v, want 200ms (one interval at 5/s)", w)
	}
	// A faster pace (40/s: 20/s for b) repays the debt faster: its 200 ms at 5/s are 50 ms at 20/s.
	at := t0.Add(100 * time.Millisecond)
	mustReserve(t, b, "k", 0, &ratekit.Pace{Rate: 40, Burst: 1}, at)
	if w := mustReserve(t, b, "k", 1, nil, at); w != 50*time.Millisecond {
		t.Errorf("after a faster pace: wait %v, want 50ms", w)
	}
	// A slower one (2/s: 1/s for b) keeps the debt's time: 50 ms.
	mustReserve(t, b, "k", 0, &ratekit.Pace{Rate: 2, Burst: 1}, at)
	if w := mustReserve(t, b, "k", 1, nil, at); w != 50*time.Millisecond {
		t.Errorf("after a slower pace: wait %v, want 50ms", w)
	}
}

// TestFallbackPaceWaitsEndWithTheRetryInterval: while Redis is down, a wait for the pace lasts at most
// until Redis is tried again, so that the fleet decides again as soon as it answers; a pause is waited in
// full.
func TestFallbackPaceWaitsEndWithTheRetryInterval(t *testing.T) {
	srv := redistest.Start(t)
	l, h, _ := newFallbackLimiter(t, srv, redisquota.WithFallbackShare(0.25))
	srv.Kill()
	slow := &ratekit.Pace{Rate: 1, Burst: 1} // a quarter each: one request per 4 s
	if w := mustReserve(t, l, "k", 1, slow, t0); w != 0 || h.fallbacks.Load() != 1 {
		t.Fatalf("first call: wait %v, %d fallbacks; want 0, 1", w, h.fallbacks.Load())
	}
	// Redis is tried again at t0 + 1s (the retry interval): the 4 s wait ends then.
	if w := mustReserve(t, l, "k", 1, nil, t0.Add(300*time.Millisecond)); w != 700*time.Millisecond {
		t.Errorf("a wait of 3.7 s for the pace: %v, want 700ms (until Redis is tried again)", w)
	}
	mustReserve(t, l, "k", 0, &ratekit.Pace{PausedUntil: t0.Add(time.Minute)}, t0.Add(300*time.Millisecond))
	if w := mustReserve(t, l, "k", 1, nil, t0.Add(400*time.Millisecond)); w != time.Minute-400*time.Millisecond {
		t.Errorf("a pause: wait %v, want all of it (59.6s)", w)
	}
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
	if !l.Degraded() || h.fallbacks.Load() != 1 {
		t.Fatalf("Redis hangs: Degraded() = %v, %d fallbacks; want true, 1", l.Degraded(), h.fallbacks.Load())
	}
	before := rt.scripts.Load()
	probeAt := t0.Add(time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := l.Reserve(context.Background(), "k", 1, nil, probeAt); err != nil {
				t.Errorf("Reserve while Redis hangs: %v", err)
			}
		})
	}
	wg.Wait()
	if n := rt.scripts.Load() - before; n != 1 {
		t.Errorf("8 concurrent calls after the retry interval made %d calls to Redis, want 1 (one probe)", n)
	}
	// The failed probe starts a new interval.
	before = rt.scripts.Load()
	mustReserve(t, l, "k", 1, nil, probeAt.Add(time.Second-time.Nanosecond))
	if n := rt.scripts.Load() - before; n != 0 {
		t.Errorf("a call within the interval after a failed probe made %d calls to Redis, want 0", n)
	}
	if h.fallbacks.Load() != 1 || h.recoveries.Load() != 0 {
		t.Errorf("hooks: %d fallbacks, %d recoveries; want 1, 0", h.fallbacks.Load(), h.recoveries.Load())
	}
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
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Reserve past the caller's deadline: %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Reserve took %v with a 20ms deadline", elapsed)
	}
	if l.Degraded() || h.fallbacks.Load() != 0 {
		t.Errorf("Degraded() = %v, %d fallbacks; want false, 0", l.Degraded(), h.fallbacks.Load())
	}
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
		if _, err := redisquota.New(client, tt.opts...); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("error %v, want one starting %q", err, tt.want)
		}
	}
	if _, err := redisquota.New(nil); err == nil || !strings.Contains(err.Error(), "client is nil") {
		t.Errorf("nil client: error %v", err)
	}
	blocking := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer blocking.Close()
	if _, err := redisquota.New(blocking); err == nil || !strings.Contains(err.Error(), "ContextTimeoutEnabled is false") {
		t.Errorf("client without ContextTimeoutEnabled: error %v", err)
	}
	l, err := redisquota.New(client, nil) // a nil option is ignored
	if err != nil {
		t.Fatal(err)
	}
	if id := l.InstanceID(); strings.Count(id, ":") != 2 {
		t.Errorf("default instance ID %q, want host:pid:random", id)
	}
}
