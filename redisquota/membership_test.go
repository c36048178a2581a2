package redisquota_test

import (
	"context"
	"testing"
	"time"

	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/ratekit/ratekit/redisquota"
)

// TestMembershipIsWrittenOncePerQuarterWindow: an instance's heartbeat in the members set is rewritten only
// when a quarter of the peer window has passed since it was written, not on every call.
func TestMembershipIsWrittenOncePerQuarterWindow(t *testing.T) {
	client := redistest.Start(t).Client()
	ctx := context.Background()
	const window = 40 * time.Second
	const members = "ratekit:{k}:members"
	a := newLimiter(t, client, redisquota.WithPeerWindow(window), redisquota.WithInstanceID("a"))
	b := newLimiter(t, client, redisquota.WithPeerWindow(window), redisquota.WithInstanceID("b"))
	score := func(member string) float64 {
		t.Helper()
		s, err := client.ZScore(ctx, members, member).Result()
		if err != nil {
			t.Fatalf("ZSCORE %s: %v", member, err)
		}
		return s
	}
	ms := func(at time.Time) float64 { return float64(at.UnixMilli()) }

	mustReserve(t, a, "k", 1, nil, t0)
	mustReserve(t, b, "k", 1, nil, t0)
	for _, tt := range []struct {
		after time.Duration
		want  time.Duration // a's score, from t0
	}{
		{time.Second, 0},
		{9999 * time.Millisecond, 0},         // less than window/4 since the write: read only
		{10 * time.Second, 10 * time.Second}, // a quarter of the window: written
		{15 * time.Second, 10 * time.Second},
		{20 * time.Second, 20 * time.Second},
	} {
		mustReserve(t, a, "k", 0, nil, t0.Add(tt.after))
		if got := score("a"); got != ms(t0.Add(tt.want)) {
			t.Errorf("after %v: a's heartbeat at %v, want %v", tt.after, time.UnixMilli(int64(got)).Sub(t0), tt.want)
		}
	}
	if got := score("b"); got != ms(t0) {
		t.Errorf("b's heartbeat moved without a call of b: %v", got)
	}
}
