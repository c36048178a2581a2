package mockserver_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// A token bucket of 2 requests per second with bursts of 3, decided at fixed instants: nothing reads the clock,
// so the same calls always get the same answers.
func ExampleNewLimiter() {
	lim, err := mockserver.NewLimiter(mockserver.TokenBucket, mockserver.Policy{Limit: 2, Window: time.Second, Burst: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Duration{0, 0, 0, 0, 250 * time.Millisecond, 500 * time.Millisecond} {
		now := start.Add(at)
		d := lim.Allow("client-1", 1, now)
		fmt.Printf("+%-5v allowed=%-5v remaining=%d reset=+%v retry-after=%v\n",
			at, d.Allowed, d.Remaining, d.Reset.Sub(now), d.RetryAfter)
	}
	// Output:
	// +0s    allowed=true  remaining=2 reset=+500ms retry-after=0s
	// +0s    allowed=true  remaining=1 reset=+1s retry-after=0s
	// +0s    allowed=true  remaining=0 reset=+1.5s retry-after=0s
	// +0s    allowed=false remaining=0 reset=+1.5s retry-after=500ms
	// +250ms allowed=false remaining=0 reset=+1.25s retry-after=250ms
	// +500ms allowed=true  remaining=0 reset=+1.5s retry-after=0s
}

// Bad input is an error that names the field and the values allowed.
func ExampleNewLimiter_errors() {
	_, err := mockserver.NewLimiter("tokenbucket", mockserver.Policy{Limit: 10, Window: time.Minute})
	fmt.Println(err)
	_, err = mockserver.NewLimiter(mockserver.FixedWindow, mockserver.Policy{Limit: 10})
	fmt.Println(err)
	// Output:
	// mockserver: unknown algorithm "tokenbucket": want one of fixed-window, sliding-window-log, sliding-window-counter, token-bucket, leaky-bucket, leaky-bucket-queue, gcra, concurrency
	// mockserver: fixed-window policy: window 0s: want window > 0
}

// A request that costs more than the capacity can never pass: it is rejected with RetryAfter 0, and
// CanNeverPass tells a handler to say so instead of sending a Retry-After.
func ExampleCanNeverPass() {
	p := mockserver.Policy{Limit: 100, Window: time.Minute, Burst: 20}
	lim, err := mockserver.NewLimiter(mockserver.GCRA, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, cost := range []int64{20, 21} {
		d := lim.Allow("export", cost, now.Add(time.Hour))
		fmt.Printf("cost %d: allowed=%v retry-after=%v never=%v\n", cost, d.Allowed, d.RetryAfter,
			mockserver.CanNeverPass(mockserver.GCRA, p, cost))
	}
	// Output:
	// cost 20: allowed=true retry-after=0s never=false
	// cost 21: allowed=false retry-after=0s never=true
}

// A tier is checked as a whole: here the burst rule rejects the third request, and the minute quota, which
// would have allowed it, is not charged for it.
func ExampleMemoryStore_Allow() {
	store := mockserver.NewMemoryStore()
	tier := []mockserver.Rule{
		{Name: "minute", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 60, Window: time.Minute}},
		{Name: "burst", Algorithm: mockserver.TokenBucket, Policy: mockserver.Policy{Limit: 1, Window: time.Second, Burst: 2}},
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var ds []mockserver.Decision
	for range 3 {
		var err error
		ds, err = store.Allow(context.Background(), "client-1", tier, []int64{1, 1}, now, ds[:0])
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: allowed=%v remaining=%d, %s: allowed=%v remaining=%d\n",
			tier[0].Name, ds[0].Allowed, ds[0].Remaining, tier[1].Name, ds[1].Allowed, ds[1].Remaining)
	}
	// Output:
	// minute: allowed=true remaining=59, burst: allowed=true remaining=1
	// minute: allowed=true remaining=58, burst: allowed=true remaining=0
	// minute: allowed=true remaining=58, burst: allowed=false remaining=0
}
