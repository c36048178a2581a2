package ratekit

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

// answer is what came back for a request, as the key's observation step needs it: whether a response came
// (not a network error), its status, and what its headers said.
type answer struct {
	responded bool
	status    int
	obs       Observation
}

// outcome is what an answer meant for the key, for the retry decision and the hooks.
type outcome struct {
	rateLimited bool      // the server refused the request for its rate limit
	resumeAt    time.Time // when the key may send again, when the server said
	quotas      []Quota   // the key's view after the response, for OnQuota
	low         []Quota   // quotas that crossed the low threshold
}

// observe updates the key's estimate from the answer to the request of ticket tk, received at now (the
// request has left flight already): it syncs the buckets with the quotas reported, pauses the key after a
// rejection, and steps the adaptive rate of a server that reports nothing. It is pure: it reads no clock
// and does no I/O. Requires mu held.
func (k *keyState) observe(s *settings, tk *ticket, a answer, now time.Time) outcome {
	var out outcome
	if !a.responded {
		return out
	}
	obs := a.obs
	out.rateLimited = isRateLimited(a.status, obs)
	if out.rateLimited {
		k.rejected++
	}
	var tried time.Time   // the end a refused trial of the clock's turn was made before (window.go)
	var logFree time.Time // when the log model frees the exhausted quota a request (log.go)
	exhausted := 0
	at := k.countedAt(tk.sentAt, now)
	for _, q := range obs.Quotas {
		if q.Exhausted() {
			exhausted++
		}
		if at.Before(now) && isDelay(q.Reset, now) {
			q.Reset = q.Reset.Add(at.Sub(now)) // the delay ran from when the server counted the request
		}
		b := k.bucketFor(q)
		b.answers(tk.costs.route)
		own, charged := int64(0), false
		// A rejection of a request the rolling refill let through suggests a fixed window, or, once units
		// came back before a reset (bucket.measure), a refill rate too high (bucket.refusedRefill).
		for i := range tk.n {
			if c := tk.at(i); c.b == b {
				own, charged = c.cost, true
				if out.rateLimited && c.refilled && b.mode == modeRolling {
					b.refusedRefill(waitsForReset(obs.RetryAt, q.Reset, now))
				}
				if out.rateLimited && c.refilled && b.mode == modeSliding {
					b.missSliding()
				}
				if out.rateLimited && c.refilled && b.mode == modeLog {
					b.missLog()
				}
			}
		}
		if !charged {
			own = tk.costs.of(q.Dimension) // the bucket is new: the server counted the request all the same
		}
		if q.Remaining >= 0 && unknownCost(&tk.costs, q.Dimension) {
			k.meterCost(b, q, tk.seq, tk.ahead, now)
		}
		// what the bucket held, before this report replaces it
		held, turned, before := b.reset, b.turnover(), b.remaining
		b.sync(q, at, tk.seq, k.seq, own)
		if out.rateLimited {
			b.refused()
			if end := b.noteRefusal(held, turned, q.Reset, tk.sentAt, now); !end.IsZero() && q.Exhausted() {
				tried = end
			}
		} else {
			b.noteCarryOver(q, held, tk.sentAt, now, before, own, s.limiter != nil)
			b.noteKept(q, held, turned, tk.sentAt, own)
			b.noteLog(q, turned, tk.sentAt, own, s.limiter != nil)
			if charged {
				b.notePass(tk.sentAt, now)
			}
		}
		if out.rateLimited && q.Exhausted() && b.mode == modeLog {
			logFree = b.logFrees(max(own, 1), now)
		}
		if out.rateLimited && q.Exhausted() && k.resetInMilliseconds(obs.RetryAt, q.Reset, now) && s.resetFormats[k.host] == ResetAuto {
			k.resetFormat.Store(uint32(ResetDelayMilliseconds))
		}
		if out.rateLimited && !obs.RetryAt.IsZero() {
			b.retryAt(obs.RetryAt, now, max(own, k.chargeFor(&tk.costs, b)))
		}
		if f, ok := q.UsedFraction(); ok {
			switch {
			case f >= s.quotaLow && !b.low:
				b.low = true
				out.low = append(out.low, b.view(now))
			case f < s.quotaLow:
				b.low = false
			}
		}
	}
	if len(obs.Quotas) > 0 {
		k.dropStale(now)
	}
	if len(obs.Quotas) > 0 && s.onQuota != nil {
		out.quotas = k.views(now)
	}
	if !out.rateLimited {
		if k.backoff != nil {
			k.backoff.Reset()
		}
		switch {
		case k.hasKnownBuckets():
		case overloaded(a.status, obs):
			// Not a refusal the request may be sent again for (the server may have begun it), but after
			// requests that passed, the key's pace is cut as a refusal's is: a proxy's limiter (nginx's
			// limit_req) says 503 and nothing else, and an overloaded server is no better served by the
			// other requests at once. 503s with nothing passing between them are an outage: the error
			// backoff spaces their retries, and the pace is not cut to a request a minute.
			if k.passed {
				k.adaptive.rejected(tk.sentAt, now)
				k.needProbe, k.passed = true, false
			}
		default:
			k.adaptive.success(tk.sentAt, now)
			k.passed = true
		}
		return out
	}
	out.resumeAt = obs.ResumeAt()
	if at, ok := truncatedResume(obs, now); ok {
		out.resumeAt = at
	}
	if trialResume(tried, exhausted, obs.RetryAt, now) {
		out.resumeAt = tried
	}
	if logResume(logFree, exhausted, obs.RetryAt, now) {
		out.resumeAt = logFree
	}
	if obs.RetryAt.IsZero() && whole(out.resumeAt) {
		// An exhausted quota's reset in whole seconds is the instant its window ends, which the server may
		// still count (it compares with <= or <): the request sent on it lands in either window.
		out.resumeAt = out.resumeAt.Add(turnoverMargin)
	}
	until, reason := out.resumeAt, WaitServerPause
	if until.IsZero() || !until.After(now) {
		// The server said nothing about when. A server that never says anything is paced by the adaptive
		// rate, which this rejection cuts: the next request (a probe) goes at the new pace. Otherwise, and
		// before the adaptive rate has learned anything, back off, once per episode: the other requests in
		// flight when the first was refused are refused too, and are old news.
		if at := k.learntTurnover(now); at.After(now) {
			until, reason = at, WaitQuota
		}
		blind := !k.hasKnownBuckets()
		if blind {
			k.adaptive.rejected(tk.sentAt, now)
		}
		switch {
		case until.After(now):
			// a window whose end the bucket learnt (window.go): no blind backoff
		case blind && k.adaptive.paced() && (s.makeBackoff == nil || k.adaptive.measured()):
			// the adaptive rate times the probe (adaptive.go); a Backoff the user gave times the first episode
			until, reason = now, WaitAdaptive
		default:
			if !tk.sentAt.Before(k.backoffAt) {
				if k.backoff == nil {
					k.backoff = s.newKeyBackoff()
				}
				d := k.backoff.NextBackOff()
				if d == backoff.Stop {
					d = s.maxWait
				}
				k.backoffAt = now
				k.backoffUntil = now.Add(d)
				if blind {
					k.adaptive.probeAt(now, k.backoffUntil)
				}
			}
			until, reason = k.backoffUntil, WaitRejectionBackoff
		}
		out.resumeAt = until
	}
	if until.After(k.pausedUntil) {
		k.pausedUntil, k.pauseReason, k.pauseStatus = until, reason, a.status
	}
	k.needProbe = true
	return out
}

