package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ratekit/ratekit/internal/redistest/freeport"
)

// sharedRedis is where the fleet shares its quota: a Redis at REDIS_URL, or a redis-server this program
// started and stops.
type sharedRedis struct {
	options *redis.Options
	where   string // for the header: what this Redis is
	stop    func() // kills the redis-server this program started; nil for REDIS_URL
}

// errNoRedis means neither REDIS_URL nor redis-server is there.
var errNoRedis = errors.New("REDIS_URL is not set and redis-server is not installed")

// findRedis returns the Redis at REDIS_URL, or starts a redis-server on a free port of 127.0.0.1, keeping
// nothing on disk.
func findRedis(ctx context.Context) (*sharedRedis, error) {
	if url := os.Getenv("REDIS_URL"); url != "" {
		opts, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		return &sharedRedis{options: opts, where: "Redis at REDIS_URL (" + opts.Addr + ")"}, nil
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errNoRedis
	}
	port, err := freeport.Get()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ratekit-fleet-redis-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	r := &sharedRedis{
		options: &redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))},
		where:   fmt.Sprintf("redis-server started on 127.0.0.1:%d (no persistence; stopped at exit)", port),
		stop:    stop,
	}
	if err := r.waitReady(ctx); err != nil {
		stop()
		return nil, err
	}
	return r, nil
}

// waitReady waits until the server answers PING, for at most 5 s.
func (r *sharedRedis) waitReady(ctx context.Context) error {
	client := r.client()
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := client.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis-server on %s did not answer PING: %w", r.options.Addr, err)
		case <-tick.C:
		}
	}
}

// client returns a new client of the Redis, as each process of a fleet would have its own: with
// ContextTimeoutEnabled, which redisquota needs to cut a Redis that hangs.
func (r *sharedRedis) client() *redis.Client {
	opts := *r.options
	opts.ContextTimeoutEnabled = true
	opts.DisableIdentity = true
	return redis.NewClient(&opts)
}
