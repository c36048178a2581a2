package redisquota

import (
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/idlemap"
)

// memory is what an instance knows of a key's fleet, to decide alone while Redis is down: the fleet's pace
// and pause (as Redis last reported them, updated with what the caller learned since), how many members
// the fleet had, what was learned while Redis was down (to publish when it answers again), and the local
// GCRA state of this instance's share.
type memory struct {
	interval, burst time.Duration // the fleet's pace as GCRA spans; interval 0: none known
	pausedUntil     time.Time
	peers           int // members seen in the peer window, this one included; 0: never learned
	unpublished     news
	used            time.Time

	tat           time.Time     // local GCRA: the theoretical arrival time of this instance's share
	localInterval time.Duration // the interval tat was accrued at; 0: tat is the fleet's, from Redis
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
	idlemap.Sweep(&l.sweeper, l.keys, now, memoryIdle, func(m *memory) bool {
		return now.Sub(m.used) >= memoryIdle && !now.Before(m.pausedUntil) && !m.tat.After(now)
	})
	m := l.keys[key]
	if m == nil {
		m = &memory{}
		l.keys[key] = m
	}
	m.used = now
	return m
}

// decideLocally decides a call without Redis, at this instance's share of the fleet's pace: 1/peers, or
// the fallback share when the number of peers is unknown. A wait for the pace is provisional: it ends
// when Redis is tried again (or a probe in flight has had its timeout), so that the fleet's state decides
// again as soon as Redis answers, and a slow pace learned alone is not waited out alone. A wait for a
// pause is the server's word: it is not cut.
func (l *Limiter) decideLocally(key string, cost int64, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.memoryOf(key, now)
	wait, paused := m.reserveShare(cost, l.cfg.share(m.peers), now)
	if !paused && l.down {
		wait = min(wait, max(l.retryAt.Sub(now), l.cfg.timeout))
	}
	return wait
}

// reserveShare decides a call alone, and says whether it waits for a pause: after the fleet's pause, GCRA at share of the fleet's pace, from the
// fleet's debt when Redis last answered (a share of the fleet's debt at a share of its pace is the same
// time), as LocalLimiter decides for the whole fleet, with one difference: when the pace gets faster, the
// debt keeps its units, not its time (as golang.org/x/time/rate's SetLimit keeps the tokens). A pace learned
// while the window is nearly spent is slow, and a share of it slower still (2 left in 2 s, an eighth each:
// one request per 8 s); the next response may bring a fast pace again, which must not leave this instance
// waiting out 8 s of debt at the slow pace. (When the pace gets slower, the debt keeps its time: what was
// taken at the faster pace stays taken at it.)
func (m *memory) reserveShare(cost int64, share float64, now time.Time) (wait time.Duration, paused bool) {
	if now.Before(m.pausedUntil) {
		return m.pausedUntil.Sub(now), true
	}
	interval, burst := sharePace(m.interval, m.burst, share).Spans()
	if interval == 0 {
		return 0, false // no pace known
	}
	if m.tat.After(now) && interval < m.localInterval {
		debt := float64(m.tat.Sub(now)) * float64(interval) / float64(m.localInterval)
		m.tat = now.Add(time.Duration(debt))
	}
	m.localInterval = interval
	tat := m.tat
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(time.Duration(cost) * interval)
	if allowAt := next.Add(-burst); allowAt.After(now) {
		return allowAt.Sub(now), false
	}
	m.tat = next
	return 0, false
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
