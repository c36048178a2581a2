package ratekit

import (
	"math"
	"time"
)

// bucket is the local picture of one server quota (one policy in one dimension) for one key: how many units
// the server will still accept, and how they come back. It is synced from every response that reports the
// quota and consulted before every request. It is pure: every method takes the time.
//
// The server says three things: R units remain, the quota is fully restored at reset T, and (usually) the
// limit L. How the L - R used units come back before T depends on the algorithm, which the headers do not
// say, so the bucket holds a model of it and corrects it from what happens:
//
//   - rolling (the default): the used units come back at an even pace, (L - R) / (T - now) per second. It is
//     exact for token buckets, GCRA and leaky buckets (whose reset is "full again"), and a lower bound for
//     sliding windows, whose true refill every later response reveals (the bucket re-syncs upward).
//   - fixed: nothing comes back before T, then everything: a fixed window. A bucket turns fixed when the
//     server rejects a request that the rolling refill let through: a fixed window costs one rejection to
//     learn, and then none.
//   - concurrent: the quota counts requests in flight (the IETF unit concurrent-requests, or a reset that is
//     always "now"): units come back when responses arrive.
//   - sliding: a sliding-window counter, whose last window's count comes back over the next one (sliding.go).
//   - log: a sliding log, which frees each request a window after it was taken: the key's own passes say
//     when (log.go).
//
// Requests still in flight when a report arrives are counted against its R (the server may not have seen them
// yet), so a burst of concurrent requests does not overdraw the quota. Responses overtake each other, so a
// report is only trusted to raise the count when it is causally newer than the last one synced: it answers
// a request sent after that report arrived. Any report may lower the count.
type bucket struct {
	policy, dimension string

	limit     int64 // -1 when the server does not say
	window    time.Duration
	remaining int64         // as last reported; -1 when not reported
	longest   time.Duration // the longest time to reset reported: a fixed window's length
	held      int64         // the most units the bucket was seen to hold: its capacity, at least
	reset     time.Time     // as last reported; zero when not reported
	observed  time.Time     // when the last report arrived

	mode     bucketMode
	tokens   float64   // units available at last (negative: overdrawn by requests in flight)
	last     time.Time // when tokens was computed
	rate     float64   // units per second coming back (rolling mode)
	reported float64   // the units of the last report not yet spent, without any refill

	flights  []flight // the requests in flight, in admission order, with their cost in this dimension
	inflight int64    // their total cost
	syncMark uint64   // the key's admission count when the last report was synced
	syncR    int64    // the remaining units of the freshest report synced
	lowMark  uint64   // the key's admission count when an overlapping report last lowered syncR
	slots    float64  // the share of a quota of requests in flight this client may hold (concurrent mode)
	grew     bool     // Remaining grew between two reports with no reset between: not a fixed window
	growth   float64  // the units that came back since the last restore, by the reports
	low      bool     // the quota-low hook fired for the current level of use

	refill     refillMeter   // the refill rate measured from Remaining over time
	opened     time.Time     // when the current window opened, at the latest (see window.go)
	span       time.Duration // the window's length, read where it opened
	spanUp     time.Duration // the window's length if its whole-second reset was rounded up; 0: it cannot be
	said       time.Time     // the reset the last report said (a Retry-After may have moved reset since)
	floored    bool          // the server's whole-second reset was seen to come before the window's end
	early      bool          // a window was seen to end before its whole-second reset: the server rounds up
	notEarly   bool          // a refusal refuted an end before the reset (window.go)
	notOnClock bool          // an answer refuted a delay's window ending on the clock's turn (clockEnd)
	notSliding bool          // the sliding model was refuted (sliding.go)
	kept       time.Time     // the last end kept from an earlier answer in its window (keepsEnd)
	rose       bool          // Remaining rose before a reset, in a report newer than the one before
	endRefuted bool          // an answer to a request sent at a kept end found the window not restored
	endHeld    bool          // an answer to a request sent at a kept end found the window restored whole
	lastPass   time.Time     // when the last request that passed was sent
	rateCeil   float64       // the most the rolling rate may be, since a refusal refuted more (refuteRate)
	creep      float64       // how much rateCeil rises a report
	misses     int           // refusals of requests the sliding model let through
	// the units this client sent in the window that ends at sentWindow, and in the one before
	sentInWindow, sentBefore int64
	sentWindow               time.Time
	routes                   []string      // the routes whose answers reported this quota (see quotaset.go)
	log                      passLog       // the key's passes, for the log model (log.go)
	notLog                   bool          // the log model was refuted
	logMisses                int           // refusals of requests the log model let through
	logW                     time.Duration // the log model's window, where the server did not say it
}

