package ratekit

import (
	"context"
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
