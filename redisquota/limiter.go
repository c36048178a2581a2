package redisquota

import (
	"context"
	"sync"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/idlemap"
	"github.com/redis/go-redis/v9"
)

// Limiter is a ratekit.Limiter that shares each key's pace and pauses among the members of a fleet through
// Redis, and paces each member at its share of the fleet's pace while Redis cannot be reached. It is safe
// for concurrent use. The package documentation describes what it keeps in Redis and how it fails.
type Limiter struct {
	client redis.UniversalClient
	cfg    config

	mu      sync.Mutex
	keys    map[string]*memory // guarded by mu: what this instance knows of each key
	sweeper idlemap.Sweeper    // guarded by mu
	down    bool               // guarded by mu: Redis failed; decisions are local
	retryAt time.Time          // guarded by mu: while down, when to try Redis again
	probing bool               // guarded by mu: a call is trying Redis while down
}

var _ ratekit.Limiter = (*Limiter)(nil)

// New returns a Limiter that keeps its state in client: a *redis.Client, a *redis.ClusterClient (a key's
// state lives in one hash slot), a *redis.Ring or a failover client, built with ContextTimeoutEnabled (so
// that a Redis that hangs is cut off after the Limiter's timeout). A nil client, a client without
// ContextTimeoutEnabled, and an option out of range are errors naming the setting and the values allowed.
//
// The Limiter does not own the client: close it after the Limiter's last use. The Limiter starts no
// goroutine and holds nothing else that needs closing.
func New(client redis.UniversalClient, opts ...Option) (*Limiter, error) {
	cfg, err := newConfig(client, opts)
	if err != nil {
		return nil, err
	}
	return &Limiter{client: client, cfg: cfg, keys: make(map[string]*memory)}, nil
}

// Reserve implements ratekit.Limiter: it takes cost units of key's shared pace at now after applying
// learned, in one Lua script evaluation in Redis, and returns 0 when they are taken, or how long to wait.
//
// When Redis fails (an error, or no answer within the timeout), the call is decided locally instead, at
// this instance's share of the pace, with a nil error: the Limiter switches to local decisions (calling the
// WithOnFallback hook) and tries Redis again once per retry interval, switching back (WithOnRecover) when it
// answers; what was learned meanwhile is published then. A local wait for the pace ends by the next try
// of Redis; the caller then asks again. Reserve returns an error only when ctx is done.
func (l *Limiter) Reserve(ctx context.Context, key string, cost int64, learned *ratekit.Pace, now time.Time) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n news
	if learned != nil {
		n.interval, n.burst = learned.Spans()
		n.pausedUntil = learned.PausedUntil
	}
	l.mu.Lock()
	m := l.memoryOf(key, now)
	m.learn(n)
	tryRedis, probe := l.route(now)
	var send news
	if tryRedis {
		send, m.unpublished = m.unpublished.merge(n), news{}
	} else {
		m.unpublished = m.unpublished.merge(n)
	}
	l.mu.Unlock()

	if tryRedis {
		v, err := l.eval(ctx, key, cost, send, now)
		if err == nil {
			l.succeeded(key, v, now)
			return v.wait, nil
		}
		l.failed(key, send, probe, err, now, ctx.Err() != nil)
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	return l.decideLocally(key, cost, now), nil
}

// route says whether a call at now tries Redis: always while Redis is up; while it is down, one call at a
// time once the retry interval has passed (a probe). Requires mu held.
func (l *Limiter) route(now time.Time) (tryRedis, probe bool) {
	if !l.down {
		return true, false
	}
	if l.probing || now.Before(l.retryAt) {
		return false, false
	}
	l.probing = true
	return true, true
}

// succeeded records a verdict from Redis, and the return to Redis if it was down.
func (l *Limiter) succeeded(key string, v verdict, now time.Time) {
	l.mu.Lock()
	m := l.memoryOf(key, now)
	m.peers = v.peers
	m.interval, m.burst = v.interval, v.burst
	// Should Redis fail now, this instance starts where the fleet is: its debt is the fleet's (in units,
	// a share of the fleet's debt at a share of its pace is the same time).
	m.tat, m.localInterval = now.Add(v.debt), 0
	if v.paused {
		m.learn(news{pausedUntil: now.Add(v.wait)})
	}
	recovered := l.down
	l.down, l.probing = false, false
	l.mu.Unlock()
	if recovered && l.cfg.onRecover != nil {
		l.cfg.onRecover()
	}
}

// failed records a failed call: what it carried is kept to publish later, and, unless the caller gave up
// (cancelled: Redis may be fine), Redis is down until a probe succeeds.
func (l *Limiter) failed(key string, sent news, probe bool, err error, now time.Time, callerGaveUp bool) {
	l.mu.Lock()
	m := l.memoryOf(key, now)
	m.unpublished = sent.merge(m.unpublished) // anything learned meanwhile is newer
	if probe {
		l.probing = false
	}
	switchedDown := false
	if !callerGaveUp {
		switchedDown = !l.down
		if switchedDown || probe {
			l.retryAt = now.Add(l.cfg.retryInterval)
		}
		l.down = true
	}
	l.mu.Unlock()
	if switchedDown && l.cfg.onFallback != nil {
		l.cfg.onFallback(err)
	}
}

// Degraded reports whether the Limiter is deciding locally because Redis failed.
func (l *Limiter) Degraded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down
}

// InstanceID returns the name this Limiter registers under among the members of each key's fleet.
func (l *Limiter) InstanceID() string { return l.cfg.instanceID }
