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
//
// A reset may as well be rounded up: the server says 12:00:02 of a window that ends at 12:00:01.412, or
// "reset in 1 s" in every answer of a one-second window, the last of them sent well into it
// (express-rate-limit, whose windows open at a client's first request too). Waiting for it costs up to a
// second a window, and the next window, opened on the whole second, ends just past one, so its epoch reset
// is ceiled a second on again: half the pace. Its evidence is the mirror image of the floor's: a new window
// found open before the reset the last report gave (the client came back early on a Retry-After, say)
// shows the reset comes after the end. The window's length is then what the answer that opened it said,
// rounded the other way: the least whole second that ends it after the epoch's second began, or the
// delay itself. Until there is evidence either way, the bucket tries an epoch's end once, with one request
// (key.go sends one after a turnover, and the others after its answer): a new window is the evidence, a
// refusal or an answer from the same window refutes it, and so does any later one of a request sent
// between the learnt end and the reset; from there the bucket waits for the reset, for good.

// turnoverMargin is how long after a window's learnt end the next one is taken to be open: servers compare
// with <= or <, and a request on the instant may land in either window.
const turnoverMargin = time.Millisecond

// noteOpening records where a window opened, from a report of q received at received in the answer to a
// request of cost own, and whether it opened before the reset the report before said.
func (b *bucket) noteOpening(q Quota, received time.Time, own int64) {
	said := b.said // the reset the report before this one said, before a Retry-After corrected it
	b.said = q.Reset
	limit := q.Limit
	if limit < 0 {
		limit = b.limit
	}
	if limit <= 0 || own <= 0 || q.Remaining+own != limit || q.Reset.IsZero() || !q.Reset.After(received) {
		return
	}
	if b.mode == modeFixed && !said.IsZero() && received.Before(said) && q.Reset.After(said) {
		b.early = true // a new window before the last one's reset: that reset was rounded up
	}
	span := q.Reset.Sub(received)
	spanUp := span
	if whole(q.Reset) {
		span = (span + time.Second - 1).Truncate(time.Second) // up to the whole second the reset was rounded to
		// Rounded up, the end is in the second before the reset: the least whole second past its start.
		spanUp = 0
		if since := q.Reset.Add(-time.Second).Sub(received); since >= 0 {
			spanUp = since.Truncate(time.Second) + time.Second
		}
	}
	b.opened, b.span, b.spanUp = received, span, spanUp
}

// keepsEnd reports whether a report of q received at received leaves the fixed window's end where an
// earlier answer in the same window put it. A reset given as a delay in whole seconds is rounded up by
// the servers that send one (express-rate-limit, the IETF drafts' examples): each answer of a window says
// its end is within that many seconds, so the earliest bound holds, and the newest, a second from the
// window's last answer, would wait out most of a second of the next window (a 50/s window anchored at a
// client's first request loses a fifth of its time). Not once the first request sent at such an end found
// the window not restored (refused, or less than the limit remaining: the delays are rounded down, or a
// sliding log freed only its oldest entries there; refuteEnd), nor for an answer from a new window (more
// remains, or the end passed).
func (b *bucket) keepsEnd(q Quota, received time.Time) bool {
	if b.mode != modeFixed || b.endRefuted || b.reset.IsZero() || !received.Before(b.reset) ||
		q.Remaining < 0 || b.remaining < 0 || q.Remaining > b.remaining || !q.Reset.After(b.reset) {
		return false
	}
	return isDelay(q.Reset, received) && q.Reset.Sub(b.reset) < time.Second
}

// whole reports whether t is a reset written in whole seconds of the clock (an epoch or an HTTP-date).
func whole(t time.Time) bool { return !t.IsZero() && t.Nanosecond() == 0 }

// noteRefusal takes a refusal of a request sent at sent, answered at received with a report of reset,
// when the bucket held the reset held and took its window to turn over at turned (turnover, before the
// report): a request sent at or after a whole-second reset, refused with a reset that is no later than
// the answer (ParseHeaders reads a reset just past as now), shows a floored reset; one sent before the
// reset but at or after an end learnt before it refutes that end. When that end was the clock's turn
// (clockEnd), it returns the end held, which the earlier answers of the window bound: the refusal was
// the key's trial of the turn, and its Retry-After in whole seconds bounds the same end (observe).
func (b *bucket) noteRefusal(held, turned, reset, sent, received time.Time) (tried time.Time) {
	b.refuteEnd(held, sent)
	if turned.Before(held) && !sent.Before(turned) && sent.Before(held) {
		if b.refuteEarly(held, turned) {
			return held
		}
		return time.Time{}
	}
	if !whole(held) || sent.Before(held) || reset.IsZero() || reset.After(received) {
		return time.Time{}
	}
	b.floored = true
	return time.Time{}
}

// noteKept takes an answer that was no refusal, reporting q, to a request of cost own sent at sent, when
// the bucket held the reset held and took its window to turn over at turned (before the report): one sent
// between an end learnt before the reset and the reset that finds no new window open refutes that end, as
// a refusal does (a sliding log frees its oldest entry there, not the quota).
func (b *bucket) noteKept(q Quota, held, turned, sent time.Time, own int64) {
	lastPass := b.lastPass
	b.lastPass = later(b.lastPass, sent)
	switch {
	case b.limit <= 0 || q.Remaining < 0:
	case q.Remaining+own < b.limit:
		b.refuteEnd(held, sent)
	case !b.kept.IsZero() && held.Equal(b.kept) && !sent.Before(held) && b.clockLength() > 0 &&
		sent.Sub(lastPass) < b.clockLength():
		// Restored whole at an end kept from an earlier answer, less than a window after the last request
		// that passed: a fixed window (a sliding log would still hold that request).
		b.endHeld = true
	}
	if !turned.Before(held) || sent.Before(turned) || !sent.Before(held) || q.Remaining < 0 {
		return
	}
	if b.limit > 0 && q.Remaining+own < b.limit {
		b.refuteEarly(held, turned)
	}
}

