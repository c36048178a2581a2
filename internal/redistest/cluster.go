package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// clusterReadyTimeout bounds the wait for a new cluster to agree on its slots.
const clusterReadyTimeout = 20 * time.Second

// Cluster is a Redis Cluster of masters without replicas that a test owns.
type Cluster struct {
	t     testing.TB
	nodes []*Server
}

// StartCluster starts n redis-server processes in cluster mode (n = 3 makes the smallest cluster Redis itself
// recommends), gives each an equal share of the 16384 hash slots, introduces them to each other, and returns
// when every node reports cluster_state:ok and knows every other node's slots. The nodes are killed, and every
// client from Client closed, when the test ends. It skips or fails the test as Start does when redis-server is
// missing, and fails it when n is not between 1 and 100.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 1 || n > 100 {
		t.Fatalf("redistest: StartCluster with %d nodes: want 1 to 100", n)
	}
	bin := lookPath(t)
	c := &Cluster{t: t}
	for range n {
		c.nodes = append(c.nodes, start(t, bin, true))
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterReadyTimeout)
	defer cancel()
	if err := c.form(ctx); err != nil {
		t.Fatalf("redistest: forming a cluster of %d nodes: %v", n, err)
	}
	return c
}

// form assigns the slots, makes the nodes meet, and waits until they agree.
func (c *Cluster) form(ctx context.Context) error {
	clients := make([]*redis.Client, len(c.nodes))
	for i, s := range c.nodes {
		clients[i] = redis.NewClient(s.Options())
		defer clients[i].Close()
	}
	n := len(c.nodes)
	for i, rdb := range clients {
		first, last := i*clusterSlots/n, (i+1)*clusterSlots/n-1
		if err := rdb.ClusterAddSlotsRange(ctx, first, last).Err(); err != nil {
			return fmt.Errorf("CLUSTER ADDSLOTSRANGE %d %d on %s: %w", first, last, c.nodes[i].addr, err)
		}
	}
	for _, s := range c.nodes[1:] {
		host, port, _ := strings.Cut(s.addr, ":")
		// Redis 7 takes the cluster bus port as a third argument; this package does not use port + 10000.
		if err := clients[0].Do(ctx, "CLUSTER", "MEET", host, port, s.clusterPort).Err(); err != nil {
			return fmt.Errorf("CLUSTER MEET %s from %s: %w", s.addr, c.nodes[0].addr, err)
		}
	}
	for {
		pending := ""
		for i, rdb := range clients {
			info, err := rdb.ClusterInfo(ctx).Result()
			if err != nil {
				return fmt.Errorf("CLUSTER INFO on %s: %w", c.nodes[i].addr, err)
			}
			if !clusterReady(info, n) {
				pending = c.nodes[i].addr + ": " + strings.Join(strings.Fields(info)[:3], " ")
				break
			}
		}
		if pending == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the nodes did not agree within %v (%s)", clusterReadyTimeout, pending)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// clusterReady reports whether a node's CLUSTER INFO shows a healthy cluster of n nodes with every slot served.
func clusterReady(info string, n int) bool {
	fields := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok {
			fields[k] = v
		}
	}
	return fields["cluster_state"] == "ok" &&
		fields["cluster_known_nodes"] == strconv.Itoa(n) &&
		fields["cluster_slots_ok"] == strconv.Itoa(clusterSlots)
}

// Nodes returns the cluster's nodes, to stop, pause or restart one of them.
func (c *Cluster) Nodes() []*Server { return c.nodes }

// Addrs returns the nodes' addresses.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, s := range c.nodes {
		addrs[i] = s.addr
	}
	return addrs
}

// Options returns the cluster client options this package recommends (see Server.Options). Callers that build
// their own client from them must close it.
func (c *Cluster) Options() *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                    c.Addrs(),
		ContextTimeoutEnabled:    true,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

// Client returns a new cluster client (a *redis.ClusterClient built from Options), closed when the test ends.
func (c *Cluster) Client() redis.UniversalClient {
	rdb := redis.NewClusterClient(c.Options())
	c.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
