package mockserver

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// redisScanCount is the COUNT hint of each SCAN: how many keys Redis examines per call.
const redisScanCount = 1000

// Reset forgets every state of key, or of every key when key is "": it deletes (UNLINK) the keys under the
// store's prefix that SCAN finds, on every master of a cluster. It never flushes a database, so stores with
// other prefixes, and whatever else shares the Redis, are left alone.
func (s *RedisStore) Reset(ctx context.Context, key string) error {
	if key == "" {
		err := s.eachNode(ctx, func(ctx context.Context, node redis.Cmdable) error {
			return s.unlinkMatching(ctx, node, globEscape(s.prefix)+"*")
		})
		if err != nil {
			return fmt.Errorf("mockserver: redis store: reset all keys: %w", err)
		}
		return nil
	}
	pattern := globEscape(s.tag(key)) + "*"
	var err error
	if cluster, ok := s.client.(*redis.ClusterClient); ok {
		// Every state of key is in the hash slot of its tag: only that slot's master holds any.
		var node *redis.Client
		if node, err = s.masterFor(ctx, cluster, s.tag(key)); err == nil {
			err = s.unlinkMatching(ctx, node, pattern)
		}
	} else {
		err = s.eachNode(ctx, func(ctx context.Context, node redis.Cmdable) error {
			return s.unlinkMatching(ctx, node, pattern)
		})
	}
	if err != nil {
		return fmt.Errorf("mockserver: redis store: reset %q: %w", key, err)
	}
	return nil
}

// Len reports how many (rule, key) states the store holds now: the keys under its prefix that SCAN counts, on
// every master of a cluster. Idle keys whose TTL has not run out yet are counted.
func (s *RedisStore) Len(ctx context.Context) (int, error) {
	var n atomic.Int64
	pattern := globEscape(s.prefix) + "*"
	err := s.eachNode(ctx, func(ctx context.Context, node redis.Cmdable) error {
		return s.scan(ctx, node, pattern, func(keys []string) error {
			n.Add(int64(len(keys)))
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("mockserver: redis store: len: %w", err)
	}
	return int(n.Load()), nil
}

// masterFor returns the master of a cluster that holds key's slot, within the store's timeout.
func (s *RedisStore) masterFor(ctx context.Context, cluster *redis.ClusterClient, key string) (*redis.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return cluster.MasterForKey(ctx, key)
}

// eachNode calls fn for every node that holds keys: each master of a cluster, each shard of a ring, or the one
// server of any other client. A cluster's or a ring's nodes are visited concurrently.
func (s *RedisStore) eachNode(ctx context.Context, fn func(ctx context.Context, node redis.Cmdable) error) error {
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return fn(ctx, node) })
	case *redis.Ring:
		return c.ForEachShard(ctx, func(ctx context.Context, node *redis.Client) error { return fn(ctx, node) })
	}
	return fn(ctx, s.client)
}

// scan calls fn with each page of the keys of node that match pattern. Each SCAN call gets the store's timeout.
func (s *RedisStore) scan(ctx context.Context, node redis.Cmdable, pattern string, fn func(keys []string) error) error {
	var cursor uint64
	for {
		callCtx, cancel := context.WithTimeout(ctx, s.timeout)
		keys, next, err := node.Scan(callCtx, cursor, pattern, redisScanCount).Result()
		cancel()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// unlinkMatching deletes the keys of node that match pattern, one pipeline of single-key UNLINKs per page (a
// multi-key UNLINK would fail on a cluster node when the keys are in different slots).
func (s *RedisStore) unlinkMatching(ctx context.Context, node redis.Cmdable, pattern string) error {
	return s.scan(ctx, node, pattern, func(keys []string) error {
		callCtx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		pipe := node.Pipeline()
		for _, k := range keys {
			pipe.Unlink(callCtx, k)
		}
		_, err := pipe.Exec(callCtx)
		return err
	})
}

// globEscape escapes the characters that are special in a Redis MATCH pattern (* ? [ ] \), so that s matches
// itself only.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ { // bytes, not runes: keys need not be UTF-8
		if strings.IndexByte(`*?[]\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
