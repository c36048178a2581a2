package oracle

import (
	"testing"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

func TestIdealTime(t *testing.T) {
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // aligned to every window
	p := mockserver.Policy{Limit: 50, Window: 10 * time.Second}
	for _, c := range []struct {
		algorithm string
		want      time.Duration
	}{
		{mockserver.FixedWindow, 50 * time.Second},      // 6 windows of 50: the last opens at 50 s
		{mockserver.SlidingWindowLog, 50 * time.Second}, // entries expire 10 s after the burst
		// The previous window's count weighs on the next: 50 at once, then a little under 5 a second.
		{mockserver.SlidingWindowCounter, 60816326531},
		{mockserver.TokenBucket, 50 * time.Second}, // a burst of 50, then 5 a second
		{mockserver.GCRA, 50 * time.Second},
		{mockserver.LeakyBucket, 50 * time.Second},
		{mockserver.LeakyBucketQueue, 59800 * time.Millisecond}, // served at 5 a second from the first
		{mockserver.Concurrency, 0},
	} {
		got, err := IdealTime(c.algorithm, p, 300, start)
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.algorithm, got, err, c.want)
		}
	}
	// A window that is half over at the start: the first 50 now, the next at 5 s.
	if got, _ := IdealTime(mockserver.FixedWindow, p, 100, start.Add(5*time.Second)); got != 5*time.Second {
		t.Errorf("fixed window from mid-window: %v, want 5s", got)
	}
}