type bucketMode uint8

const (
	modeRolling bucketMode = iota
	modeFixed
	modeConcurrent
	modeSliding
	modeLog
)

func (m bucketMode) String() string {
	switch m {
	case modeFixed:
		return "fixed"
	case modeConcurrent:
		return "concurrent"
	case modeSliding:
		return "sliding"
	case modeLog:
		return "log"
	}
	return "rolling"
}

// known reports whether the server said how much remains: only then does the bucket pace.
func (b *bucket) known() bool { return b.remaining >= 0 }

// capacity is the most units the bucket can hold: the limit, or what it was seen to hold if that is less
// (a token bucket's burst), or unbounded when neither is known.
func (b *bucket) capacity() float64 {
	switch {
	case b.held > 0 && (b.limit < 0 || b.held < b.limit):
		return float64(b.held)
	case b.limit < 0:
		return math.Inf(1)
	}
	return float64(b.limit)
}

// flight is a request in flight: its admission number and its cost in the bucket's dimension.
type flight struct {
	seq  uint64
	cost int64
}

// withoutFlight is flights without flight i. The latest sent, as on a key with one request in flight, is
// cut off with no copy.
func withoutFlight(flights []flight, i int) []flight {
	if i == len(flights)-1 {
		return flights[:i]
	}
	return append(flights[:i], flights[i+1:]...)
}

// sync takes a report of the quota received at received, in the answer to the request admitted as seq,
// whose cost in this dimension was own (already ended with done); mark is the key's admission count now.
func (b *bucket) sync(q Quota, received time.Time, seq, mark uint64, own int64) {
	if q.Remaining >= 0 {
		b.noteOpening(q, received, own)
	}
	if seq <= b.syncMark && b.known() && q.Remaining >= 0 {
		b.syncOverlapping(q, received, seq, mark, own)
		return
	}
	// A report that answers a request sent after the last one synced fully, but before an overlapping report
	// lowered the count, may have been taken by the server before that one: if it says no less, it is stale
	// on the count (TestReorderedAnswersNeverOverdraw), though not on the limit or the reset.
	stale := seq <= b.lowMark && b.known() && q.Remaining >= b.syncR && b.mode != modeConcurrent
	ceiling := countCeiling{tokens: math.Inf(1)}
	if stale {
		ceiling = countCeiling{tokens: b.available(received) + float64(own), r: b.syncR} // as syncOverlapping would have it
	}
	b.syncMark = mark
	if b.known() && q.Remaining > b.remaining && !b.reset.IsZero() && received.Before(b.reset) {
		b.rose = true // units came back before the reset, in a report newer than the last
	}
	if q.Limit >= 0 {
		b.limit = q.Limit
	}
	if q.Window > 0 {
		b.window = q.Window
	}
	if b.mode == modeSliding {
		b.syncSliding(q, received, ceiling)
		return
	}
	if b.mode == modeLog {
		// The log model paces on the key's passes; the report is kept for the view and the hooks.
		b.remaining, b.reset, b.observed = q.Remaining, q.Reset, received
		return
	}
	if q.Remaining >= 0 && b.known() && b.mode != modeConcurrent && !stale {
		b.measure(q, received, own)
	}
	prevReset := b.reset
	// A reset of now, with no more remaining, where the report before gave a whole second that has passed
	// since, is that epoch, floored or a second after, which ParseHeaders reads as now (ulule/limiter's
	// first window, opened just before a whole second, still counting down after it): the bucket keeps the
	// epoch, which tells a floored window (window.go), and no quota of requests in flight restored now.
	// Not where Remaining was seen to rise before a reset (a quota of requests in flight, or a bucket).
	passed := whole(prevReset) && !prevReset.After(received) && q.Reset.Equal(received) && !b.rose &&
		b.remaining >= 0 && q.Remaining >= 0 && q.Remaining <= b.remaining
	if passed {
		q.Reset = prevReset
	}
	if b.keepsEnd(q, received) {
		q.Reset, b.kept = b.reset, b.reset
	}
	b.remaining, b.reset, b.observed = q.Remaining, q.Reset, received
	if q.Remaining < 0 {
		return // nothing to pace on
	}
	until := q.Reset.Sub(received)
	b.longest = max(b.longest, until)
	// A quota of requests in flight shows itself by its unit, or by a reset of "now" (below). A reset within
	// a second is no such evidence: servers that round to whole seconds say "in a second" of a bucket that
	// refills in 20 ms. Nor is Remaining plus the requests in flight adding up to the limit: it does whenever
	// requests sent at once into a full bucket have not all been counted yet
	// (TestInFlightBurstIsNoConcurrencyEvidence).
	nowReset := !q.Reset.IsZero() && until <= time.Second
	// A delay of exactly 0 ("restored now") is what a quota of requests in flight says; so is an epoch of
	// now, floored, when Remaining counts at least half the limit (a floored window's end, already past, comes
	// when little remains).
	restoredNow := !q.Reset.IsZero() && !passed &&
		(until == 0 || until < 0 && until > -time.Second && b.limit > 0 && 2*(q.Remaining+own+b.inflight) >= b.limit)
	switch {
	case q.Dimension == "concurrent-requests", restoredNow && b.mode != modeFixed:
		b.mode = modeConcurrent
	case nowReset && b.mode == modeConcurrent:
		// a report that does not fit a quota of requests in flight, but does not contradict it either
	default:
		if b.mode == modeConcurrent {
			b.mode = modeRolling
		}
	}
	b.tokens = float64(q.Remaining - b.inflight)
	if b.mode == modeConcurrent {
		b.syncSlots(q.Remaining, seq, own)
	}
	b.syncR = q.Remaining
	ceiling.apply(b)
	b.reported = b.tokens
	b.last = received
	// The most the bucket has been seen to hold: a token bucket's burst may be less than its limit, and
	// its reset says when the burst is full again, not the limit.
	b.held = max(b.held, q.Remaining+own)
	b.rateFrom(q, received)
}

