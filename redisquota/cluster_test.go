package redisquota_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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
			if want, got := mustReserve(t, ref, key, 1, learned, now), mustReserve(t, l, key, 1, learned, now); got != want {
				t.Errorf("key %q, call %d: wait %v, LocalLimiter %v", key, j, got, want)
			}
		}
		pace, members := "ratekit:{"+key+"}:pace", "ratekit:{"+key+"}:members"
		ps, err := cc.ClusterKeySlot(ctx, pace).Result()
		if err != nil {
			t.Fatal(err)
		}
		ms, err := cc.ClusterKeySlot(ctx, members).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ps != ms {
			t.Errorf("key %q: pace in slot %d, members in slot %d: want one slot", key, ps, ms)
		}
		node, err := cc.MasterForKey(ctx, pace)
		if err != nil {
			t.Fatal(err)
		}
		// Both keys are on that master (asked directly, not through the cluster client's routing).
		if n, err := node.Exists(ctx, pace, members).Result(); err != nil || n != 2 {
			t.Errorf("key %q: %d of its 2 Redis keys on its slot's master %s (%v)", key, n, node.Options().Addr, err)
		}
		masters[node.Options().Addr]++
	}
	if len(masters) != 3 {
		t.Errorf("30 keys landed on %d masters (%v), want all 3", len(masters), masters)
	}
}
