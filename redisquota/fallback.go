package redisquota

import (
	"context"
	"time"

	"github.com/ratekit/ratekit"
)

// memory is what an instance knows of a key's fleet, to decide alone while Redis is down: the fleet's pace
// and pause (as Redis last reported them, updated with what the caller learned since), how many members
// the fleet had, and what was learned while Redis was down, to publish when it answers again.
type memory struct {
	interval, burst time.Duration // the fleet's pace as GCRA spans; interval 0: none known
	pausedUntil     time.Time
	peers           int // members seen in the peer window, this one included; 0: never learned
	unpublished     news
	used            time.Time
}

// learn applies what a caller learned: the later pause wins, a pace replaces the pace.
func (m *memory) learn(n news) {
	if n.pausedUntil.After(m.pausedUntil) {
		m.pausedUntil = n.pausedUntil
	}
	if n.interval > 0 {
		m.interval, m.burst = n.interval, n.burst
	}
}

// memoryIdle is how long a Limiter remembers a key nobody uses, as LocalLimiter does.
const memoryIdle = 10 * time.Minute

// memoryOf returns what the Limiter knows of key, creating it, and forgets idle keys every so often.
// Requires mu held.
func (l *Limiter) memoryOf(key string, now time.Time) *memory {
	if now.Sub(l.lastSweep) >= memoryIdle/4 {
		l.lastSweep = now
		for k, m := range l.keys {
			if now.Sub(m.used) >= memoryIdle && !now.Before(m.pausedUntil) {
				delete(l.keys, k)
			}
		}
	}
	m := l.keys[key]
	if m == nil {
		m = &memory{}
		l.keys[key] = m
	}
	m.used = now
	return m
}

// decideLocally decides a call without Redis: GCRA at this instance's share of the fleet's pace (1/peers,
// or the fallback share when the number of peers is unknown), after the fleet's pause. The local
// ratekit.LocalLimiter keeps the debt; the share is applied anew at each call, so that a pace learned
// meanwhile takes effect at once.
func (l *Limiter) decideLocally(ctx context.Context, key string, cost int64, now time.Time) (time.Duration, error) {
	l.mu.Lock()
	m := l.memoryOf(key, now)
	pace := sharePace(m.interval, m.burst, l.cfg.share(m.peers))
	pace.PausedUntil = m.pausedUntil
	l.mu.Unlock()
	return l.local.Reserve(ctx, key, cost, &pace, now)
}

// sharePace returns share of the pace of the given GCRA spans as a ratekit.Pace: the rate times share, the
// burst times share but at least 1. Interval 0 (no pace) gives no pace.
func sharePace(interval, burst time.Duration, share float64) ratekit.Pace {
	if interval <= 0 {
		return ratekit.Pace{}
	}
	return ratekit.Pace{
		Rate:  share * float64(time.Second) / float64(interval),
		Burst: max(share*float64(burst)/float64(interval), 1),
	}
}
