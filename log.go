package ratekit

import (
	"slices"
	"time"
)

// A sliding log (Flask-Limiter's moving window, the sliding-window-log of gateways) keeps the time of every
// request it accepted and admits one while fewer than the limit are less than a window old. Its reset is
// the oldest entry's expiry, or the newest's, or the whole second either was rounded to, and its
// Retry-After is rounded up: waiting for either frees nothing the key could not have computed, and costs
// up to a second a window (sliding-window-log/ietf 50/s 0.906; Flask-Limiter's moving window 10/s
// 0.71-0.86, where the reset is the newest entry's second and a probe sent there is refused every window).
// Neither the fixed model (everything back at once) nor the rolling one (an even refill) fits: the units
// come back one by one, a window after each was taken.
//
// The bucket keeps its own passes (when each was sent and answered), and turns to the log model on an
// answer that shows the server still holding exactly them: one sent after the window was taken to have
// turned over, reporting fewer remaining than the limit by as many as the key passed less than a window
// before it (a fixed window would have opened whole, a counter weighs the last window by time, not by
// entries). From there a request goes when fewer than the limit of the key's passes are a window old, and
// a refusal's Retry-After in whole seconds gives way to the instant the log frees what the request needs.
// Where the server does not say the window, the shortest whole second that explains what it holds is taken
// (its reset, floored or rounded up, bounds it from above). Two refusals of requests the log let through
// refute it for good (another client shares the quota, or the server is no log): the bucket goes back to
// the fixed model. Measured: sliding-window-log/ietf and x-ratelimit 50/s 0.906 -> 0.934 (one refusal
// less); Flask-Limiter's moving window 10/s 0.66-0.85 with up to 4 refusals -> 0.93-0.97 with 1 (0.81
// once in seven runs), 50/s 0.78-0.93 -> 0.91-0.93.

// maxLogEntries is the largest limit the bucket keeps a log of its passes for: 16 bytes each.
const maxLogEntries = 512

// logMisses is how many refusals of requests the log model let through refute it.
const logMisses = 2

// logEntry is a pass of the key's: when its request was sent, and when it was answered, as nanoseconds of
// the Unix epoch. The server logged it in between.
type logEntry struct{ sent, answered int64 }

// passLog is the key's passes of one quota, the most recent of them, in the order they were answered
// (which is the order they are recorded in).
type passLog struct {
	entries []logEntry // len at most 2*limit, trimmed to limit
	limit   int
}

// add records a pass of a request sent at sent and answered at answered, no earlier than the last one
// recorded.
func (l *passLog) add(sent, answered time.Time, limit int64) {
	if limit <= 0 || limit > maxLogEntries {
		l.entries, l.limit = nil, 0
		return
	}
	l.limit = int(limit)
	l.entries = append(l.entries, logEntry{sent.UnixNano(), answered.UnixNano()})
	if len(l.entries) >= 2*l.limit {
		l.entries = append(l.entries[:0], l.entries[len(l.entries)-l.limit:]...)
	}
}

// since is the index of the first entry answered after t.
func (l *passLog) since(t time.Time) int {
	n := t.UnixNano()
	i, _ := slices.BinarySearchFunc(l.entries, n, func(e logEntry, n int64) int {
		if e.answered <= n {
			return -1
		}
		return 1
	})
	return i
}

// held is how many of the passes a sliding log of window w holds for a request sent at sent: at least
// those sent less than w before it (lo), at most those answered less than w before it (hi); the server
// logged each in between. Only passes sent before it count.
func (l *passLog) held(sent time.Time, w time.Duration) (lo, hi int) {
	from, to := sent.Add(-w).UnixNano(), sent.UnixNano()
	for _, e := range l.entries {
		if e.sent >= to {
			continue
		}
		if e.sent > from {
			lo++
		}
		if e.answered > from {
			hi++
		}
	}
	return lo, hi
}

// frees is when the log of window w holds at most limit-need of the passes, at now: the instant the one
// that must leave turns w old after its answer (the server logged it before), or now when it holds few
// enough already.
func (l *passLog) frees(need int, w time.Duration, now time.Time) time.Time {
	i := l.since(now.Add(-w)) // the first still in the log
	held := len(l.entries) - i
	if held+need <= l.limit {
		return now
	}
	k := i + held + need - l.limit - 1 // the one that must leave
	if k >= len(l.entries) {
		return now // more than the limit at once: only the server can judge
	}
	return time.Unix(0, l.entries[k].answered).Add(w + turnoverMargin)
}

// logWindow is the window of the log model: the one the server said, else the one its answers showed.
func (b *bucket) logWindow() time.Duration {
	if b.window > 0 {
		return b.window
	}
	return b.logW
}

// maxLogWindow is the longest window the log model is tried at without the server saying it.
const maxLogWindow = 10 * time.Second

// logWindows are the windows the bucket's answers allow: the one the server said, else every whole second
// up to the length its answers showed where a window opened (window.go), which a reset rounded up or
// floored bounds from above.
func (b *bucket) logWindows() []time.Duration {
	if b.window > 0 {
		return []time.Duration{b.window}
	}
	var ws []time.Duration
	for w := time.Second; w <= min(b.span, maxLogWindow); w += time.Second {
		ws = append(ws, w)
	}
	if len(ws) == 0 && b.span > 0 {
		ws = append(ws, b.span)
	}
	return ws
}

// notePass records a pass of a request sent at sent, answered at answered.
func (b *bucket) notePass(sent, answered time.Time) {
	b.log.add(sent, answered, b.limit)
}

// noteLog takes an answer that passed, reporting q for a request of cost own sent at sent, when the bucket
// (fixed) took its window to turn over at turned: where it says the server holds exactly the key's passes
// of the window before, the bucket turns to the log model.
func (b *bucket) noteLog(q Quota, turned, sent time.Time, own int64, shared bool) {
	if shared || b.notLog || b.mode != modeFixed || b.limit <= 0 || b.log.limit == 0 || q.Remaining < 0 ||
		turned.IsZero() || sent.Before(turned) {
		return
	}
	carried := b.limit - q.Remaining - own
	if carried < 2 {
		return // whole, or as good as whole: a window that turned over
	}
	// The shortest window that holds them: a longer one, which the rounding allowed, holds more.
	for _, w := range b.logWindows() {
		if lo, hi := b.log.held(sent, w); int64(lo) <= carried && carried <= int64(hi)+1 {
			b.mode, b.logW = modeLog, w
			return
		}
	}
}

// logAvailable is how many units the log model holds at now: the limit less the passes of the last window
// and the requests in flight.
func (b *bucket) logAvailable(now time.Time) float64 {
	held := len(b.log.entries) - b.log.since(now.Add(-b.logWindow()))
	return float64(b.limit) - float64(min(held, b.log.limit)) - float64(b.inflight)
}

// logFrees is when the log model holds cost units beyond the requests in flight.
func (b *bucket) logFrees(cost int64, now time.Time) time.Time {
	return b.log.frees(int(cost+b.inflight), b.logWindow(), now)
}

// missLog takes a refusal of a request the log model let through; logMisses of them refute it.
func (b *bucket) missLog() {
	if b.logMisses++; b.logMisses >= logMisses {
		b.mode, b.notLog = modeFixed, true
	}
}
