package ratekit

import "time"

// A fixed window's reset, written in whole seconds, may be floored: the server says 12:00:01 of a window
// that ends at 12:00:01.408 (ulule/limiter, whose windows open at a key's first request). A request sent at
// the reset is then refused, and counted by servers that count refusals; and a refusal whose reset is
// already past says nothing about when to come back. The bucket learns both things it needs from its own
// requests:
//
//   - where a window opens: the answer that reports Remaining = limit - its own cost is the window's first
//     request, so the window opened before that answer arrived; the window's length is the reset's distance
//     from there, rounded up to the whole second the reset was rounded to;
//   - that the server floors: a request sent at or after the reset is refused with the reset unchanged.
//
// Once both are known, the window turns over at its opening plus its length (a little after, since a
// server may still count the window at its very end), not at the reset it reports.

// turnoverMargin is how long after a window's learnt end the next one is taken to be open: servers compare
// with <= or <, and a request on the instant may land in either window.
const turnoverMargin = time.Millisecond

// noteOpening records where a window opened, from a report of q received at received in the answer to a
// request of cost own.
func (b *bucket) noteOpening(q Quota, received time.Time, own int64) {
	limit := q.Limit
	if limit < 0 {
		limit = b.limit
	}
	if limit <= 0 || own <= 0 || q.Remaining+own != limit || q.Reset.IsZero() || !q.Reset.After(received) {
		return
	}
	span := q.Reset.Sub(received)
	if q.Reset.Nanosecond() == 0 {
		span = (span + time.Second - 1).Truncate(time.Second) // up to the whole second the reset was rounded to
	}
	b.opened, b.span = received, span
}

// noteRefusal takes a refusal of a request sent at sent, answered at received with a report of reset,
// when the bucket held the reset held: a request sent at or after a whole-second reset, refused with a
// reset that is no later than the answer (ParseHeaders reads a reset just past as now), shows a floored
// reset.
func (b *bucket) noteRefusal(held, reset, sent, received time.Time) {
	if held.IsZero() || held.Nanosecond() != 0 || sent.Before(held) || reset.IsZero() || reset.After(received) {
		return
	}
	b.floored = true
}

// turnover is when the bucket takes its fixed window to turn over: the reset reported, or, for a server
// seen to floor it, the learnt end of the window, when that end is one the floored reset allows (within
// the second after it).
func (b *bucket) turnover() time.Time {
	if !b.floored || b.opened.IsZero() || b.reset.IsZero() {
		return b.reset
	}
	end := b.opened.Add(b.span + turnoverMargin)
	if end.After(b.reset) && end.Before(b.reset.Add(time.Second+turnoverMargin)) {
		return end
	}
	return b.reset
}