const (
	// rateCut is how far below the rate a refusal refuted the bucket's rate is held.
	rateCut = 0.1
	// rateCreep is how much the held rate rises with every report after the first refusal, so that a rate
	// the server raises is followed (a tenth in a hundred reports); every refusal after halves it, so
	// that the held rate settles below the server's.
	rateCreep = 0.001
)

// refuteRate takes a refusal of a request the rolling refill let through, in a bucket whose Remaining was
// seen to grow (no fixed window): the rate it refilled at is more than the server's (a limit rounded up
// to a whole unit, tollbooth's 2 a second for 1.67), and the rate is held rateCut below it from now on,
// rising by creep a report.
func (b *bucket) refuteRate() {
	c := (1 - rateCut) * b.rate
	if c <= 0 || b.rateCeil > 0 && c >= b.rateCeil {
		return
	}
	if b.rateCeil == 0 {
		b.creep = rateCreep
	} else {
		b.creep /= 2
	}
	b.rateCeil = c
}

// rateFrom derives the rolling refill rate from a report of q received at received: the units missing
// from full over the time to the reset, bounded by the rate the server said and, where the reset is
// coarse, read within the interval its rounding allows from what Remaining did over time.
func (b *bucket) rateFrom(q Quota, received time.Time) {
	b.rate = 0
	until := q.Reset.Sub(received)
	if b.mode == modeRolling && b.limit >= 0 && until > 0 {
		full := min(b.held, b.limit)
		b.rate = float64(max(full-q.Remaining, 0)) / until.Seconds()
		if b.window > 0 && b.limit > 0 {
			b.rate = min(b.rate, float64(b.limit)/b.window.Seconds()) // the server said its rate
		}
	}
	if b.mode == modeRolling && q.Reset.IsZero() {
		// No reset at all (Shopify's call limit, "32/40"): the rate is what Remaining did over time, at the
		// low end of what it allows, once measured; until then the key waits for answers, or the server's
		// Retry-After.
		b.rate = b.refill.measured()
	}
	if b.mode == modeRolling && coarse(q.Reset, received) && until > 0 {
		// A reset in whole seconds, a few seconds ahead, is an interval as wide as itself: a bucket missing
		// m units and full in (until-1s, until] refills at m/until to m/(until-1s). What Remaining did over
		// time reads the rate within it.
		lo, hi := b.rate, math.Inf(1)
		if missing := float64(max(min(b.held, max(b.limit, b.held))-q.Remaining, 0)); missing > 0 && until > time.Second {
			hi = missing / (until - time.Second).Seconds()
		}
		if hi > 1.5*lo {
			b.rate = min(b.refill.rate(lo), hi)
		}
	}
	if b.mode == modeRolling && b.rateCeil > 0 {
		b.rate = min(b.rate, b.rateCeil) // refuted above (refuteRate)
		b.rateCeil *= 1 + b.creep
	}
}

