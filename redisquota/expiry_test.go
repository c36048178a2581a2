package redisquota_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/ratekit/ratekit/redisquota"
	"github.com/redis/go-redis/v9"
)

// pttl returns a key's TTL in ms (-2: no such key).
func pttl(t *testing.T, client redis.UniversalClient, key string) time.Duration {
	t.Helper()
	d, err := client.PTTL(context.Background(), key).Result()
	require.NoError(t, err)
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
		got := pttl(t, client, pace)
		assert.LessOrEqual(t, got, want, "%s: PTTL", what)
		assert.GreaterOrEqual(t, got, want-time.Second, "%s: PTTL", what)
	}

	require.Zero(t, mustReserve(t, l, "k", 1, nil, now), "unpaced: wait")
	got := pttl(t, client, pace)
	assert.True(t, got == -2*time.Nanosecond || got == -2*time.Millisecond, "a key that learned nothing has a state (PTTL %v): want none", got)
	// Learning a pace writes it, with no debt yet: the margin alone. (A cost of 3 at 1/s in bursts of 1
	// must wait 2 s: the call is rejected, but it learned the pace.)
	require.Equal(t, 2*time.Second, mustReserve(t, l, "k", 3, &ratekit.Pace{Rate: 1, Burst: 1}, now), "cost 3 at 1/s: wait")
	checkTTL("a pace learned, no debt", margin)
	mustReserve(t, l, "k", 1, nil, now)
	checkTTL("a debt of 1 s", time.Second+margin)
	mustReserve(t, l, "k", 0, &ratekit.Pace{PausedUntil: now.Add(30 * time.Second)}, now)
	checkTTL("a pause of 30 s", 30*time.Second+margin)
	before := pttl(t, client, pace)
	require.Equal(t, 29*time.Second, mustReserve(t, l, "k", 1, nil, now.Add(time.Second)), "paused: wait")
	assert.LessOrEqual(t, pttl(t, client, pace), before, "a rejection that learned nothing raised the PTTL")
	got = pttl(t, client, members)
	assert.LessOrEqual(t, got, window, "members: PTTL, want the peer window")
	assert.GreaterOrEqual(t, got, window-time.Second, "members: PTTL, want the peer window")
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
		require.NoError(t, err)
		if n == 0 {
			return
		}
		require.False(t, time.Now().After(deadline), "%d of the key's 2 Redis keys still exist 5 s after a debt of 10 ms", n)
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
		require.NoError(t, err)
		assert.Equal(t, want, got, "members")
	}
	membersAre("a", "b", "c")
	score, err := client.ZScore(context.Background(), "ratekit:{k}:members", "b").Result()
	require.NoError(t, err)
	assert.Equal(t, float64(t0.Add(time.Second).UnixMilli()), score, "b's score: its last call, Unix ms")
	// 10 s after a's call, a is no longer a peer; b and c are.
	mustReserve(t, ls[2], "k", 1, nil, t0.Add(window))
	membersAre("b", "c")
	assert.Equal(t, "a", ls[0].InstanceID())
}
