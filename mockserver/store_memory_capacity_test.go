package mockserver

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoryStoreEvictsLeastRecentlyUsed: a full store forgets the state used longest ago, whether its last
// request was allowed or rejected, and never one of the requesting key's own rules.
func TestMemoryStoreEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	rules := []Rule{{Name: "hour", Algorithm: FixedWindow, Policy: Policy{Limit: 1, Window: time.Hour}}}
	s := newMemoryStore(1, 3)
	allow := func(key string) bool {
		ds, err := s.Allow(ctx, key, rules, []int64{1}, tMinute, nil)
		require.NoError(t, err)
		return ds[0].Allowed
	}
	for _, k := range []string{"a", "b", "c"} {
		require.True(t, allow(k))
	}
	require.False(t, allow("a")) // a rejection is a use: a is now the most recent
	require.True(t, allow("d"))  // evicts b
	assert.Equal(t, uint64(1), s.Evictions())
	assert.False(t, allow("a"), "a was used recently: still limited")
	assert.True(t, allow("b"), "b was evicted: a fresh quota")
	n, err := s.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	// A key's own rules are never evicted to make room for it.
	two := []Rule{rules[0], {Name: "day", Algorithm: FixedWindow, Policy: Policy{Limit: 5, Window: 24 * time.Hour}}}
	s = newMemoryStore(1, 1)
	ds, err := s.Allow(ctx, "k", two, []int64{1, 1}, tMinute, nil)
	require.NoError(t, err)
	require.True(t, ds[0].Allowed && ds[1].Allowed)
	ds, err = s.Allow(ctx, "k", two, []int64{1, 1}, tMinute, nil)
	require.NoError(t, err)
	assert.False(t, ds[0].Allowed, "k's hour rule was kept while k used it")
}

// TestMemoryStoreCapacityHoldsUnderChurn: many keys through a small store keep the recency list consistent
// (every entry on it once, in the index) and the size within the capacity.
func TestMemoryStoreCapacityHoldsUnderChurn(t *testing.T) {
	ctx := context.Background()
	rules := []Rule{
		{Name: "minute", Algorithm: TokenBucket, Policy: Policy{Limit: 10, Window: time.Minute}},
		{Name: "hour", Algorithm: SlidingWindowLog, Policy: Policy{Limit: 100, Window: time.Hour}},
	}
	s := NewMemoryStoreWithCapacity(500)
	for i := range 20_000 {
		now := tMinute.Add(time.Duration(i) * time.Millisecond)
		_, err := s.Allow(ctx, "k"+strconv.Itoa(i%3000), rules, []int64{1, 1}, now, nil)
		require.NoError(t, err)
	}
	total := 0
	for i := range s.shards {
		sh := &s.shards[i]
		total += len(sh.entries)
		assert.LessOrEqual(t, len(sh.entries), sh.capacity+len(rules)-1)
		seen := 0
		for j, prev := sh.head, int32(-1); j >= 0; prev, j = j, sh.links[j].next {
			require.Equal(t, prev, sh.links[j].prev)
			require.Equal(t, int(j), sh.index[sh.entries[j].id])
			seen++
			require.LessOrEqual(t, seen, len(sh.entries), "the recency list loops")
		}
		assert.Equal(t, len(sh.entries), seen)
	}
	assert.LessOrEqual(t, total, s.Capacity()+len(s.shards))
	assert.Positive(t, s.Evictions())
}

// TestSlidingLogMemoryIsCapped: a key under a large limit keeps at most slidingLogMaxEntries entries, and the
// cap errs only towards rejecting: no window ever holds more than the limit.
func TestSlidingLogMemoryIsCapped(t *testing.T) {
	ctx := context.Background()
	const limit = 5000
	rules := []Rule{{Name: "minute", Algorithm: SlidingWindowLog, Policy: Policy{Limit: limit, Window: time.Minute}}}
	s := newMemoryStore(1, 10)
	var allowedAt []time.Time
	for i := range 100_000 {
		now := tMinute.Add(time.Duration(i) * 2 * time.Millisecond) // 200 s, 500 distinct instants a second
		ds, err := s.Allow(ctx, "k", rules, []int64{1}, now, nil)
		require.NoError(t, err)
		if ds[0].Allowed {
			allowedAt = append(allowedAt, now)
		}
	}
	sh := &s.shards[0]
	require.Len(t, sh.entries, 1)
	log := sh.entries[0].state.log
	require.NotNil(t, log)
	assert.LessOrEqual(t, len(log.entries)-log.head, 1000, "the documented cap")
	assert.LessOrEqual(t, cap(log.entries), 2*1000+1)
	for i, j := 0, 0; j < len(allowedAt); j++ { // every window (allowedAt[j] - W, allowedAt[j]]
		for allowedAt[i].Compare(allowedAt[j].Add(-time.Minute)) <= 0 {
			i++
		}
		require.LessOrEqual(t, j-i+1, limit, "window ending %v", allowedAt[j])
	}
	assert.Greater(t, len(allowedAt), limit, "the log frees room as entries expire")
}
