package mockserver

import "math"

// fixedWindowState is the fixed-window algorithm's state for one key: the count of units allowed in the window
// that starts at start.
//
// Arithmetic (all int64 ns; a Lua port can use µs throughout when W is a whole number of µs):
//
//	start  = floor((now - O) / W) * W + O         (aligned to the Unix epoch plus the anchor offset O, 0 <= O < W)
//	if start < stored start: start = stored start  (a late request counts in the newest window)
//	count  = stored count if stored start == start, else 0
//	allow iff c <= L - count; then count += c   (rejections are not counted, unless CountRejected)
//	Remaining  = L - count
//	Reset      = start + W
//	RetryAfter = start + W - now for a rejection with c <= L (the next window admits it); 0 when c > L
//
// The state is fresh (and may be forgotten) from start + W on.
//
// With AnchorFirstRequest (ulule/limiter's memory store) a window is [start, start + W], its last instant
// included: start = now when there is no window or now > stored start + W, else the stored start; the
// RetryAfter of a rejection is start + W + 1 ns - now, and the state is fresh from start + W + 1 ns on.
// With CountRejected every request adds its cost to count, passed or not.
type fixedWindowState struct {
	start, count int64
}

// newFixedWindowState returns the state of a key never seen: no window yet.
func newFixedWindowState() fixedWindowState {
	return fixedWindowState{start: math.MinInt64}
}

// decide decides a request of cost units at now (cost 0: a view) and returns the state after it.
func (s fixedWindowState) decide(r *compiledRule, cost, now int64) (verdict, fixedWindowState) {
	var start int64
	if r.firstRequest {
		start = s.start
		if s.start == math.MinInt64 || now-r.window > s.start {
			start = now
		}
	} else {
		start = max(r.windowStart(now), s.start)
	}
	if start != s.start {
		s = fixedWindowState{start: start}
	}
	end := start + r.window
	v := verdict{reset: end}
	switch {
	case cost <= r.limit-s.count:
		s.count += cost
		v.allowed = true
	case cost <= r.limit:
		v.retryAfter = end - now
		if r.firstRequest {
			v.retryAfter++
		}
	}
	if !v.allowed && r.countRejected && cost > 0 {
		s.count += cost
	}
	v.remaining = clamp(r.limit-s.count, r.limit)
	return v, s
}
