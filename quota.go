package ratekit

import (
	"strconv"
	"strings"
	"time"
)

// Observation is what one response said about the server's rate limits, in local time.
// The zero value means the response said nothing.
type Observation struct {
	RetryAt time.Time // local time after which the server allows a retry; zero when the server did not say
	Quotas  []Quota   // every quota the response reported, one per (policy, dimension)
}

// Quota is one quota a server reported: a policy (a window, a tier, a resource) in one dimension
// (requests, tokens, ...). Fields the server did not report hold -1, 0 or the zero time, as documented.
type Quota struct {
	Policy    string        // the server's name for it ("core" for GitHub, "rl-5-in-1min" for IETF); "" if none
	Dimension string        // "requests" unless the server says otherwise: "tokens", "input-tokens", ...
	Limit     int64         // -1 when not reported
	Remaining int64         // -1 when not reported
	Window    time.Duration // 0 when not reported
	Reset     time.Time     // local time when the quota is restored; zero when not reported
}

// Empty reports whether the response carried no rate-limit information at all.
func (o Observation) Empty() bool {
	return o.RetryAt.IsZero() && len(o.Quotas) == 0
}

// ResumeAt is when the next request may be sent according to this response: RetryAt when the server set it,
// else the latest Reset among exhausted quotas (the binding quota is the exhausted one, not the one that
// resets first), else the zero time (no need to wait).
func (o Observation) ResumeAt() time.Time {
	if !o.RetryAt.IsZero() {
		return o.RetryAt
	}
	var at time.Time
	for i := range o.Quotas {
		if q := &o.Quotas[i]; q.Exhausted() && q.Reset.After(at) {
			at = q.Reset
		}
	}
	return at
}

// Wait is how long to wait at now before the next request: ResumeAt - now, never negative.
func (o Observation) Wait(now time.Time) time.Duration {
	at := o.ResumeAt()
	if at.IsZero() {
		return 0
	}
	return max(at.Sub(now), 0)
}

// Binding returns the quota closest to running out: an exhausted one (the latest to reset, if several),
// else the one with the largest used fraction, else the one with the fewest remaining units. It reports
// false when no quota says how much remains.
func (o Observation) Binding() (Quota, bool) {
	best := -1
	for i := range o.Quotas {
		q := &o.Quotas[i]
		if q.Remaining < 0 {
			continue
		}
		if best < 0 || tighter(q, &o.Quotas[best]) {
			best = i
		}
	}
	if best < 0 {
		return Quota{}, false
	}
	return o.Quotas[best], true
}

// tighter reports whether a binds harder than b. Both report Remaining.
func tighter(a, b *Quota) bool {
	if a.Exhausted() != b.Exhausted() {
		return a.Exhausted()
	}
	if a.Exhausted() {
		return a.Reset.After(b.Reset)
	}
	fa, okA := a.UsedFraction()
	fb, okB := b.UsedFraction()
	if okA && okB && fa != fb {
		return fa > fb
	}
	if okA != okB {
		return okA
	}
	return a.Remaining < b.Remaining
}

// Exhausted reports whether the server said no units remain.
func (q Quota) Exhausted() bool { return q.Remaining == 0 }

// Used is Limit - Remaining, or -1 when either is unknown.
func (q Quota) Used() int64 {
	if q.Limit < 0 || q.Remaining < 0 {
		return -1
	}
	return q.Limit - q.Remaining
}

// UsedFraction is the share of the limit already used, in [0, 1]. It reports false when the limit or the
// remaining units are unknown, or the limit is 0.
func (q Quota) UsedFraction() (float64, bool) {
	if q.Limit <= 0 || q.Remaining < 0 {
		return 0, false
	}
	return float64(q.Limit-q.Remaining) / float64(q.Limit), true
}

// ResetIn is how long after now the quota is restored: 0 when the reset is unknown or past.
func (q Quota) ResetIn(now time.Time) time.Duration {
	if q.Reset.IsZero() {
		return 0
	}
	return max(q.Reset.Sub(now), 0)
}

// String describes the quota for logs, e.g. `core/requests 4990/5000 per 1h0m0s reset 2026-11-23T18:00:00Z`.
func (q Quota) String() string {
	var b strings.Builder
	if q.Policy != "" {
		b.WriteString(q.Policy)
		b.WriteByte('/')
	}
	b.WriteString(q.Dimension)
	b.WriteByte(' ')
	b.WriteString(countString(q.Remaining))
	b.WriteByte('/')
	b.WriteString(countString(q.Limit))
	if q.Window > 0 {
		b.WriteString(" per ")
		b.WriteString(q.Window.String())
	}
	if !q.Reset.IsZero() {
		b.WriteString(" reset ")
		b.WriteString(q.Reset.UTC().Format(time.RFC3339))
	}
	return b.String()
}

func countString(n int64) string {
	if n < 0 {
		return "?"
	}
	return strconv.FormatInt(n, 10)
}
