package mockserver

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testStoreWindowOptions checks Rule.Anchor, AnchorOffset, CountRejected and RoundEstimate through the Store
// interface, so that the memory and Redis stores run it alike: a table of requests at fixed instants with the
// decisions ALGORITHMS.md's arithmetic gives, then a random trace against the memory store.
func testStoreWindowOptions(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("Table", func(t *testing.T) { storeWindowOptionsTable(t, newStore(t)) })
	t.Run("MatchesMemoryStore", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 11))
		trace := genTrace(rng, traceConfig{steps: 1500, keys: 3, maxCost: 3, start: tMinute.Add(123457 * time.Microsecond),
			tick: 90 * time.Millisecond, grid: time.Microsecond, inspects: true}, windowOptionsTier)
		diffStores(t, newStore(t), newMemoryStore(1, DefaultMemoryStoreCapacity), windowOptionsTier, trace)
	})
}

// windowOptionsTier uses every window option at once, for the random trace.
var windowOptionsTier = []Rule{
	{Name: "first", Algorithm: FixedWindow, Policy: Policy{Limit: 5, Window: time.Second}, Anchor: AnchorFirstRequest, CountRejected: true},
	{Name: "offset", Algorithm: FixedWindow, Policy: Policy{Limit: 7, Window: time.Second}, AnchorOffset: 300 * time.Millisecond},
	{Name: "counter", Algorithm: SlidingWindowCounter, Policy: Policy{Limit: 6, Window: time.Second},
		AnchorOffset: 700 * time.Millisecond, RoundEstimate: true},
	{Name: "counted", Algorithm: SlidingWindowCounter, Policy: Policy{Limit: 9, Window: 2 * time.Second}, CountRejected: true},
}

// windowStep is one request of storeWindowOptionsTable and the decision it must get.
type windowStep struct {
	at        time.Duration // after tMinute
	allowed   bool
	remaining int64
	reset     time.Duration // after tMinute
	retry     time.Duration
}

func storeWindowOptionsTable(t *testing.T, s Store) {
	ms := time.Millisecond
	cases := []struct {
		name  string
		rule  Rule
		steps []windowStep
	}{
		{
			// ulule/limiter: the window opens at the first request (t0 + 250 ms), includes its last instant, and
			// every request counts, rejected or not.
			name: "FirstRequestCountingRejections",
			rule: Rule{Name: "w", Algorithm: FixedWindow, Policy: Policy{Limit: 2, Window: time.Second}, Anchor: AnchorFirstRequest, CountRejected: true},
			steps: []windowStep{
				{at: 250 * ms, allowed: true, remaining: 1, reset: 1250 * ms},
				{at: 300 * ms, allowed: true, remaining: 0, reset: 1250 * ms},
				{at: 400 * ms, allowed: false, remaining: 0, reset: 1250 * ms, retry: 850*ms + 1},
				{at: 1250 * ms, allowed: false, remaining: 0, reset: 1250 * ms, retry: 1}, // the last instant is in the window
				{at: 1251 * ms, allowed: true, remaining: 1, reset: 2251 * ms},            // a new window at this request
			},
		},
		{
			// Counted rejections push a sliding counter further: after 3 rejections at 0.9 s of a window with
			// 3 allowed, the next window starts with prev = 6.
			name: "CounterCountingRejections",
			rule: Rule{Name: "c", Algorithm: SlidingWindowCounter, Policy: Policy{Limit: 3, Window: time.Second}, CountRejected: true},
			steps: []windowStep{
				{at: 0, allowed: true, remaining: 2, reset: 2000 * ms},
				{at: 0, allowed: true, remaining: 1, reset: 2000 * ms},
				{at: 0, allowed: true, remaining: 0, reset: 2000 * ms},
				// counted: cur 4, then 5; the next window admits when 4 * (1 - x) + 1 <= 3 (x = 0.5), then 5 * (1 - x) + 1 <= 3
				{at: 900 * ms, allowed: false, remaining: 0, reset: 2000 * ms, retry: 600 * ms},
				{at: 900 * ms, allowed: false, remaining: 0, reset: 2000 * ms, retry: 700 * ms},
				// prev = 5 weighs 1 at 0.8 s into the next window: 1 + 1 <= 3 passes, remaining floor(3 - 2)
				{at: 1800 * ms, allowed: true, remaining: 1, reset: 3000 * ms},
			},
		},
		{
			// An offset of 400 ms: windows are [0.4 s, 1.4 s), [1.4 s, 2.4 s), ...
			name: "FixedWindowOffset",
			rule: Rule{Name: "o", Algorithm: FixedWindow, Policy: Policy{Limit: 1, Window: time.Second}, AnchorOffset: 400 * ms},
			steps: []windowStep{
				{at: 100 * ms, allowed: true, remaining: 0, reset: 400 * ms},
				{at: 300 * ms, allowed: false, remaining: 0, reset: 400 * ms, retry: 100 * ms},
				{at: 400 * ms, allowed: true, remaining: 0, reset: 1400 * ms},
			},
		},
		{
			// go-chi/httprate: round(estimate) + 1 <= L. prev = 4 at 0.3 s into the next window weighs 2.8,
			// which rounds to 3: one more request passes (3 + 1 <= 4), where the exact estimate (2.8 + 1 + 1 > 4)
			// would reject the second.
			name: "CounterRoundedEstimateAndOffset",
			rule: Rule{Name: "r", Algorithm: SlidingWindowCounter, Policy: Policy{Limit: 4, Window: time.Second},
				AnchorOffset: 200 * ms, RoundEstimate: true},
			steps: []windowStep{
				{at: 200 * ms, allowed: true, remaining: 3, reset: 2200 * ms},
				{at: 200 * ms, allowed: true, remaining: 2, reset: 2200 * ms},
				{at: 200 * ms, allowed: true, remaining: 1, reset: 2200 * ms},
				{at: 200 * ms, allowed: true, remaining: 0, reset: 2200 * ms},
				// 1.5 s: prev 4 weighs 4 * 0.7 = 2.8 -> 3; 3 + 1 <= 4 passes, remaining 4 - round(3.8) = 0
				{at: 1500 * ms, allowed: true, remaining: 0, reset: 3200 * ms},
				// estimate 3.8 rounds to 4: rejected until round(4 * (1 - x) + 1) <= 3, from x = 0.375 + 1 ns
				{at: 1500 * ms, allowed: false, remaining: 0, reset: 3200 * ms, retry: 75*ms + 1},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules := []Rule{tc.rule}
			key := "window-" + tc.name
			for i, st := range tc.steps {
				now := tMinute.Add(st.at)
				ds, err := s.Allow(context.Background(), key, rules, []int64{1}, now, nil)
				require.NoError(t, err)
				require.Len(t, ds, 1)
				d := ds[0]
				assert.Equal(t, st.allowed, d.Allowed, "step %d allowed", i)
				assert.Equal(t, st.remaining, d.Remaining, "step %d remaining", i)
				assert.Equal(t, st.reset, d.Reset.Sub(tMinute), "step %d reset", i)
				assert.Equal(t, st.retry, d.RetryAfter, "step %d retry-after", i)
			}
		})
	}
}
