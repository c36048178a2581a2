package mockserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit/internal/redistest"
)

// TestRedisStoreLateDecisionCountsNothing: a decision that reaches Redis after its deadline (Redis stalled
// while the call waited) changes nothing and fails with context.DeadlineExceeded, instead of taking quota for
// a request its server has already served uncounted (fail-open) or refused (fail-closed). The client here
// keeps its connection past the deadline (no ContextTimeoutEnabled), as a call in flight does when Redis
// stalls after reading it.
func TestRedisStoreLateDecisionCountsNothing(t *testing.T) {
	srv := redistest.Start(t)
	opts := srv.Options()
	opts.ContextTimeoutEnabled = false
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	s := newTestRedisStore(t, client, WithRedisTimeout(200*time.Millisecond))
	ctx := context.Background()
	rules := []Rule{{Name: "hour", Algorithm: FixedWindow, Policy: Policy{Limit: 5, Window: time.Hour}}}
	mustAllow(t, s, "warm-up", rules, []int64{1}, tMinute) // the script is loaded

	pauser := srv.Client()
	require.NoError(t, pauser.Do(ctx, "CLIENT", "PAUSE", "600", "ALL").Err())
	_, err := s.Allow(ctx, "late", rules, []int64{1}, tMinute, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)

	ds, err := s.Inspect(ctx, "late", rules, tMinute, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(4), ds[0].Remaining, "the late decision took no quota: a request of cost 1 would leave 4")
}