// coarse reports whether a reset, received at received, is too imprecise to derive a rate from: written in
// whole seconds (a delay or an epoch), and at most a few seconds ahead, so that its rounding is a large
// part of it.
func coarse(reset, received time.Time) bool {
	if reset.IsZero() {
		return false
	}
	until := reset.Sub(received)
	return (whole(reset) || until%time.Second == 0) && until <= 5*time.Second
}

// measure reads the refill between the last report synced and q, received at received, in the answer to
// a request of cost own: the units q reports beyond what the last report left, less what was spent since.
// A bucket seen full again only bounds the rate from below; so does a window that may have turned over
// (its reset, read as the interval its rounding allows, may have passed), whose restore is no refill at all.
// Units that came back without the bucket being full again tell a bucket (or a sliding window) from a
// fixed window, whose units all come back at once.
func (b *bucket) measure(q Quota, received time.Time, own int64) {
	dt := received.Sub(b.observed)
	if dt <= 0 {
		return
	}
	maybeTurned := !b.reset.IsZero() && !received.Before(b.reset.Add(-time.Second))
	refilled := float64(q.Remaining-b.inflight) - b.reported
	full := b.held > 0 && q.Remaining+own >= min(b.held, max(b.limit, b.held))
	if maybeTurned && full {
		return
	}
	// An epoch (a whole second) that may have passed leaves a restore unexplained, and so do an end kept
	// from an earlier answer (keepsEnd) and the clock's turn tried before a delay's end (clockEnd) once
	// they have passed, where a sliding log frees its oldest entries; a delay, which moves with every
	// report, does not mark a window's end.
	epoch := whole(b.reset) || b.reset.Equal(b.kept) && !received.Before(b.kept) || b.pastClockTurn(received)
	// One unit either way is the order in which the server counted requests in flight: growth shows in the
	// sum of several reports.
	switch {
	case maybeTurned && epoch, full:
		b.growth = 0
	default:
		b.growth += refilled
	}
	if b.growth >= 3 {
		b.grew = true
		if b.mode == modeFixed {
			b.mode = modeRolling // units came back before the reset: a bucket after all
		}
	}
	b.refill.add(max(refilled, 0), dt, full)
}

// available is how many units the bucket holds at now.
func (b *bucket) available(now time.Time) float64 {
	if !b.known() {
		return math.Inf(1)
	}
	if b.mode == modeFixed && !b.reset.IsZero() && !now.Before(b.turnover()) {
		return b.capacity() - float64(b.inflight) // the window turned over; the next report re-syncs
	}
	if b.mode == modeSliding {
		t, _, _ := b.slideAt(now)
		return min(t, b.capacity()-float64(b.inflight))
	}
	if b.mode == modeLog {
		return min(b.logAvailable(now), b.capacity()-float64(b.inflight))
	}
	t := b.tokens
	if b.rate > 0 && now.After(b.last) {
		t += b.rate * now.Sub(b.last).Seconds()
	}
	return min(t, b.capacity()-float64(b.inflight))
}

