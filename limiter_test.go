package ratekit

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalLimiterGCRA(t *testing.T) {
	l := NewLocalLimiter()
	ctx := context.Background()
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// Nothing learned: no pace.
	for range 5 {
		w, err := l.Reserve(ctx, "k", 1, nil, t0)
		require.NoError(t, err)
		require.Zero(t, w, "an unpaced key waits")
	}
	// 10 a second in bursts of 2: two at once, then one every 100 ms.
	pace := &Pace{Rate: 10, Burst: 2}
	steps := []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, 0}, {0, 0}, {0, 100 * time.Millisecond}, {100 * time.Millisecond, 0}, {150 * time.Millisecond, 50 * time.Millisecond}, {200 * time.Millisecond, 0},
	}
	for i, s := range steps {
		var learned *Pace
		if i == 0 {
			learned = pace
		}
		w, _ := l.Reserve(ctx, "p", 1, learned, at(s.at))
		assert.Equal(t, s.want, w, "step %d at %v", i, s.at)
	}
	// A pause binds every caller until it ends, whatever the pace; a later one extends it.
	l.Reserve(ctx, "p", 0, &Pace{PausedUntil: at(5 * time.Second)}, at(time.Second))
	w, _ := l.Reserve(ctx, "p", 1, nil, at(2*time.Second))
	assert.Equal(t, 3*time.Second, w, "paused")
	l.Reserve(ctx, "p", 0, &Pace{PausedUntil: at(4 * time.Second)}, at(2*time.Second))
	w, _ = l.Reserve(ctx, "p", 1, nil, at(2*time.Second))
	assert.Equal(t, 3*time.Second, w, "an earlier pause shortened the wait")
	w, _ = l.Reserve(ctx, "p", 1, nil, at(5*time.Second))
	assert.Zero(t, w, "after the pause")
	// Keys are independent, and idle ones are forgotten.
	w, _ = l.Reserve(ctx, "other", 1, nil, at(5*time.Second))
	assert.Zero(t, w, "another key")
	l.Reserve(ctx, "late", 1, nil, at(time.Hour))
	assert.Equal(t, 1, l.Len(), "keys after an hour")
}

// TestPaceSpans: the conversion that LocalLimiter and redisquota share, including the values a server
// never sends but a caller might: they are clamped, never turned into nonsense (a tiny rate once became
// "1 ns per unit", unlimited).
func TestPaceSpans(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		pace            Pace
		interval, burst time.Duration
	}{
		{Pace{}, 0, 0},
		{Pace{Rate: -1, Burst: 5}, 0, 0},
		{Pace{Rate: math.NaN(), Burst: 5}, 0, 0},
		{Pace{Rate: 10, Burst: 2}, 100 * time.Millisecond, 200 * time.Millisecond},
		{Pace{Rate: 3, Burst: 1.5}, 333333333, 499999999},
		{Pace{Rate: 10, Burst: 0.2}, 100 * time.Millisecond, 100 * time.Millisecond},
		{Pace{Rate: 10, Burst: math.NaN()}, 100 * time.Millisecond, 100 * time.Millisecond},
		{Pace{Rate: 10, Burst: inf}, 100 * time.Millisecond, maxPaceSpan},
		{Pace{Rate: 2e9, Burst: 1}, 1, 1},
		{Pace{Rate: inf, Burst: 3}, 1, 3},
		{Pace{Rate: 1e-300, Burst: 1}, maxPaceSpan, maxPaceSpan},
	}
	for _, tt := range tests {
		interval, burst := tt.pace.Spans()
		assert.Equal(t, tt.interval, interval, "%+v.Spans() interval", tt.pace)
		assert.Equal(t, tt.burst, burst, "%+v.Spans() burst", tt.pace)
	}
}
