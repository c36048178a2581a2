package ratekit

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// adaptive paces a key whose server says nothing but "429": no quota headers, no Retry-After. What it learns
// comes from the instants of refusals, which are the instants the server's bucket (or window) is empty:
//
//   - Slow start. Until the first refusal, requests in flight grow with the successes (one more for every
//     slowStartSuccesses), from the lone probe: the requests in flight when the server starts refusing are
//     all refused, so the first burst must not end with every worker in flight.
//   - The first wait is sized by the first burst: A requests passed at once, so the server allows at least
//     A per the span a burst usually lasts (burstSpan), and the first probe goes when one of them has come
//     back at that rate, not after a blind second.
//   - The rate is measured between refusals: at two refusals the server had less than one unit left, so
//     the successes in between (of requests sent after the first) are what it refilled meanwhile. Cycles
//     add up (the span from the first refusal to the last is itself such a cycle), so the estimate
//     tightens, to about one request over the span, as the key runs.
//   - After each refusal the pace restarts a little below the estimate, where the server's bucket refills
//     while the pace grows back: fast while the estimate rests on few successes, then gently above it,
//     so that a refusal comes only every couple of score requests.
//   - A refusal of a probe (no success since the last refusal) means the server is still closed: a window
//     that will not reopen before its end. The probes then space out exponentially, up to maxProbeGap,
//     except that one goes just after the clock's second, minute or hour turns, where a window on the
//     clock reopens, when that saves more waiting than the server has been closed (clockTurn). A window's
//     end counted from the first request of the burst that emptied the server is probed the same way
//     (anchoredTurn): a sliding log frees that burst a window after it was sent, and a window anchored at
//     a client's first request reopens there (sliding-window-log/none 50/s 0.46 -> 0.72). A probe
//     refused on either turn is followed by up to turnFollows more at gaps doubling from an interval,
//     once an episode for each: a sliding counter reopens some intervals after its turn (its last window
//     weighs whole there, and the requests it refused too where it counts them: HAProxy), and the
//     backoff's probe came a whole backoff later (sliding-window-counter/none 50/s 0.70 -> 0.97, real
//     HAProxy 50/s 0.32-0.73 -> 0.90-0.92). Where the last episode's follows found nothing (a window
//     closed for a minute), one follows.
//   - A server found reopened on the clock's turn counts in a window on the clock (clockWindow), taken to
//     pass what the first burst did: each window's requests go at its start, the first alone and two more
//     in flight per success, up to that count, and nothing until the next turn. A refusal within it ends
//     the cycle: a window that passed about a first burst is kept at what it passed; else the key goes
//     back on the pace, and one refused before half its count was none (a sliding counter that had
//     reopened by the turn): a pass on a turn no longer makes one.
//   - The answers are also fitted to a token bucket as large as the first burst (bucket_fit.go): every pass
//     bounds its rate from below and every refusal from above. While some rate fits them all, and no
//     window on the clock fits them as well, the pace keeps within what fits: at least the least rate
//     (less fitSlack), below the most the refusals allow, and at the least once the two are within
//     fitTight. A bucket with no burst (nginx's limit_req) passes one request per interval, and the
//     cycles' sums, which count what the key sent, not what the server could pass, would hold the pace
//     at a third of it.
//   - A server that refused several probes and then passes about a first burst at once (found open soon
//     after the last refused probe, and not by a probe that followed a turn) is a window that reopened:
//     its rate is that burst per the whole episode (the episode's first refusal found it empty too), not
//     per the moments since the last refused probe, which would pace through the next window and probe
//     through its closed remainder again.
//
// The core is pure: every method takes now. Guarded by its key's mu.
type adaptive struct {
	// Before the first refusal.
	okBefore  int64     // successes before the first refusal: about the server's burst
	firstSent time.Time // when the first of them was sent

	lim         *rate.Limiter // the pace; nil until the first refusal
	pace        float64       // the pace between episodes; lim runs slower while probing a closed server
	cut         time.Time     // the last refusal: rejections of requests sent before it are old news
	inEpisode   bool          // refused, and no success since
	probes      int           // refusals in the current episode
	cycleOK     int64         // successes of requests sent since cut
	epStart     time.Time     // the first refusal of the last episode: the server was empty there too
	epAnchor    time.Time     // when the first success of the cycle the episode ended was sent
	quietProbes int           // the probes the last episode's server refused: how long it stayed closed
	firstOK     time.Time     // when the cycle's first success was sent: the server had reopened by then
	// sumOK and sumT are the successes and seconds of the closed cycles in which the server cannot have
	// been full (decayed together): at both ends it had less than one request left, so the server's rate
	// is sumOK/sumT to within one request over sumT.
	sumOK, sumT float64
	floor       float64       // the rate a cycle proved at least, when the server may have been full in it
	level       float64       // the server's level in the current cycle, modelled at the upper estimate
	overflowed  bool          // the model reached the burst: the cycle proves a lower bound only
	lastOK      time.Time     // the last success of the cycle (or its start), for the model
	startPace   float64       // the pace at the cycle's start
	rtt         time.Duration // the round trip of the last success
	// backoffNext is the probe the backoff scheduled, when one on the clock's turn went before it; turnProbes
	// counts the episode's refused probes on the clock's turns, which do not grow the backoff.
	backoffNext time.Time
	turnProbes  int
	// follows counts the probes that followed one refused on the clock's turn this episode, followGap the
	// gap before the last of them (0 once the backoff's probe stands again)
	follows   int
	followGap time.Duration
	// clockFollowed and anchorFollowed: probes followed a refused one on the clock's turn, at the anchored
	// end, this episode
	clockFollowed, anchorFollowed bool
	// clockRefuted: a window on the clock, found by a probe that passed on its turn, refused before it passed
	// half its count
	clockRefuted bool
	// followsFailed: the last episode in which probes followed one refused on a turn did not end on one of
	// them (a window that stays closed long after its turn): the next follows a turn once only
	followsFailed bool
	// reopenedAfterTurn: the cycle began with a pass of a probe that followed the turn's
	reopenedAfterTurn bool
	turnAt            time.Time     // the clock's turn the pending probe goes on (zero: none)
	anchoredAt        time.Time     // or the anchored window's end (anchoredTurn) it goes at
	turnW             time.Duration // the window of that turn
	reopenW           time.Duration // the window on the clock a probe on its turn found the server reopened in
	clock             clockWindow   // the window on the clock the server was found to count in
	// fit is the answers since the first refusal, fitted to a token bucket (bucket_fit.go); fitLo and fitHi
	// are the rates it fitted at the last refit (fitted: some did), refitIn the successes until the next.
	fit          *bucketFit
	fitLo, fitHi float64
	fitted       bool
	refitIn      int
}