// trialResume reports whether the key resumes at tried, the end of a fixed window that the window's
// earlier answers bound, instead of at retryAt, after the refusal at now of the key's one trial of the
// clock's turn before that end (window.go clockEnd): only where the trial's window is the one quota
// exhausted and retryAt is a Retry-After in whole seconds, which bounds the same end rounded up as the
// delays were ("1" a tenth of a second before the end), and comes after it. The trial then costs a
// refusal, not a Retry-After's second on top.
func trialResume(tried time.Time, exhausted int, retryAt, now time.Time) bool {
	return !tried.IsZero() && exhausted == 1 && !retryAt.IsZero() && retryAt.Sub(now)%time.Second == 0 &&
		tried.After(now) && tried.Before(retryAt)
}

// truncatedResume is when to resume after a refusal at now whose Retry-After is 0, a wait truncated to the
// second (Flask-Limiter writes int(reset - now)): the latest reset of the quotas exhausted, where it is
// within that second, and the instant after it when it is a whole second (the server may still count the
// window at its end). Otherwise the refusal says nothing about when, and the key backs off.
func truncatedResume(obs Observation, now time.Time) (time.Time, bool) {
	if obs.RetryAt.IsZero() || obs.RetryAt.After(now) {
		return time.Time{}, false
	}
	at := Observation{Quotas: obs.Quotas}.ResumeAt()
	if !at.After(now) || at.After(now.Add(time.Second)) {
		return time.Time{}, false
	}
	if whole(at) {
		at = at.Add(turnoverMargin)
	}
	return at, true
}

