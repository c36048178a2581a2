package redisquota_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/redisquota"
	"github.com/redis/go-redis/v9"
)

// t0 is the instant the tables start at.
var t0 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// newLimiter returns a Limiter of client for a test, with a generous timeout (a busy machine must not turn
// a test of decisions into a test of the fallback) and a hook that fails the test if it falls back anyway.
func newLimiter(t testing.TB, client redis.UniversalClient, opts ...redisquota.Option) *redisquota.Limiter {
	t.Helper()
	opts = append([]redisquota.Option{
		redisquota.WithTimeout(10 * time.Second),
		redisquota.WithOnFallback(func(err error) { assert.Fail(t, "unexpected fallback", "%v", err) }),
	}, opts...)
	l, err := redisquota.New(client, opts...)
	require.NoError(t, err)
	return l
}

// countingHook counts the commands and pipelines a client sends (or tries to send) to Redis: each is one
// round trip (a new connection's handshake counts too); and, among them, the script evaluations.
type countingHook struct{ roundTrips, scripts atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.roundTrips.Add(1)
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			h.scripts.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.roundTrips.Add(1)
		return next(ctx, cmds)
	}
}

// mustReserve calls Reserve and fails the test on an error.
func mustReserve(t testing.TB, l ratekit.Limiter, key string, cost int64, learned *ratekit.Pace, now time.Time) time.Duration {
	t.Helper()
	w, err := l.Reserve(context.Background(), key, cost, learned, now)
	require.NoError(t, err, "Reserve(%q, %d, %+v, %v)", key, cost, learned, now)
	return w
}
