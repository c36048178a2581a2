package mockserver

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// dialect writes the rate-limit headers of one response from its quota view.
type dialect func(h http.Header, v *quotaView)

// dialectNamed returns the writer of the dialect called name; false when there is none.
func dialectNamed(name string) (dialect, bool) {
	switch name {
	case DialectIETF:
		return writeIETF, true
	case DialectIETFLegacy:
		return writeIETFLegacy, true
	case DialectXRateLimit:
		return writeXRateLimit, true
	case DialectGitHub:
		return writeGitHub, true
	case DialectOpenAI:
		return writeOpenAI, true
	case DialectTollbooth:
		return writeTollbooth, true
	case DialectAnthropic:
		return writeAnthropic, true
	case DialectShopify:
		return writeShopify, true
	case DialectDiscord:
		return writeDiscord, true
	case DialectNone:
		return func(http.Header, *quotaView) {}, true
	}
	return nil, false
}

// never is the wait of a request that can never pass: it outranks every real wait.
const never = time.Duration(math.MaxInt64)

// unknownWait is the wait reported for a rejection whose limiter cannot say when a slot frees (a concurrency
// rule: slots come back when other requests finish, not after a known time).
const unknownWait = time.Second

// quotaView is everything the headers of one response are computed from: one decision per rule, all taken at
// the same instant now. It is built once per request and never changed while headers are written.
type quotaView struct {
	now       time.Time     // when the decisions were taken (the server's true clock)
	skew      time.Duration // Faults.ClockSkew: added to every absolute time the server sends
	resetAs   string        // Faults.ResetAs, else Rendering.ResetAs: "" or another form for every reset value
	render    *rendering
	rules     []Rule
	offsets   []int64 // each rule's window anchor offset, in [0, W) (windowed algorithms)
	decisions []Decision
	costs     []int64 // the request's cost in each rule
	capacity  []int64 // each rule's capacity
	dimOf     []int   // each rule's index in dims
	dims      []dimension
	// The request's client address and X-Forwarded-For, which the tollbooth dialect echoes.
	remoteAddr, forwardedFor string
}

// rejected reports whether any rule rejected the request.
func (v *quotaView) rejected() bool {
	for _, d := range v.decisions {
		if !d.Allowed {
			return true
		}
	}
	return false
}

// wait is how long rule i asks a rejected request to wait: never when it costs more than the rule's
// capacity, unknownWait when the rule does not know (concurrency), else its RetryAfter.
func (v *quotaView) wait(i int) time.Duration {
	switch d := v.decisions[i]; {
	case d.Allowed:
		return 0
	case v.costs[i] > v.capacity[i]:
		return never
	case d.RetryAfter > 0:
		return d.RetryAfter
	default:
		return unknownWait
	}
}

// retryAfter is the wait of the request: the longest wait of the rules that rejected it (never when one of
// them can never pass it; 0 when it was allowed).
func (v *quotaView) retryAfter() time.Duration {
	var w time.Duration
	for i := range v.decisions {
		w = max(w, v.wait(i))
	}
	return w
}

// binding picks the rule that single-quota dialects report, among the rules of dimension dim (-1: all):
// a rule that rejected the request, the one with the longest wait; else the one with the least remaining
// fraction of its capacity; among equals, the one that resets last; among those, the first. -1 when no rule
// counts dim.
func (v *quotaView) binding(dim int) int {
	best := -1
	for i := range v.decisions {
		if dim >= 0 && v.dimOf[i] != dim {
			continue
		}
		if best < 0 || v.binds(i, best) {
			best = i
		}
	}
	return best
}

// binds reports whether rule i binds the request more tightly than rule j.
func (v *quotaView) binds(i, j int) bool {
	di, dj := v.decisions[i], v.decisions[j]
	if di.Allowed != dj.Allowed {
		return !di.Allowed
	}
	if !di.Allowed {
		if wi, wj := v.wait(i), v.wait(j); wi != wj {
			return wi > wj
		}
	} else {
		fi := float64(di.Remaining) / float64(v.capacity[i])
		fj := float64(dj.Remaining) / float64(v.capacity[j])
		if fi != fj {
			return fi < fj
		}
	}
	return di.Reset.After(dj.Reset)
}

// untilReset is the time from now until rule i's quota is restored, never negative.
func (v *quotaView) untilReset(i int) time.Duration {
	r := v.decisions[i].Reset
	if r.IsZero() || !r.After(v.now) {
		return 0
	}
	return r.Sub(v.now)
}

// resetValue formats rule i's reset in the dialect's own form ("delta", "epoch" or "duration"), or in
// Faults.ResetAs or Rendering.ResetAs when set, rounded as the rendering says.
func (v *quotaView) resetValue(i int, form string) string {
	if v.resetAs != "" {
		form = v.resetAs
	}
	r := v.render
	d := v.resetDelay(i)
	switch form {
	case "delta":
		return r.delaySeconds(d)
	case "delta-ms":
		return strconv.FormatInt(roundDiv(d, time.Millisecond, r.delayRound), 10)
	case "epoch":
		return r.epochSeconds(v.now.Add(v.skew).Add(d))
	case "epoch-ms":
		return strconv.FormatInt(roundUnix(v.now.Add(v.skew).Add(d), time.Millisecond, r.epochRound), 10)
	default: // "duration", as OpenAI writes it: whole milliseconds
		return (time.Duration(roundDiv(d, time.Millisecond, r.delayRound)) * time.Millisecond).String()
	}
}

// ceilDiv is d / unit rounded up, for d >= 0: a client told to wait that long never comes back early.
func ceilDiv(d, unit time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + unit - 1) / unit)
}