// logResume reports whether the key resumes at free, when the log model of the one quota exhausted frees a
// request, instead of at retryAt, a Retry-After in whole seconds after the refusal at now: rounded up, it
// bounds the same instant from above (log.go); rounded down to 0, within the second after now.
func logResume(free time.Time, exhausted int, retryAt, now time.Time) bool {
	if free.IsZero() || !free.After(now) || exhausted != 1 || retryAt.IsZero() || retryAt.Sub(now)%time.Second != 0 {
		return false
	}
	// A Retry-After of 0 is a wait truncated to the second (Flask-Limiter writes int(reset - now)): less
	// than a second.
	return free.Before(retryAt) || !retryAt.After(now) && free.Before(now.Add(time.Second))
}

// slowAnswer is how much longer than the key's quickest round trip an answer must take for its report to
// be read as of when the server counted the request, not as of its arrival: a queue that held the
// request (a leaky bucket's, nginx's limit_req with delay), or a handler that took its time after the
// limiter wrote the headers.
const slowAnswer = 50 * time.Millisecond

// countedAt is when the server most likely counted the request sent at sent and answered at now, and
// wrote the report: half the key's quickest round trip after it was sent when the answer took much longer
// than that (slowAnswer), else now. It keeps the quickest round trip. Requires mu held.
func (k *keyState) countedAt(sent, now time.Time) time.Time {
	rtt := now.Sub(sent)
	if rtt <= 0 {
		return now
	}
	if k.minRTT == 0 || rtt < k.minRTT {
		k.minRTT = rtt
	}
	if rtt < 2*k.minRTT+slowAnswer {
		return now
	}
	return sent.Add(k.minRTT / 2)
}

// isDelay reports whether reset, read from a response received at received, was given as a delay in
// seconds from it (a whole number of seconds after it, the way RateLimit's t, X-RateLimit-Reset's delay
// and Retry-After write it) rather than as an absolute time (an epoch or a date: a whole second of the
// clock, or an instant with a fraction of its own).
func isDelay(reset, received time.Time) bool {
	d := reset.Sub(received)
	return !reset.IsZero() && d > 0 && d%time.Second == 0 && !whole(reset)
}

// learntTurnover is the earliest learnt end of a fixed window (window.go) still ahead at now, or zero.
// Requires mu held.
func (k *keyState) learntTurnover(now time.Time) time.Time {
	var at time.Time
	for _, b := range k.buckets {
		if b.mode != modeFixed || !b.floored {
			continue
		}
		if t := b.turnover(); t.After(now) && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	return at
}

// bucketFor finds or creates the bucket of a reported quota. Requires mu held.
func (k *keyState) bucketFor(q Quota) *bucket {
	for _, b := range k.buckets {
		if b.policy == q.Policy && b.dimension == q.Dimension {
			return b
		}
	}
	b := &bucket{policy: q.Policy, dimension: q.Dimension, limit: -1, remaining: -1}
	if q.Dimension == "requests" {
		for _, f := range k.flights {
			b.flights = append(b.flights, f)
			b.inflight += f.cost
		}
	}
	k.buckets = append(k.buckets, b)
	k.publishDimensions()
	return b
}

// publishDimensions copies the buckets' dimensions for the cost computation, which reads them without
// the lock. Requires mu held.
func (k *keyState) publishDimensions() {
	var dims []string
	for _, b := range k.buckets {
		known := false
		for _, d := range dims {
			known = known || d == b.dimension
		}
		if !known {
			dims = append(dims, b.dimension)
		}
	}
	k.dims.Store(&dims)
}

func (k *keyState) hasKnownBuckets() bool {
	for _, b := range k.buckets {
		if b.known() {
			return true
		}
	}
	return false
}

// views is the key's quotas as the buckets see them at now. Requires mu held.
func (k *keyState) views(now time.Time) []Quota {
	qs := make([]Quota, 0, len(k.buckets))
	for _, b := range k.buckets {
		qs = append(qs, b.view(now))
	}
	return qs
}