// clockWindow is a window on the clock that a silent server was found to count in: it refused until the
// window's turn, then passed about what it passed at first, and refused again. Within one, the key sends no
// more than the server passed in the window it was found in, so the window's end finds nothing in flight
// to refuse; a refusal refutes it.
type clockWindow struct {
	w     time.Duration // its length (0: none)
	cap   int64         // what the server passed in the window it was found in
	start time.Time     // the current window's start
	sent  int64         // requests sent since start
	// ok counts the window's successes: its first request goes alone, and every success lets two more in
	// flight (inFlight), so a window that did not reopen (or a log that frees one request at a time)
	// refuses one or a few requests, not every one the key has to send.
	ok int64
}

// inFlight is how many requests may be in flight in the current window (0: no window on the clock).
func (c *clockWindow) inFlight() int {
	if c.w <= 0 {
		return 0
	}
	return int(min(1+2*c.ok, math.MaxInt32))
}

// full reports whether the window at now has been sent all it passes, and when the next one opens.
func (c *clockWindow) full(now time.Time) (time.Time, bool) {
	if c.w <= 0 || c.sent < c.cap || !now.Truncate(c.w).Equal(c.start) {
		return time.Time{}, false
	}
	return c.start.Add(c.w + turnoverMargin), true
}

// take counts a request sent at now.
func (c *clockWindow) take(now time.Time) {
	if c.w <= 0 {
		return
	}
	if ws := now.Truncate(c.w); !ws.Equal(c.start) {
		c.start, c.sent, c.ok = ws, 0, 0
	}
	c.sent++
}

// passed takes a success of a request sent at sentAt.
func (c *clockWindow) passed(sentAt time.Time) {
	if c.w > 0 && !sentAt.Before(c.start) {
		c.ok++
	}
}