// wait is how long after now a request of cost units can be sent. It reports false when the bucket cannot
// tell (the units come back when requests in flight complete, or at an unknown time): the caller waits for
// the next response instead.
func (b *bucket) wait(cost int64, now time.Time) (time.Duration, bool) {
	if cost <= 0 || !b.known() {
		return 0, true
	}
	have := b.available(now)
	if have >= float64(cost) || float64(cost) > b.capacity() {
		return 0, true // enough; or more than the quota can ever hold, which only the server can judge
	}
	switch {
	case b.mode == modeLog:
		return b.logFrees(cost, now).Sub(now), true
	case b.mode == modeSliding:
		return b.slidingWait(float64(cost), now)
	case b.mode == modeRolling && b.rate > 0:
		secs := (float64(cost) - have) / b.rate
		return durationCeil(secs), true
	case b.mode == modeFixed && !b.reset.IsZero() && b.turnover().After(now):
		return b.turnover().Sub(now), true
	case b.mode != modeConcurrent && !b.reset.IsZero() && b.reset.After(now):
		return b.reset.Sub(now), true
	case b.mode != modeConcurrent && whole(b.reset) && !b.observed.Before(b.reset) && b.reset.Add(time.Second).After(now):
		// The last report came at or after its whole-second reset and still did not show it restored: the
		// epoch was floored, and the end is within the second after it.
		return b.reset.Add(time.Second + turnoverMargin).Sub(now), true
	case b.mode != modeConcurrent && !b.reset.IsZero():
		return 0, true // reset passed: restored
	}
	return 0, false
}

// syncOverlapping takes a report that answers a request sent before the last synced report arrived: the
// server may have processed it before or after that report. A lower remaining count means after: it is the
// freshest news, synced against what is still in flight; mark (the key's admission count now) bounds the
// requests that the server may have taken before it (see sync). A count as high or higher means before: the report
// synced last already counted this request, which was then subtracted again as in flight; it is given back.
func (b *bucket) syncOverlapping(q Quota, received time.Time, seq, mark uint64, own int64) {
	switch {
	case b.mode == modeConcurrent:
		b.syncSlots(q.Remaining, seq, own)
	case q.Remaining < b.syncR:
		b.syncR, b.lowMark = q.Remaining, mark
		tokens := float64(q.Remaining - b.inflight)
		if have := b.available(received); tokens < have {
			b.tokens, b.last = tokens, received
		}
		b.reported = min(b.reported, tokens)
		if b.mode == modeRolling {
			// The freshest count: the rate is read from it, as from any report synced whole (the answers to
			// a burst arrive in any order, and the lowest is the one that says how much is missing).
			b.rateFrom(q, received)
		}
	default:
		b.tokens += float64(own)
		b.reported += float64(own)
	}
}

// syncSlots updates a quota of requests in flight. Its units are slots: what matters is how many this
// client may hold at once, which is the limit when no other client shares the quota. Reports cannot say
// better (requests the server processes in the same instant see each other in any order), so the share
// starts at the limit (or, without one, at what the first report implies), drops to what was in flight when
// the server refuses a request, and climbs back by one slot per share's worth of successes.
func (b *bucket) syncSlots(remaining int64, seq uint64, own int64) {
	if b.slots == 0 {
		if b.limit > 0 {
			b.slots = float64(b.limit)
		} else {
			var before int64
			for _, f := range b.flights {
				if f.seq < seq {
					before += f.cost
				}
			}
			b.slots = float64(max(remaining+own+before, 1))
		}
	} else if b.limit > 0 && b.slots < float64(b.limit) {
		b.slots = min(b.slots+1/b.slots, float64(b.limit))
	}
	b.tokens = b.slots - float64(b.inflight)
	b.reported = b.tokens
}

// retryAt takes the time a rejection of a request costing own units here asked to wait until. When it is
// sooner than the reset (which servers round up to whole seconds, or which says when a sliding log is empty,
// not when it has room), and the bucket has not the units the request needs, it is the better reset: the
// server said exactly when it takes that request again.
func (b *bucket) retryAt(at, now time.Time, own int64) {
	need := float64(max(own, 1))
	if !b.known() || !at.Before(b.reset) || b.available(now) >= need {
		return
	}
	b.reset = at
	if b.mode == modeRolling && at.After(now) && !coarse(at, now) {
		// The server promised that request at that time, no more: a sliding log frees its oldest entry, a
		// token bucket refills the request's cost (1,000 tokens at Retry-After: 8 is 125 a second, not 1/8).
		// A rate below the reset's (full by then) says the cost was more than the request was charged (one
		// of unknown cost, before the key learnt it): the reset's stands.
		have := b.available(now)
		b.tokens, b.last = have, now
		b.rate = max((need-have)/at.Sub(now).Seconds(), b.rate)
	}
}

