package ratekit

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestLocalLimiterGCRA(t *testing.T) {
	l := NewLocalLimiter()
	ctx := context.Background()
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// Nothing learned: no pace.
	for range 5 {
		if w, _ := l.Reserve(ctx, "k", 1, nil, t0); w != 0 {
			t.Fatalf("unpaced key waits %v", w)
		}
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
		if w, _ := l.Reserve(ctx, "p", 1, learned, at(s.at)); w != s.want {
			t.Errorf("step %d at %v: wait %v, want %v", i, s.at, w, s.want)
		}
	}
	// A pause binds every caller until it ends, whatever the pace; a later one extends it.
	l.Reserve(ctx, "p", 0, &Pace{PausedUntil: at(5 * time.Second)}, at(time.Second))
	if w, _ := l.Reserve(ctx, "p", 1, nil, at(2*time.Second)); w != 3*time.Second {
		t.Errorf("paused: wait %v, want 3s", w)
	}
	l.Reserve(ctx, "p", 0, &Pace{PausedUntil: at(4 * time.Second)}, at(2*time.Second))
	if w, _ := l.Reserve(ctx, "p", 1, nil, at(2*time.Second)); w != 3*time.Second {
		t.Errorf("an earlier pause shortened the wait to %v", w)
	}
	if w, _ := l.Reserve(ctx, "p", 1, nil, at(5*time.Second)); w != 0 {
		t.Errorf("after the pause: wait %v", w)
	}
	// Keys are independent, and idle ones are forgotten.
	if w, _ := l.Reserve(ctx, "other", 1, nil, at(5*time.Second)); w != 0 {
		t.Errorf("another key waits %v", w)
	}
	l.Reserve(ctx, "late", 1, nil, at(time.Hour))
	if n := l.Len(); n != 1 {
		t.Errorf("%d keys after an hour, want 1", n)
	}
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
		if interval != tt.interval || burst != tt.burst {
			t.Errorf("%+v.Spans() = %d, %d ns; want %d, %d ns", tt.pace, interval, burst, tt.interval, tt.burst)
		}
	}
}