const (
	// minAdaptiveRate is the slowest the adaptive rate goes: one request a minute.
	minAdaptiveRate = 1.0 / 60
	// slowStartSuccesses: before the first refusal, one more request may be in flight for every this many
	// successes. The first refusal finds about successes/slowStartSuccesses requests in flight, all refused.
	slowStartSuccesses = 6
	// burstSpan is how long a first burst is assumed to hold of the server's rate: per-second windows and
	// bucket bursts of up to a second's rate (nginx's burst=10 at 50/s is 0.2 s, Stripe's 1 s) refill one
	// request within burstSpan/burst. Longer windows refuse the first probe, and the probes space out.
	burstSpan = 1250 * time.Millisecond
	// paceMargin is how far below the upper estimate the pace restarts after a refusal.
	paceMargin = 0.1
	// fastGrowth is the pace's growth per success while no measured cycle bounds the rate from above; from
	// the first probe, the pace reaches a rate 5 times its start in 8 successes.
	fastGrowth = 0.25
	// gentleGrowth is the growth per success once it does: the bound holds while the server's rate does, so
	// the growth only follows a rate that rises, and meets an empty bucket every couple of hundred successes.
	gentleGrowth = 0.001
	// probeBackoff is how much longer each refused probe makes the wait for the next: a window that stays
	// closed for its remainder is found within a few probes.
	probeBackoff = 4
	// turnFollows is how many probes follow one refused on a turn, at gaps doubling from an interval: a
	// sliding counter that counted refusals reopens within 15 intervals of its turn.
	turnFollows = 4
	// maxProbeGap is the longest wait between probes of a server that stays closed, as the key's backoff.
	maxProbeGap = 10 * time.Second
	// maxAdaptiveRate bounds the pace where the round trip is too short to bound it.
	maxAdaptiveRate = 10_000.0
	// decaySuccesses: past this many successes, the sums halve, so the estimate follows a rate that changes.
	decaySuccesses = 400
)

// success records a response that was not a rejection, of a request sent at sentAt.
func (a *adaptive) success(sentAt, now time.Time) {
	if a.lim == nil {
		if a.okBefore == 0 || sentAt.Before(a.firstSent) {
			a.firstSent = sentAt
		}
		a.okBefore++
		return
	}
	a.fit.add(sentAt, true)
	if a.refitIn--; a.refitIn <= 0 {
		a.refit()
	}
	if !sentAt.After(a.cut) {
		return // sent before the last refusal: the server let it through before it ran dry
	}
	if a.bounded() {
		a.level += a.upper() * now.Sub(a.lastOK).Seconds()
		if a.level >= float64(a.okBefore) {
			a.overflowed = true
		}
		a.level = max(a.level-1, 0)
	}
	a.lastOK = now
	a.clock.passed(sentAt)
	if a.cycleOK == 0 {
		a.firstOK = sentAt
	}
	a.cycleOK++
	a.rtt = now.Sub(sentAt)
	growth := gentleGrowth
	switch {
	case !a.bounded():
		growth = a.searchGrowth()
	case a.pace < (1-paceMargin/2)*a.upper():
		// Below what the cycles allow, by as much as they are unsure of: back within a few successes.
		growth += (a.upper()/a.estimate() - 1) / 8
	}
	a.pace = max(min(a.pace*(1+growth), a.maxRate()), a.pace)
	if c, ok := a.fitCap(); ok {
		a.pace = min(a.pace, c)
	}
	if a.inEpisode {
		a.quietProbes = a.probes - 1
		// Found open by a probe that followed a refused one on the clock's turn: a counter that reopens
		// some requests after its turn (a sliding one), not a window that reopens whole.
		a.reopenedAfterTurn = a.followGap > 0
		if a.follows > 0 {
			a.followsFailed = !a.reopenedAfterTurn
		}
		if !a.turnAt.IsZero() && !sentAt.Before(a.turnAt) && !a.clockRefuted {
			// The probe on the clock's turn found it open: take it for a window on the clock that passes
			// what the first burst did, until a refusal within it says otherwise (then closeCycle measures
			// what it passed, or the key goes back on the pace).
			a.reopenW = a.turnW
			a.clock = clockWindow{w: a.turnW, cap: max(a.okBefore, 1), start: sentAt.Truncate(a.turnW), sent: 1, ok: 1}
		}
	}
	a.turnAt, a.anchoredAt = time.Time{}, time.Time{}
	a.inEpisode, a.probes = false, 0
	a.lim.SetLimitAt(now, rate.Limit(a.pace))
}

