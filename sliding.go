package ratekit

import (
	"math"
	"time"
)

// A sliding-window counter (httprate, and the "sliding window" of most gateways) counts the requests of
// the current window and weighs the previous window's count by the share of it still inside the last
// window's length: with prev counted in the last window and curr in this one, a fraction f into it, the
// server sees prev·(1-f) + curr. Its reset is the end of the current window, but nothing is restored
// there: the previous window's units come back evenly over the current one, at prev per window, and at
// the boundary the rate becomes what the window just ended counted. Neither the rolling model (everything
// back by the reset) nor the fixed one (everything at once) fits: the first overspends and is refused
// each window, the second waits a whole window for a part of it (0.53-0.67 of httprate's pace).
//
// The bucket tells a sliding counter from a fixed window by the first answer after a turnover, with
// nothing else in flight: a fixed window opens full, a sliding counter opens with the last window's count
// still weighing on it. From there it keeps the counter's rate: tokens are synced from every report, the
// rate only changes at a window's boundary, to what the server counted in the window that ended.

// noteCarryOver takes the answer to a request sent at sent, alone in flight after the window whose reset
// the bucket held (held) had turned over, reporting q at cost own, where the report before left before
// remaining. Remaining below a full window is the carry-over of a sliding counter: the bucket turns
// sliding, with the window's length the step from one reset to the next, and the previous window's count,
// read from what this answer says remains, as its rate until the next boundary.
//
// Other clients of the same quota leave the same mark on a fixed window, so the carry-over must be no more
// than this client sent in the window before, and a key that shares its quota through a Limiter never
// takes it for a sliding counter. Nor does an end kept from an earlier answer (keepsEnd): a sliding log
// frees its oldest entries there, which is no counter's carry-over, and the refutation of that end.
func (b *bucket) noteCarryOver(q Quota, held, sent, received time.Time, before, own int64, shared bool) {
	if shared || b.mode != modeFixed || b.notSliding || held.IsZero() || held.Equal(b.kept) || sent.Before(held) ||
		b.inflight != 0 || own <= 0 {
		return
	}
	limit := b.limit
	// A reset of now (an epoch just past, which ParseHeaders reads as now) with no more remaining than
	// before is the same window counting down (ulule/limiter's, floored), no next one's carry-over.
	if limit <= 0 || q.Remaining < 0 || q.Remaining+own >= limit || !q.Reset.After(held) ||
		!q.Reset.After(received) && q.Remaining <= before {
		return
	}
	if carried := limit - q.Remaining - own; carried > b.sentBefore {
		return
	}
	if b.window <= 0 {
		b.window = q.Reset.Sub(held)
	}
	// prev·(1-f) + own = limit - Remaining; f is taken as 0 (the window's start is only known to the
	// second its reset was rounded to), which reads prev low: the pace errs slow until the boundary.
	prev := float64(limit - q.Remaining - own)
	b.mode = modeSliding
	b.rate = prev / b.window.Seconds()
	b.tokens, b.last = float64(q.Remaining-b.inflight), received
	b.reported = b.tokens
}

// slidingMisses is how many refusals of requests the sliding model let through refute it: one can be the
// counter's rounding (the server rounds prev·(1-f) + curr), or the order in which requests in flight were
// counted.
const slidingMisses = 2

// missSliding takes a refusal of a request the sliding model let through. The first slows the pace by a
// unit per window; another shows the counter was something else (a fixed window other clients share),
// and the bucket goes back to waiting for the reset, for good.
func (b *bucket) missSliding() {
	b.misses++
	if b.misses < slidingMisses {
		b.rate = max(b.rate-1/b.window.Seconds(), 0)
		return
	}
	b.mode, b.notSliding, b.rate = modeFixed, true, 0
}

// slideAt is the sliding model at now: the tokens, and the rate and boundary in force then. It crosses at
// most one boundary (a window later the counter holds only what it counted since, which the capacity
// caps).
func (b *bucket) slideAt(now time.Time) (tokens, rate float64, boundary time.Time) {
	tokens, rate, boundary = b.tokens, b.rate, b.reset
	from := b.last
	if !boundary.IsZero() && now.After(boundary) && boundary.After(from) {
		tokens = min(tokens+rate*boundary.Sub(from).Seconds(), b.capacity())
		// The window that ended counted what is missing at its end: its units come back over the next.
		rate = math.Max(float64(b.limit)-tokens, 0) / b.window.Seconds()
		from, boundary = boundary, boundary.Add(b.window)
	}
	if now.After(from) {
		tokens += rate * now.Sub(from).Seconds()
	}
	return min(tokens, b.capacity()), rate, boundary
}

// slide moves the sliding model to now. Requires the bucket in sliding mode.
func (b *bucket) slide(now time.Time) {
	if !now.After(b.last) {
		return
	}
	tokens, rate, boundary := b.slideAt(now)
	b.tokens, b.rate, b.last = tokens, rate, now
	if boundary.After(b.reset) {
		b.reset = boundary
	}
}

// countSent counts a request of cost units admitted at now in the window it falls in, keeping the count of
// the window before (see noteCarryOver). Windows are told apart by the reset the bucket held.
func (b *bucket) countSent(cost int64, now time.Time) {
	if !b.reset.Equal(b.sentWindow) && !now.Before(b.reset) {
		b.sentBefore, b.sentInWindow, b.sentWindow = b.sentInWindow, 0, b.reset
	}
	b.sentInWindow += cost
}

// slidingWait is how long after now cost units are in the sliding model, or false when they never come
// without a report (nothing is coming back).
func (b *bucket) slidingWait(cost float64, now time.Time) (time.Duration, bool) {
	have, rate, boundary := b.slideAt(now)
	have -= float64(b.inflight)
	if have >= cost {
		return 0, true
	}
	if rate > 0 {
		d := durationCeil((cost - have) / rate)
		if boundary.IsZero() || !now.Add(d).After(boundary) || !boundary.After(now) {
			return d, true
		}
	}
	if boundary.IsZero() || !boundary.After(now) {
		return 0, false
	}
	// Past the boundary the rate is what this window counted by then.
	atBoundary, next, _ := b.slideAt(boundary.Add(time.Nanosecond))
	atBoundary -= float64(b.inflight)
	if atBoundary >= cost || next <= 0 {
		return boundary.Sub(now), true
	}
	return boundary.Sub(now) + durationCeil((cost-atBoundary)/next), true
}