// refuteEarly takes an answer that refutes the end turned before the reset held that the bucket turned
// over at: the clock's turn (clockEnd), or the end learnt where the window opened. It reports whether it
// was the clock's turn.
func (b *bucket) refuteEarly(held, turned time.Time) bool {
	if !whole(held) && b.onClockTurn(turned) {
		b.notOnClock = true
		return true
	}
	b.notEarly = true
	return false
}

// clockEnd is where a fixed window whose reset is a delay turns over: the turn of the clock's second,
// minute or hour (the window's length) before the reset, where a window on the clock (a counter per whole
// second or minute of the epoch) ends within the delay's rounding, once no answer came from the window
// after it; else the reset. A delay says only "within t seconds": the window's end may be anywhere in the
// second before, and on the clock it is on the turn. Only once a window was found restored whole at an
// end kept from its earlier answers (endHeld): a fixed window, not a sliding log, which frees only its
// oldest entries there and whose refusal on the turn would cost a Retry-After. One request tries it
// (key.go sends one after a turnover, the rest after its answer); a refusal, or an answer that finds the
// window not restored, refutes it for good (notOnClock, as notEarly does an epoch's early end), and what
// a sliding log frees there is taken for no refill (measure) and no carry-over (noteCarryOver).
func (b *bucket) clockEnd() time.Time {
	if turn, ok := b.turnBeforeReset(); ok && !b.notOnClock {
		return turn
	}
	return b.reset
}

// turnBeforeReset is where clockEnd tries the window's end, refuted or not: just after the clock's turn
// before the reset, once a window showed itself fixed (endHeld), where no answer came from the window
// after the turn.
func (b *bucket) turnBeforeReset() (time.Time, bool) {
	w := b.clockLength()
	if w <= 0 || !b.endHeld {
		return time.Time{}, false
	}
	turn := b.reset.Truncate(w)
	return turn.Add(turnoverMargin), turn.After(b.observed) && turn.Before(b.reset)
}

// clockLength is the window's length (as the server said it, else as its first answer's delay read it)
// when it is one a window on the clock counts in, else 0.
func (b *bucket) clockLength() time.Duration {
	w := b.window
	if w <= 0 {
		w = b.span
	}
	for _, cw := range clockWindows {
		if w == cw {
			return w
		}
	}
	return 0
}

// pastClockTurn reports whether the bucket turns, or turned before a refutation, its fixed window over on
// the clock's turn before its reset (turnBeforeReset), and received is at or after that turn.
func (b *bucket) pastClockTurn(received time.Time) bool {
	if b.mode != modeFixed || whole(b.reset) {
		return false
	}
	turn, ok := b.turnBeforeReset()
	return ok && turn.Before(b.reset) && !received.Before(turn)
}

// onClockTurn reports whether t is where clockEnd turns a window over: just after the clock's turn.
func (b *bucket) onClockTurn(t time.Time) bool {
	w := b.clockLength()
	return w > 0 && t.Add(-turnoverMargin).Truncate(w).Equal(t.Add(-turnoverMargin))
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// refuteEnd takes an answer that found the window not restored (a refusal, or less than the limit
// remaining) to a request sent at sent, when the bucket held the end held: sent at or after an end kept
// from an earlier answer, it refutes keeping them.
func (b *bucket) refuteEnd(held, sent time.Time) {
	if !b.kept.IsZero() && held.Equal(b.kept) && !sent.Before(held) {
		b.endRefuted = true
	}
}

// turnover is when the bucket takes its fixed window to turn over: the reset reported, or the learnt end
// of the window, when that end is one the reset's rounding allows: within the second after a reset seen
// floored; within the second before it where a window was seen to end before its reset, or to try that
// once; for a delay, the clock's turn before it (clockEnd); unless an answer refuted an end before the
// reset. Only a fixed window turns over.
func (b *bucket) turnover() time.Time {
	if b.mode != modeFixed || b.opened.IsZero() || b.reset.IsZero() {
		return b.reset
	}
	if b.floored {
		end := b.opened.Add(b.span + turnoverMargin)
		if end.After(b.reset) && end.Before(b.reset.Add(time.Second+turnoverMargin)) {
			return end
		}
		return b.reset
	}
	var span time.Duration
	switch {
	case b.notEarly:
		return b.reset
	case !whole(b.reset):
		if turn := b.clockEnd(); turn.Before(b.reset) {
			return turn
		}
		if b.early {
			span = b.spanUp // seen early: from where the window opened
		}
	case b.early || whole(b.reset) && b.reset.Equal(b.said):
		// Seen early; or untested, and tried where the reset is an epoch's whole second (not where a
		// Retry-After moved it: it said when). A delay's window opened by the client is not tried there:
		// what a sliding log frees one request early reads as a refill, and turns the bucket rolling,
		// which overspends it; the clock's turn is, once a window showed itself fixed (clockEnd).
		span = b.spanUp
	}
	if span <= 0 {
		return b.reset
	}
	end := b.opened.Add(span + turnoverMargin)
	if end.Before(b.reset) && end.After(b.reset.Add(-time.Second)) {
		return end
	}
	return b.reset
}