// rejected records a rejection that said nothing, of a request sent at sentAt.
func (a *adaptive) rejected(sentAt, now time.Time) {
	switch {
	case a.lim == nil:
		// The first refusal: A passed since the first was sent, so the server allows about A per burstSpan
		// at least.
		lasts := burstSpan
		if a.okBefore <= 1 {
			// A burst of one (a limiter of rate only: nginx's limit_req without burst) gives back its one
			// request in its interval: half the span holds it for every per-second policy from 2 a second,
			// and a slower server refuses the first probe, which costs a refusal and the backoff.
			lasts = burstSpan / 2
		}
		span := now.Sub(a.firstSent) + lasts
		a.pace = max(float64(max(a.okBefore, 1))/span.Seconds(), minAdaptiveRate)
		a.inEpisode, a.probes, a.epStart, a.epAnchor = true, 1, now, a.firstSent
		a.fit = newBucketFit(a.okBefore, a.firstSent)
	case !sentAt.After(a.cut):
		a.fit.add(sentAt, false)
		return // sent before the last refusal: old news
	case a.clock.w > 0:
		// Refused within a window on the clock: the server does not count in it. Refused before it passed
		// half of what it was taken to pass, it was no window at all (a sliding counter that had reopened
		// by the turn): a probe that passes on a turn no longer makes one.
		a.clockRefuted = a.clockRefuted || a.clock.ok < a.clock.cap/2
		a.clock = clockWindow{}
		a.closeCycle(now)
		a.inEpisode, a.probes, a.epStart, a.epAnchor = true, 1, now, a.firstOK
	case a.inEpisode:
		// A probe refused: the server is still closed, and refilled nothing since the last refusal.
		if a.bounded() {
			a.sumT += now.Sub(a.cut).Seconds()
		}
		a.probes++
	default:
		a.closeCycle(now)
		a.inEpisode, a.probes, a.epStart, a.epAnchor = true, 1, now, a.firstOK
	}
	a.fit.add(sentAt, false)
	a.refit()
	if c, ok := a.fitCap(); ok {
		// The answers fit a bucket: the pace is at least the least rate they fit (less the slack the
		// fit allows), and within the cap.
		a.pace = min(max(a.pace, (1-fitSlack)*a.fitLo), c)
	}
	a.cut, a.cycleOK, a.level, a.overflowed, a.lastOK, a.startPace = now, 0, 0, false, now, a.pace
	// A fresh limiter, empty at now: the next request goes one interval after the refusal, or, while the
	// server stays closed, probeBackoff times as long for every probe it refused, or on the clock's turn
	// that comes first (clockTurn).
	gap := max(min(math.Pow(probeBackoff, float64(a.probes-1-a.turnProbes))/a.pace, maxProbeGap.Seconds()), 1/a.pace)
	next := now.Add(time.Duration(gap * float64(time.Second)))
	switch {
	case a.probes <= 1:
		a.turnProbes, a.backoffNext, a.follows, a.followGap = 0, time.Time{}, 0, 0
		a.clockFollowed, a.anchorFollowed = false, false
	case !a.backoffNext.IsZero() && a.unfollowedTurn(sentAt) && now.Add(a.interval()).Before(a.backoffNext):
		// Refused on the clock's turn itself, or at the end of a window anchored at the burst that emptied
		// the server (where a counter whose periods begin at a client's first request turns): a sliding
		// counter reopens there one request at a time, the first an interval or a few after the turn (the
		// last window's count weighs whole at it, and the requests it refused too, where it counts them).
		// Probes follow at gaps that double from an interval (turnFollows of them, or one where the last
		// episode's found nothing), before the backoff's own: once an episode after the clock's turn,
		// once after the anchored end.
		a.followGap, a.follows = a.interval(), 1
		if a.turnAt.IsZero() {
			a.anchorFollowed = true
		} else {
			a.clockFollowed = true
		}
		next = now.Add(a.followGap)
		a.turnProbes++
	case !a.backoffNext.IsZero() && a.followGap > 0 && a.follows < turnFollows && !a.followsFailed &&
		now.Add(2*a.followGap).Before(a.backoffNext):
		a.followGap *= 2
		a.follows++
		next = now.Add(a.followGap)
		a.turnProbes++
	case !a.backoffNext.IsZero():
		// The probe refused was one on the clock's turn (or one that followed it): the backoff's own probe,
		// which it moved earlier, still stands, and the backoff does not grow for it.
		next, a.backoffNext, a.followGap = a.backoffNext, time.Time{}, 0
		a.turnProbes++
	}
	a.turnAt, a.anchoredAt = time.Time{}, time.Time{}
	if a.probes > 1 {
		// Within probes that follow a refused one on a turn, a turn before the next of them is worth that
		// probe: it goes there instead, where it saves waiting against the backoff's own.
		ref := next
		if !a.backoffNext.IsZero() {
			ref = a.backoffNext
		}
		turn, w, ok := clockTurn(a.epStart, now, next)
		// A window's end counted from the first request of the burst that emptied the server, where it comes
		// first: a sliding log frees that burst there. It is no window on the clock: a pass resumes the pace.
		if end, found := anchoredTurn(a.epAnchor, now, next); found && (!ok || end.Before(turn)) {
			if at, worth := a.worthTurn(now, end, ref); worth {
				a.keepBackoff(next)
				next, a.anchoredAt, ok = at, at, false
			}
		}
		if at, worth := a.worthTurn(now, turn, ref); ok && worth {
			a.keepBackoff(next)
			next, a.turnAt, a.turnW = at, at, w
		}
	}
	a.probeAfter(now, max(next.Sub(now).Seconds(), 1/a.pace))
}

