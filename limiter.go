package ratekit

import (
	"context"
	"sync"
	"time"

	"github.com/ratekit/ratekit/internal/idlemap"
)

// Limiter shares the pace of keys among Transports: the processes of a fleet that use one API key, through
// Redis (package redisquota), or several Transports in one process (NewLocalLimiter). A Transport whose
// Limiter is set asks it before every request, in one call that also publishes what the Transport learned
// since its last call: so one process's Retry-After pauses them all, and the pace one learns from the
// server's headers binds them all.
//
// Implementations must be safe for concurrent use.
type Limiter interface {
	// Reserve takes cost units of key's shared pace at now, after applying learned (what the caller's
	// Transport learned about key since its last call; nil: nothing new). It returns 0 when the units are
	// taken, or how long to wait before asking again: until a pause ends, or until the pace has room.
	// An error means the shared state could not be reached; the Transport then goes on without it.
	Reserve(ctx context.Context, key string, cost int64, learned *Pace, now time.Time) (time.Duration, error)
}

// Pace is what a Transport learned from a server about a key, in the form a fleet shares: a rate for the
// whole fleet, and a pause.
type Pace struct {
	// Rate is how many units a second the fleet may spend; 0 when the server has said nothing that
	// paces (the shared pace is then left as it was).
	Rate float64
	// Burst is how many units may be spent at once, at least 1.
	Burst float64
	// PausedUntil: no request before this (a Retry-After, an exhausted window); zero: no pause.
	PausedUntil time.Time
}

// maxPaceSpan bounds the durations Spans returns, about 104 days (2^53 ns): a slower pace means nothing to a
// client, and float64 (Lua's only number type, used by package redisquota) counts ns exactly below it.
const maxPaceSpan = time.Duration(1 << 53)

// Spans returns the pace in the form of GCRA (the generic cell rate algorithm), as a shared Limiter applies
// it: interval, the time one unit takes at Rate (at least 1 ns), and burst, the time Burst units take (at
// least interval: a Burst below 1, or NaN, counts as 1), both at most about 104 days (2^53 ns, which float64 counts exactly). A Rate that is not more
// than 0 (or NaN) paces nothing: both are 0. LocalLimiter and package redisquota convert paces with it, so
// that they decide alike.
func (p Pace) Spans() (interval, burst time.Duration) {
	if !(p.Rate > 0) {
		return 0, 0
	}
	iv := min(max(float64(time.Second)/p.Rate, 1), float64(maxPaceSpan)) // +Inf for a tiny rate
	interval = time.Duration(iv)
	b := p.Burst
	if !(b >= 1) {
		b = 1
	}
	return interval, time.Duration(min(b*float64(interval), float64(maxPaceSpan)))
}

// NewLocalLimiter returns a Limiter that shares paces among the Transports of one process, in memory. It is
// the reference for what a shared Limiter does: GCRA (the generic cell rate algorithm) at the learned rate
// and burst, and the latest pause anyone learned. Keys idle for 10 minutes are forgotten.
func NewLocalLimiter() *LocalLimiter {
	return &LocalLimiter{keys: make(map[string]*sharedPace)}
}

// LocalLimiter is the in-memory Limiter made by NewLocalLimiter. It is safe for concurrent use.
type LocalLimiter struct {
	mu      sync.Mutex
	keys    map[string]*sharedPace // guarded by mu
	sweeper idlemap.Sweeper        // guarded by mu
}

var _ Limiter = (*LocalLimiter)(nil)

// sharedPace is the state of one key: GCRA's theoretical arrival time, the pace's emission interval (the
// time one unit takes at the rate) and burst span (the time a burst takes, see Pace.Spans), and the pause.
type sharedPace struct {
	tat         time.Time
	interval    time.Duration // 0: no pace learned yet
	burst       time.Duration
	pausedUntil time.Time
	used        time.Time
}

// localIdle is how long a LocalLimiter remembers an unused key.
const localIdle = 10 * time.Minute

// Reserve implements Limiter.
func (l *LocalLimiter) Reserve(_ context.Context, key string, cost int64, learned *Pace, now time.Time) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	idlemap.Sweep(&l.sweeper, l.keys, now, localIdle, func(s *sharedPace) bool {
		return now.Sub(s.used) >= localIdle && !now.Before(s.pausedUntil)
	})
	s := l.keys[key]
	if s == nil {
		s = &sharedPace{}
		l.keys[key] = s
	}
	s.used = now
	return s.reserve(cost, learned, now), nil
}

// reserve is the decision, a pure function of the state and the arguments. redisquota's Lua script does
// the same arithmetic, in whole ns, exactly (its differential test replays random traces through both).
func (s *sharedPace) reserve(cost int64, learned *Pace, now time.Time) time.Duration {
	if learned != nil {
		if learned.PausedUntil.After(s.pausedUntil) {
			s.pausedUntil = learned.PausedUntil
		}
		if interval, burst := learned.Spans(); interval > 0 {
			s.interval, s.burst = interval, burst
		}
	}
	if now.Before(s.pausedUntil) {
		return s.pausedUntil.Sub(now)
	}
	if s.interval == 0 {
		return 0 // nothing learned: no pace
	}
	tat := s.tat
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(time.Duration(cost) * s.interval)
	allowAt := next.Add(-s.burst)
	if allowAt.After(now) {
		return allowAt.Sub(now)
	}
	s.tat = next
	return 0
}

// Len is the number of keys the LocalLimiter holds.
func (l *LocalLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
