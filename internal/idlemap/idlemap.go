// Package idlemap forgets the idle entries of a map on use, without a background goroutine: a map of
// per-key state (a Transport's keys, a LocalLimiter's, redisquota's fallback memory) is swept at most four
// times per idle timeout, by whichever call finds a sweep due, so a client that sees 100k keys over a day
// holds only the recent ones.
package idlemap

import "time"

// Sweeper paces the sweeps of one map. The zero value is ready: the first call finds a sweep due. It is not
// safe for concurrent use: guard it with the map's lock (Due may be called under a read lock, as long as
// Sweep is called under the write lock).
type Sweeper struct {
	last time.Time
}

// Due reports whether a sweep is due at now, for entries forgotten after timeout: a quarter of timeout
// has passed since the last sweep. An entry is thus forgotten between timeout and 1.25 timeout after its
// last use.
func (s *Sweeper) Due(now time.Time, timeout time.Duration) bool {
	return DueSince(s.last, now, timeout)
}

// DueSince is Due for a sweep last made at last (the zero time: never), for a caller that keeps its own
// copy of that time, to read it without the map's lock.
func DueSince(last, now time.Time, timeout time.Duration) bool {
	return now.Sub(last) >= timeout/4
}

// Sweep deletes from m, when a sweep is due at now, every entry for which idle reports true (idle may also
// release what the entry holds), and reports whether it swept.
func Sweep[K comparable, V any](s *Sweeper, m map[K]V, now time.Time, timeout time.Duration, idle func(V) bool) bool {
	if !s.Due(now, timeout) {
		return false
	}
	s.last = now
	for k, v := range m {
		if idle(v) {
			delete(m, k)
		}
	}
	return true
}