// refitSuccesses is how many successes go between refits of the bucket: each refit takes the answers
// the pace has passed at since the last as evidence of a higher least rate.
const refitSuccesses = 8

// refit fits the answers to a bucket as large as the first burst.
func (a *adaptive) refit() {
	a.refitIn = refitSuccesses
	a.fitLo, a.fitHi, a.fitted = a.fit.rates(float64(a.okBefore))
}

// fitCap is the fastest the bucket fit lets the pace go, and whether it fitted: below the most rate the
// refusals allow (a pace above it has been refuted), and at the least the passes have proved once the two
// are within fitTight of each other. A fit whose most is more than fitSpan times its least says too
// little to go by: the passes have not shown the rate (a window that stays closed after its count, or
// a log, fits a slow bucket until the key sends faster), and it leaves the pace alone.
func (a *adaptive) fitCap() (float64, bool) {
	switch {
	case !a.fitted || a.fitHi > fitSpan*a.fitLo:
		return 0, false
	case a.fitHi > (1+fitTight)*a.fitLo:
		return max((1-2*fitSlack)*a.fitHi, a.fitLo), true
	}
	return a.fitLo, true
}

const (
	// fitTight is how close the most rate the bucket fit allows must be to the least for the pace to
	// keep to the least.
	fitTight = 0.15
	// fitSpan is the widest ratio of the most rate to the least that the bucket fit paces by.
	fitSpan = 2
)

// worthTurn reports whether to probe on the clock's turn at turn rather than at next, after a probe refused
// at now, and when: at the turn, or an interval after now where the pace allows no request before that
// (still in the window the turn opened), where that saves more waiting than the server has been closed
// this episode (a probe costs a refusal when the window is not on the clock; the backoff's overshoot that
// it saves is then worth it).
func (a *adaptive) worthTurn(now, turn, next time.Time) (time.Time, bool) {
	at := turn
	if soonest := now.Add(a.interval()); turn.Before(soonest) {
		at = soonest
	}
	return at, next.Sub(at) > turn.Sub(a.epStart)
}

// keepBackoff keeps next as the backoff's probe, which one on a turn goes before, unless next is a probe
// that follows a refused one on a turn: the backoff's probe is then kept already.
func (a *adaptive) keepBackoff(next time.Time) {
	if a.backoffNext.IsZero() {
		a.backoffNext = next
	}
}

// unfollowedTurn reports whether a request sent at sentAt was the probe on the clock's turn or at the
// anchored window's end, and no probes followed one of its kind this episode.
func (a *adaptive) unfollowedTurn(sentAt time.Time) bool {
	if !a.turnAt.IsZero() {
		return !a.clockFollowed && !sentAt.Before(a.turnAt)
	}
	return !a.anchoredAt.IsZero() && !a.anchorFollowed && !sentAt.Before(a.anchoredAt)
}

