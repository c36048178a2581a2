package mockserver

import (
	"math"
	"sort"
)

// slidingCounterState is the sliding-window-counter algorithm's state for one key: the counts of the aligned
// window that starts at start (cur) and of the window before it (prev).
//
// Arithmetic (Cloudflare's estimate, exactly as ALGORITHMS.md writes it; int64 ns, float64 only where shown):
//
//	start   = max(floor(now / W) * W, stored start); t = max(now, stored start)
//	(prev, cur) = (stored prev, stored cur) if stored start == start
//	              (stored cur, 0)           if stored start == start - W
//	              (0, 0)                    otherwise
//	elapsed = t - start
//	e       = float64(prev) * float64(W - elapsed) / float64(W) + float64(cur)   (evaluated left to right)
//	allow iff c <= L and e + float64(c) <= float64(L); then cur += c
//	Remaining  = floor(float64(L) - e'), clamped to [0, L], where e' is the estimate of the state after the
//	             decision (cur including c when allowed)
//	Reset      = start + 2W when cur > 0 (cur still weighs in the next window), start + W when only prev > 0,
//	             now when both are 0: when the estimate is back to 0
//	RetryAfter = the first whole ns t' >= now at which the same formula admits the request with the state
//	             unchanged, searched window by window (the estimate falls monotonically within a window, so a
//	             binary search is exact); 0 when c > L
//
// A Lua port must evaluate the estimate with the same operations in the same order, in ns.
//
// Options: windows align to the anchor offset O (start = floor((t - O) / W) * W + O); CountRejected adds the
// cost to cur on a rejection too (RetryAfter is then searched from the state after counting); RoundEstimate
// (go-chi/httprate) replaces e by round(e) (half away from zero) in the admission test and in Remaining
// (Remaining = L - round(e')).
type slidingCounterState struct {
	start, prev, cur int64
}

// newSlidingCounterState returns the state of a key never seen.
func newSlidingCounterState() slidingCounterState {
	return slidingCounterState{start: math.MinInt64}
}

// counterEstimate is the formula of ALGORITHMS.md, in float64, in this order of operations.
func counterEstimate(prev, cur, elapsed, window int64) float64 {
	return float64(prev)*float64(window-elapsed)/float64(window) + float64(cur)
}

// counterAdmits reports whether the estimate (rounded to the nearest unit when round is set) admits cost more
// units.
func counterAdmits(prev, cur, elapsed, window, cost, limit int64, round bool) bool {
	e := counterEstimate(prev, cur, elapsed, window)
	if round {
		e = math.Round(e)
	}
	return e+float64(cost) <= float64(limit)
}

// decide decides a request of cost units at now (cost 0: a view) and returns the state after it.
func (s slidingCounterState) decide(r *compiledRule, cost, now int64) (verdict, slidingCounterState) {
	w := r.window
	t := max(now, s.start)
	start := r.windowStart(t)
	switch s.start {
	case start:
	case start - w:
		s = slidingCounterState{start: start, prev: s.cur}
	default:
		s = slidingCounterState{start: start}
	}
	elapsed := t - start
	var v verdict
	switch {
	case cost <= r.limit && counterAdmits(s.prev, s.cur, elapsed, w, cost, r.limit, r.roundEstimate):
		s.cur += cost
		v.allowed = true
	case cost <= r.limit:
		if r.countRejected {
			s.cur += cost
		}
		v.retryAfter = s.firstAdmission(r, cost, t) - now
	default:
		if r.countRejected {
			s.cur += cost
		}
	}
	e := counterEstimate(s.prev, s.cur, elapsed, w)
	if r.roundEstimate {
		e = math.Round(e)
	}
	left := math.Floor(float64(r.limit) - e)
	v.remaining = clamp(int64(max(left, -1)), r.limit)
	switch {
	case s.cur > 0:
		v.reset = start + 2*w
	case s.prev > 0:
		v.reset = start + w
	default:
		v.reset = t
	}
	return v, s
}

// firstAdmission returns the first ns >= t (t is in the window s.start) at which the estimate admits cost
// units, s unchanged: in this window, else in the next one (prev = cur, cur = 0), else at the start of the
// window after (estimate 0; cost <= L there).
func (s slidingCounterState) firstAdmission(r *compiledRule, cost, t int64) int64 {
	w := r.window
	windows := [2]struct{ prev, cur, from int64 }{
		{s.prev, s.cur, t - s.start},
		{s.cur, 0, 0},
	}
	for i, win := range windows {
		start := s.start + int64(i)*w
		if !counterAdmits(win.prev, win.cur, w-1, w, cost, r.limit, r.roundEstimate) {
			continue // not even in this window's last ns
		}
		// The smallest elapsed in [from, w-1] that admits; the estimate only falls as elapsed grows.
		n := int(min(w-win.from, math.MaxInt))
		k := sort.Search(n, func(k int) bool {
			return counterAdmits(win.prev, win.cur, win.from+int64(k), w, cost, r.limit, r.roundEstimate)
		})
		return start + win.from + int64(k)
	}
	return s.start + 2*w
}