// refused records that the server refused a request for this quota.
func (b *bucket) refused() {
	if b.mode == modeConcurrent {
		b.slots = max(float64(b.inflight), 1)
		b.tokens = b.slots - float64(b.inflight)
	}
}

// take spends cost units at now for the request admitted as seq. It reports whether the units came from
// the rolling refill rather than from what the server last reported, which is what a rejection then
// disproves.
func (b *bucket) take(seq uint64, cost int64, now time.Time) (refilled bool) {
	if cost <= 0 {
		return false
	}
	b.flights = append(b.flights, flight{seq: seq, cost: cost})
	b.inflight += cost
	if !b.known() {
		return false
	}
	b.countSent(cost, now)
	if b.mode == modeLog {
		return true // the log model let it through, whatever the server reported
	}
	if b.mode == modeFixed && !b.reset.IsZero() && !now.Before(b.turnover()) {
		return false
	}
	switch {
	case b.mode == modeSliding:
		b.slide(now)
	case b.rate > 0 && now.After(b.last):
		b.tokens += b.rate * now.Sub(b.last).Seconds()
		b.tokens = min(b.tokens, b.capacity())
		b.last = now
	}
	b.tokens -= float64(cost)
	refilled = b.reported < float64(cost)
	b.reported -= float64(cost)
	return refilled
}

// done ends the request admitted as seq, if it is in flight here.
func (b *bucket) done(seq uint64) {
	for i, f := range b.flights {
		if f.seq == seq {
			b.inflight -= f.cost
			b.flights = withoutFlight(b.flights, i)
			return
		}
	}
}

// refusedRefill takes a refusal of a request that only the rolling refill allowed. Where the bucket's units
// came back before a reset (grew), it is no fixed window: the rate it refilled at is more than the
// server's (refuteRate). Else, where the server waits for its reset (waitsForReset), it switches to the
// fixed model: its units come back at the reset, not before.
func (b *bucket) refusedRefill(waitsForReset bool) {
	switch {
	case b.grew:
		b.refuteRate()
	case waitsForReset:
		b.mode = modeFixed
		b.rate = 0
	}
}

// view is the quota as the bucket sees it at now: the last report adjusted for time and for requests in
// flight.
func (b *bucket) view(now time.Time) Quota {
	q := Quota{Policy: b.policy, Dimension: b.dimension, Limit: b.limit, Remaining: -1, Window: b.window, Reset: b.reset}
	if b.known() {
		have := b.available(now)
		if math.IsInf(have, 1) {
			have = float64(b.remaining)
		}
		q.Remaining = max(int64(math.Floor(have)), 0)
		if b.limit >= 0 {
			q.Remaining = min(q.Remaining, b.limit)
		}
	}
	if !q.Reset.IsZero() && q.Reset.Before(now) {
		q.Reset = time.Time{}
	}
	return q
}

// durationCeil converts seconds to a Duration, rounding up so a wait never ends early, and saturating.
func durationCeil(secs float64) time.Duration {
	if !(secs > 0) {
		return 0
	}
	if secs >= maxAhead.Seconds() {
		return maxAhead
	}
	return time.Duration(math.Ceil(secs * float64(time.Second)))
}

// syncSliding takes a report into the sliding model (sliding.go): the model moves to the report's time,
// crossing a boundary if one passed, then its tokens are what the report leaves after the requests in flight
// (or, for a stale report, no more than the ceiling). The rate stays: it changes only at a boundary.
func (b *bucket) syncSliding(q Quota, received time.Time, ceiling countCeiling) {
	b.slide(received)
	b.remaining, b.observed = q.Remaining, received
	if q.Reset.After(b.reset) {
		b.reset = q.Reset
	}
	if q.Remaining < 0 {
		return
	}
	b.held = max(b.held, q.Remaining)
	b.tokens, b.last = float64(q.Remaining-b.inflight), received
	b.syncR = q.Remaining
	ceiling.apply(b)
	b.reported = b.tokens
}

// countCeiling is the most a stale report may leave in the bucket (see sync): the tokens and the count of
// the report that lowered it; unbounded for a report that is not stale.
type countCeiling struct {
	tokens float64
	r      int64
}

// apply holds b's tokens, just synced from a report, to the ceiling.
func (c countCeiling) apply(b *bucket) {
	if c.tokens < b.tokens {
		b.tokens, b.syncR = c.tokens, c.r
	}
}