// interval is the time between two requests at the pace.
func (a *adaptive) interval() time.Duration { return time.Duration(float64(time.Second) / a.pace) }

// clockWindows are the window lengths a server that says nothing most likely counts in, aligned to its
// clock: a counter per whole second, minute or hour of the epoch (Rack::Attack, httprate's sliding
// counter, a Redis INCR keyed by the window's start). The local clock stands for the server's: both are
// usually within milliseconds of UTC, and a turn tried off the server's costs one refusal.
var clockWindows = [...]time.Duration{time.Second, time.Minute, time.Hour}

// clockTurn is when to probe a server that has refused every probe since the episode began at start,
// instead of at next, the probe the backoff schedules after a refused one at now: just after the first
// turn of the clock's second, minute or hour since start that falls between now and next. A window on the
// clock reopens there; one that does not reopen refutes that window, and the backoff goes on from there.
// Each turn is tried at most once an episode (the first one since start, and only while it is ahead), so
// probing on the clock adds at most len(clockWindows) probes to an episode, and usually moves one earlier.
func clockTurn(start, now, next time.Time) (time.Time, time.Duration, bool) {
	return firstEnd(now, next, func(w time.Duration) time.Time { return start.Truncate(w) })
}

// firstEnd is the first end (plus turnoverMargin) of a window of one of clockWindows' lengths, begun where
// began says for that length, that falls between now and next, and its length.
func firstEnd(now, next time.Time, began func(w time.Duration) time.Time) (time.Time, time.Duration, bool) {
	for _, w := range clockWindows {
		if end := began(w).Add(w + turnoverMargin); end.After(now) && end.Before(next) {
			return end, w, true
		}
	}
	return time.Time{}, 0, false
}

// anchoredTurn is when a window of one of clockWindows' lengths that began at anchor (the first request of
// the burst that emptied the server) ends, the first such end between now and next: a sliding log frees
// that burst's requests there, a window anchored at a client's first request reopens.
func anchoredTurn(anchor, now, next time.Time) (time.Time, bool) {
	if anchor.IsZero() {
		return time.Time{}, false
	}
	end, _, ok := firstEnd(now, next, func(time.Duration) time.Time { return anchor })
	return end, ok
}

// closeCycle ends the cycle at a refusal at now and sets the pace from what it measured.
func (a *adaptive) closeCycle(now time.Time) {
	ok, secs := float64(a.cycleOK), now.Sub(a.cut).Seconds()
	window := false
	if a.quietProbes > 1 && ok >= float64(a.okBefore)/2 && a.firstOK.Sub(a.cut) <= a.cut.Sub(a.epStart) &&
		!a.reopenedAfterTurn {
		// A window: it refused every probe for a long time, then passed about a first burst at once. Its
		// rate is the burst per the whole episode, from its first refusal (empty) to this one (empty), not
		// the burst per the moments since the last refused probe. The probes' time is in the sums already
		// once bounded. Only while the probe that found it open went soon enough after the last refused
		// one: a probe gap longer than the quiet before it hides when the window reopened, and would put
		// the open window's idle time in the rate (a per-second window measured at a third of its rate).
		if !a.bounded() {
			secs = now.Sub(a.epStart).Seconds()
		}
		a.overflowed, window = false, true
		if a.reopenW > 0 {
			// and it reopened on the clock's turn: a window on the clock, which passes what this one did
			// (and has just been sent all of it: this refusal is its end)
			a.clock = clockWindow{w: a.reopenW, cap: a.cycleOK, start: now.Truncate(a.reopenW), sent: a.cycleOK}
		}
	}
	a.reopenW, a.reopenedAfterTurn = 0, false
	// The server may have been full in the cycle (the successes could have drained a burst, or the model
	// says it filled): the cycle proves that the rate is at least what it refilled, not what it is.
	// Only the first cycle's successes can tell: it began with a wait the first burst sized, long enough
	// for a small burst to fill at a fast rate. Later ones begin near what the previous measured.
	first := !a.bounded() && a.floor == 0
	full := !window && (a.overflowed || (first && secs > 0 && a.drained(ok/secs)+2 >= float64(a.okBefore)))
	switch {
	case secs <= 0:
	case full:
		a.floor = max(a.floor, (ok-1)/secs)
		if a.bounded() && a.floor > a.upper() {
			a.sumOK, a.sumT = 0, 0 // the rate rose above what the sums allow: measure again
		}
	default:
		a.sumOK += ok
		a.sumT += secs
		if a.sumOK > decaySuccesses {
			a.sumOK, a.sumT = a.sumOK/2, a.sumT/2
		}
	}
	switch {
	case a.bounded():
		a.pace = (1 - paceMargin) * max(a.estimate(), a.floor)
	case secs > 0:
		a.pace = (1 - paceMargin) * max(ok/secs, a.floor)
	}
	a.pace = max(a.pace, minAdaptiveRate)
}

