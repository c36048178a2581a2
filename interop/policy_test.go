package interop

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestIdeal(t *testing.T) {
	for _, c := range []struct {
		alg  Algorithm
		p    Policy
		n    int
		want time.Duration
	}{
		{TokenBucket, PerSecond50, 200, 190 * 20 * time.Millisecond}, // 10 at once, 190 at 20 ms
		{TokenBucket, PerSecond50, 10, 0},
		{TokenBucket, PerSecond50, 1, 0},
		{TokenBucket, PerMinute, 200, 190 * 600 * time.Millisecond},
		{LeakyBucketNginx, PerSecond50, 200, 189 * 20 * time.Millisecond}, // burst+1 at once
		{LeakyQueueNginx, PerSecond50, 200, 199 * 20 * time.Millisecond},
		{FixedWindowFirstRequest, PerSecond50, 200, 3 * time.Second}, // windows at 0, 1, 2, 3 s
		{FixedWindowFirstRequest, PerSecond50, 201, 4 * time.Second},
		{FixedWindowFirstRequest, PerSecond50, 50, 0},
		{FixedWindowFirstRequest, PerMinute, 200, time.Minute},
		{SlidingLog, PerSecond50, 50, 0},
		{SlidingLog, PerSecond50, 51, time.Second}, // the first entry leaves the log a window after it came
		{SlidingLog, PerSecond50, 200, 3 * time.Second},
		{SlidingLog, PerSecond10, 60, 5 * time.Second},
		{SlidingWindowCounter, PerSecond50, 50, 0},
		{SlidingWindowCounter, PerSecond50, 51, time.Second + 10*time.Millisecond}, // (1-0.5)/50 s into window 1
		{SlidingWindowCounter, PerSecond50, 200, 3*time.Second + 990*time.Millisecond},
		{FreqCtrHAProxy, PerSecond50, 50, 0},
		{FreqCtrHAProxy, PerSecond50, 51, time.Second}, // 1 ms into period 1, which starts up to 1 ms early
		{FreqCtrHAProxy, PerSecond50, 52, time.Second + 20*time.Millisecond},
		{FreqCtrHAProxy, PerSecond50, 200, 3*time.Second + 980*time.Millisecond},
		{FreqCtrHAProxy, PerSecond10, 60, 5*time.Second + 900*time.Millisecond},
		{FreqCtrHAProxy, PerMinute, 200, time.Minute + 99*600*time.Millisecond},
		{TokenBucket, PerSecond50, 0, 0},
	} {
		t.Run(fmt.Sprintf("%s/%s/%d", c.alg, c.p.Name, c.n), func(t *testing.T) {
			assert.Equal(t, c.want, c.alg.Ideal(c.p, c.n))
		})
	}
	assert.PanicsWithValue(t, `interop: unknown algorithm "x"`, func() { Algorithm("x").Ideal(PerSecond50, 2) })
}

func TestResultScores(t *testing.T) {
	r := Result{N: 200, Completed: 100, Elapsed: 2 * time.Second, Ideal: time.Second, Sent: 250, Rejected: 50}
	assert.InDelta(t, 0.25, r.Efficiency(), 1e-9) // half the speed, half done
	assert.InDelta(t, 0.2, r.RejectedShare(), 1e-9)
	r.Elapsed = time.Millisecond // faster than the ideal (the batch gave up): capped at 1, times the share done
	assert.InDelta(t, 0.5, r.Efficiency(), 1e-9)
	assert.Zero(t, Result{}.Efficiency())
	assert.Zero(t, Result{}.RejectedShare())
}

func ExampleAlgorithm_Ideal() {
	// 200 requests at 50 requests/s with a burst of 10 (or 50 per 1 s window), as each algorithm allows.
	for _, a := range []Algorithm{TokenBucket, LeakyBucketNginx, FixedWindowFirstRequest, SlidingLog, SlidingWindowCounter, FreqCtrHAProxy} {
		fmt.Printf("%-22s %v\n", a, a.Ideal(PerSecond50, 200))
	}
	// Output:
	// token-bucket           3.8s
	// nginx-nodelay          3.78s
	// fixed-window           3s
	// sliding-log            3s
	// sliding-window-counter 3.99s
	// haproxy-freq-ctr       3.98s
}
