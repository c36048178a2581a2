package redisquota_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// TestCluster: on a Redis Cluster of 3 masters, both Redis keys of a client key live in one hash slot (so
// the script may use them together), client keys spread over every master, and every key decides as
// LocalLimiter does: the decision table, and a random trace.
func TestCluster(t *testing.T) {
	cluster := redistest.StartCluster(t, 3)
	client := cluster.Client()
	cc := client.(*redis.ClusterClient)
	ctx := context.Background()

	t.Run("decision table", func(t *testing.T) {
		runDecisionTable(t, newLimiter(t, client))
	})

	l := newLimiter(t, client)
	ref := ratekit.NewLocalLimiter()
	masters := map[string]int{}
	for i := range 30 {
		key := fmt.Sprintf("https://api%d.example.com", i)
		for j := range 4 {
			learned := &ratekit.Pace{Rate: float64(10 + i), Burst: 2}
			now := t0.Add(time.Duration(j) * 7 * time.Millisecond)
			want, got := mustReserve(t, ref, key, 1, learned, now), mustReserve(t, l, key, 1, learned, now)
			assert.Equal(t, want, got, "key %q, call %d: wait, against LocalLimiter's", key, j)
		}
		pace, members := "ratekit:{"+key+"}:pace", "ratekit:{"+key+"}:members"
		ps, err := cc.ClusterKeySlot(ctx, pace).Result()
		require.NoError(t, err)
		ms, err := cc.ClusterKeySlot(ctx, members).Result()
		require.NoError(t, err)
		assert.Equal(t, ps, ms, "key %q: the slots of pace and members", key)
		node, err := cc.MasterForKey(ctx, pace)
		require.NoError(t, err)
		// Both keys are on that master (asked directly, not through the cluster client's routing).
		n, err := node.Exists(ctx, pace, members).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(2), n, "key %q: its Redis keys on its slot's master %s", key, node.Options().Addr)
		masters[node.Options().Addr]++
	}
	assert.Len(t, masters, 3, "the masters 30 keys landed on")
}
