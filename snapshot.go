package ratekit

import (
	"slices"
	"strings"
	"time"
)

// KeySnapshot is a Transport's view of one key at one instant, for dashboards and logs.
type KeySnapshot struct {
	Key string
	// Quotas are the key's quotas as the server last reported them, adjusted for the time since and for
	// the requests in flight: Remaining is what ratekit expects the server would still accept now.
	Quotas []Quota
	// PausedUntil is when the key may send again after a pause (zero when not paused), and PauseReason why.
	PausedUntil time.Time
	PauseReason WaitReason
	InFlight    int // requests sent and not yet answered
	Waiting     int // requests waiting for their turn
	// Sent counts the requests sent for the key, retries included; Rejected, the answers among them that
	// refused a request for its rate limit (each one retried or returned).
	Sent, Rejected int64
}

// Snapshot returns the view of every key the Transport holds, sorted by key.
func (t *Transport) Snapshot() []KeySnapshot { return t.SnapshotAt(time.Now()) }

// SnapshotAt is Snapshot at a given instant.
func (t *Transport) SnapshotAt(now time.Time) []KeySnapshot {
	ks := t.keys.all()
	out := make([]KeySnapshot, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.snapshot(now))
	}
	slices.SortFunc(out, func(a, b KeySnapshot) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Keys is the number of keys the Transport holds now.
func (t *Transport) Keys() int { return t.keys.len() }

func (k *keyState) snapshot(now time.Time) KeySnapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := KeySnapshot{Key: k.name, Quotas: k.views(now), InFlight: k.inflight, Waiting: len(k.queue), Sent: k.sent, Rejected: k.rejected}
	if now.Before(k.pausedUntil) {
		s.PausedUntil, s.PauseReason = k.pausedUntil, k.pauseReason
	}
	return s
}
