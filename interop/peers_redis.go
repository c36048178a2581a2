package interop

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/middleware/stdlib"
	ulredis "github.com/ulule/limiter/v3/drivers/store/redis"
)

const redisRateVersion = "v10.0.1"

// RedisPeers are the Redis-backed Go libraries at the per-second policies (they run in real time: Redis
// keeps the clock).
func RedisPeers() []Peer {
	var ps []Peer
	for _, p := range []Policy{PerSecond50, PerSecond10} {
		ps = append(ps, RedisRate(p), UluleRedis(p))
	}
	return ps
}

// startRedis starts a throwaway redis-server on a free port of 127.0.0.1 (no persistence, files in a
// temporary directory) and returns a client of it; Close of the target stops both.
func startRedis(ctx context.Context, t *Target) (*redis.Client, error) {
	bin, err := lookPath("redis-server", "apt-get install redis-server", RequireRedisEnv)
	if err != nil {
		return nil, err
	}
	dir, rm, err := tempDir("redis")
	if err != nil {
		return nil, err
	}
	t.onClose(rm)
	p, addr, err := startServer(ctx, "redis-server", func(port int) (*exec.Cmd, string, error) {
		return exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "",
			"--appendonly", "no", "--dir", dir, "--daemonize", "no"), filepath.Join(dir, "redis-"+strconv.Itoa(port)+".log"), nil
	}, redisReady)
	if err != nil {
		return nil, err
	}
	t.onClose(p.stop)
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 16})
	t.onClose(func() { _ = rdb.Close() })
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("interop: redis-server on %s: %w", addr, err)
	}
	return rdb, nil
}

// redisReady checks that the server on addr is the redis-server of pid (INFO server names its process_id).
func redisReady(ctx context.Context, addr string, pid int) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1})
	defer rdb.Close()
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "process_id:"+strconv.Itoa(pid)+"\r\n") {
		return fmt.Errorf("the Redis on %s is not process %d: another server has the port", addr, pid)
	}
	return nil
}

// RedisRate is go-redis/redis_rate v10 (GCRA in a Lua script) behind the few lines of middleware every user
// writes, since the library sends no headers itself (its README shows none): RateLimit-Limit is the
// limit's Rate, RateLimit-Remaining the result's Remaining, RateLimit-Reset and, on a 429, Retry-After its
// ResetAfter and RetryAfter rounded up to whole seconds.
func RedisRate(p Policy) Peer {
	return Peer{Library: "redis_rate", Version: redisRateVersion, Policy: p, Algorithm: TokenBucket,
		Start: func(ctx context.Context) (*Target, error) {
			t := &Target{}
			rdb, err := startRedis(ctx, t)
			if err != nil {
				t.Close()
				return nil, err
			}
			lim := redis_rate.NewLimiter(rdb)
			limit := redis_rate.Limit{Rate: p.Limit, Period: p.Window, Burst: p.Burst}
			t.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res, err := lim.Allow(r.Context(), "client", limit)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				h := w.Header()
				h.Set("RateLimit-Limit", strconv.Itoa(res.Limit.Rate))
				h.Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
				h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(res.ResetAfter)))
				if res.Allowed == 0 {
					h.Set("Retry-After", strconv.Itoa(ceilSeconds(res.RetryAfter)))
					http.Error(w, "rate limited", http.StatusTooManyRequests)
					return
				}
				protected.ServeHTTP(w, r)
			})
			return t, nil
		}}
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// UluleRedis is ulule/limiter v3 with its Redis store (a fixed window per key, its expiry set at the key's
// first request) and its net/http middleware.
func UluleRedis(p Policy) Peer {
	return Peer{Library: "ulule-limiter", Variant: "redis", Version: ululeVersion, Policy: p, Algorithm: FixedWindowFirstRequest,
		Start: func(ctx context.Context) (*Target, error) {
			t := &Target{}
			rdb, err := startRedis(ctx, t)
			if err != nil {
				t.Close()
				return nil, err
			}
			store, err := ulredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: limiter.DefaultPrefix, MaxRetry: limiter.DefaultMaxRetry})
			if err != nil {
				t.Close()
				return nil, fmt.Errorf("interop: ulule/limiter redis store: %w", err)
			}
			lim := limiter.New(store, limiter.Rate{Period: p.Window, Limit: int64(p.Limit)})
			t.Handler = stdlib.NewMiddleware(lim).Handler(protected)
			return t, nil
		}}
}
