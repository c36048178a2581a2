package redisquota_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/ratekit/ratekit/redisquota"
	"github.com/redis/go-redis/v9"
)

// pttl returns a key's TTL in ms (-2: no such key).
func pttl(t *testing.T, client redis.UniversalClient, key string) time.Duration {
	t.Helper()
	d, err := client.PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestKeyTTLs: every write sets the pace's TTL to the time until its pause and its debt are over, plus the
// margin; a rejection that learned nothing writes nothing; the members set lives one peer window.
func TestKeyTTLs(t *testing.T) {
	client := redistest.Start(t).Client()
	const margin, window = 10 * time.Second, 30 * time.Second
	l := newLimiter(t, client, redisquota.WithExpiryMargin(margin), redisquota.WithPeerWindow(window))
	const pace, members = "ratekit:{k}:pace", "ratekit:{k}:members"
	now := t0
	// checkTTL wants the pace's TTL to be want (PTTL counts down in real time: allow a busy machine 1 s).
	checkTTL := func(what string, want time.Duration) {
		t.Helper()
		if got := pttl(t, client, pace); got > want || got < want-time.Second {
			t.Errorf("%s: PTTL %v, want %v", what, got, want)
		}
	}

	if w := mustReserve(t, l, "k", 1, nil, now); w != 0 {
		t.Fatalf("unpaced: wait %v", w)
	}
	if got := pttl(t, client, pace); got != -2*time.Nanosecond && got != -2*time.Millisecond {
		t.Errorf("a key that learned nothing has a state (PTTL %v): want none", got)
	}
	// Learning a pace writes it, with no debt yet: the margin alone. (A cost of 3 at 1/s in bursts of 1
	// must wait 2 s: the call is rejected, but it learned the pace.)
	if w := mustReserve(t, l, "k", 3, &ratekit.Pace{Rate: 1, Burst: 1}, now); w != 2*time.Second {
		t.Fatalf("cost 3 at 1/s: wait %v, want 2s", w)
	}
	checkTTL("a pace learned, no debt", margin)
	mustReserve(t, l, "k", 1, nil, now)
	checkTTL("a debt of 1 s", time.Second+margin)
	mustReserve(t, l, "k", 0, &ratekit.Pace{PausedUntil: now.Add(30 * time.Second)}, now)
	checkTTL("a pause of 30 s", 30*time.Second+margin)
	before := pttl(t, client, pace)
	if w := mustReserve(t, l, "k", 1, nil, now.Add(time.Second)); w != 29*time.Second {
		t.Fatalf("paused: wait %v, want 29s", w)
	}
	if after := pttl(t, client, pace); after > before {
		t.Errorf("a rejection that learned nothing raised the PTTL from %v to %v", before, after)
	}
	if got := pttl(t, client, members); got > window || got < window-time.Second {
		t.Errorf("members: PTTL %v, want the peer window %v", got, window)
	}
}

// TestIdleKeysExpire: with the shortest margin and peer window, both keys are gone from Redis moments after
// the key's debt is over, in Redis's own time.
func TestIdleKeysExpire(t *testing.T) {
	client := redistest.Start(t).Client()
	l := newLimiter(t, client, redisquota.WithExpiryMargin(time.Millisecond), redisquota.WithPeerWindow(time.Millisecond))
	mustReserve(t, l, "k", 1, &ratekit.Pace{Rate: 100, Burst: 1}, time.Now()) // a debt of 10 ms
	// Redis expires keys on its own clock: wait for it, bounded (TestKeyTTLs checks the TTLs exactly).
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		n, err := client.Exists(context.Background(), "ratekit:{k}:pace", "ratekit:{k}:members").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the key's 2 Redis keys still exist 5 s after a debt of 10 ms", n)
		}
		<-tick.C
	}
}

// TestMembers: each instance registers itself in the key's members set, scored by the caller's clock in
// ms, and members not seen within the peer window are dropped.
func TestMembers(t *testing.T) {
	client := redistest.Start(t).Client()
	const window = 10 * time.Second
	var ls []*redisquota.Limiter
	for _, id := range []string{"a", "b", "c"} {
		ls = append(ls, newLimiter(t, client, redisquota.WithInstanceID(id), redisquota.WithPeerWindow(window)))
	}
	for i, l := range ls {
		mustReserve(t, l, "k", 1, nil, t0.Add(time.Duration(i)*time.Second))
	}
	membersAre := func(want ...string) {
		t.Helper()
		got, err := client.ZRange(context.Background(), "ratekit:{k}:members", 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("members %q, want %q", got, want)
		}
	}
	membersAre("a", "b", "c")
	score, err := client.ZScore(context.Background(), "ratekit:{k}:members", "b").Result()
	if err != nil || score != float64(t0.Add(time.Second).UnixMilli()) {
		t.Errorf("b's score %v (%v), want %d (its last call, Unix ms)", score, err, t0.Add(time.Second).UnixMilli())
	}
	// 10 s after a's call, a is no longer a peer; b and c are.
	mustReserve(t, ls[2], "k", 1, nil, t0.Add(window))
	membersAre("b", "c")
	if got := ls[0].InstanceID(); got != "a" {
		t.Errorf("InstanceID() = %q, want a", got)
	}
}