// searchGrowth is the pace's growth per success while no cycle bounds the rate: from the first probe, a
// quarter (5 times the first pace in 8 successes); after a cycle in which the server may have been full,
// doubling, so that the pace spends little time below the rate, where a small burst fills.
func (a *adaptive) searchGrowth() float64 {
	if a.floor > 0 {
		return 1
	}
	return fastGrowth
}

// drained is how many of the cycle's successes were sent at a pace above rate: the most the server can
// have held, less one, when the pace crossed it. The pace grew by searchGrowth from startPace.
func (a *adaptive) drained(rate float64) float64 {
	p, n := a.startPace, a.cycleOK
	for n > 0 && p < rate {
		p *= 1 + a.searchGrowth()
		n--
	}
	return float64(n)
}

// bounded reports whether a measured cycle bounds the rate from above.
func (a *adaptive) bounded() bool { return a.sumT > 0 && a.sumOK > 0 }

// estimate is the rate the measured cycles say: half a request more than they refilled, the middle of what
// they allow.
func (a *adaptive) estimate() float64 { return (a.sumOK + 0.5) / a.sumT }

// upper is the highest rate the measured cycles allow: one request more than they refilled.
func (a *adaptive) upper() float64 { return (a.sumOK + 1) / a.sumT }

// probeAfter lets the next request go gap seconds after now, and the pace resume at its success.
func (a *adaptive) probeAfter(now time.Time, gap float64) {
	a.lim = rate.NewLimiter(rate.Limit(1/gap), 1)
	a.lim.AllowN(now, 1) // empty at now
}

// probeAt lets the next request go at until instead (the user's Backoff, in the first episode).
func (a *adaptive) probeAt(now, until time.Time) {
	if a.lim != nil && until.After(now) {
		a.probeAfter(now, until.Sub(now).Seconds())
	}
}

// measured reports whether a cycle has closed: the pace rests on a measured rate.
func (a *adaptive) measured() bool { return a.bounded() || a.floor > 0 }

// maxRate is the fastest the pace goes: a request per round trip, so that when the server runs dry, about
// one request is in flight to be refused.
func (a *adaptive) maxRate() float64 {
	if a.rtt <= 0 {
		return maxAdaptiveRate
	}
	// As many in flight as the slow start had when the server first refused, less one, but at least half.
	inflight := max(0.5, float64(a.slowStart()-1))
	return min(inflight/a.rtt.Seconds(), maxAdaptiveRate)
}

// paced reports whether the adaptive rate has learned a pace.
func (a *adaptive) paced() bool { return a.lim != nil }

// window is how many requests may be in flight at once, or 0 for no bound: before the first refusal,
// the slow start's.
func (a *adaptive) window() int {
	if n := a.clock.inFlight(); n > 0 {
		return n
	}
	if a.lim != nil {
		return 0
	}
	return a.slowStart()
}

// slowStart is the slow start's window after the successes before the first refusal: the probe, and one
// more for every slowStartSuccesses.
func (a *adaptive) slowStart() int { return 1 + int(a.okBefore/slowStartSuccesses) }

// wait is how long until the adaptive rate lets a request go at now.
func (a *adaptive) wait(now time.Time) time.Duration {
	if a.lim == nil {
		return 0
	}
	if a.clock.w > 0 {
		// A window on the clock: what it passes goes at once, and nothing more until the next one opens.
		if open, full := a.clock.full(now); full {
			return open.Sub(now)
		}
		return 0
	}
	return limiterWait(a.lim, now)
}

// take spends the adaptive rate's token for a request sent at now.
func (a *adaptive) take(now time.Time) {
	if a.lim != nil {
		a.lim.AllowN(now, 1)
		a.clock.take(now)
	}
}
