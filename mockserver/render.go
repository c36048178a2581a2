package mockserver

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Rounding modes (Rendering.DelayRounding, Rendering.EpochRounding).
const (
	// RoundUp rounds up: a client told to wait that long never comes back early.
	RoundUp = "up"
	// RoundDown rounds down (truncates), as servers that format time.Time.Unix() do: an epoch reset is then up
	// to a unit early, and may already be past when it arrives.
	RoundDown = "down"
	// RoundNearest rounds to the nearest unit, halves up.
	RoundNearest = "nearest"
)

// Precisions (Rendering.Precision).
const (
	// PrecisionSeconds rounds values to whole seconds.
	PrecisionSeconds = "s"
	// PrecisionMillis rounds values to whole milliseconds; headers that count seconds then carry three
	// decimals ("0.981", "1700000000.981").
	PrecisionMillis = "ms"
)

// What Reset means (Rendering.Reset).
const (
	// ResetUntilFull reports when the quota is fully restored: the bucket full, the sliding estimate back to
	// 0, or, for fixed-window, the end of the window.
	ResetUntilFull = "until-full"
	// ResetNextUnit reports when Remaining next grows by one: for the buckets and gcra, the time until the
	// next unit drips in; the other algorithms give units back all at once and report ResetUntilFull.
	ResetNextUnit = "next-unit"
	// ResetWindowEnd reports the end of the current window: for sliding-window-counter the end of the aligned
	// window now is in (as go-chi/httprate does, though units come back over the following window too); the
	// algorithms without windows report ResetUntilFull.
	ResetWindowEnd = "window-end"
	// ResetConstant reports Rendering.ResetConstant whatever the state, as didip/tollbooth sends
	// "RateLimit-Reset: 1" always.
	ResetConstant = "constant"
)

// What Limit reports (Rendering.Limit).
const (
	// LimitQuota reports the policy's Limit: the units per Window.
	LimitQuota = "quota"
	// LimitBurst reports the rule's capacity: the burst of the bucket algorithms and gcra (as
	// throttled/throttled does), Limit for the others.
	LimitBurst = "burst"
	// LimitRate reports the rate per second, Limit / Window in seconds (as didip/tollbooth does).
	LimitRate = "rate"
)

// How Limit is written (Rendering.LimitFormat).
const (
	// LimitInteger writes a whole number ("50"; a rate is rounded to the nearest).
	LimitInteger = "integer"
	// LimitFloat writes two decimals ("50.00", "1.67").
	LimitFloat = "float"
)

// Rendering says how a Handler writes the values of its headers: how delays and epochs are rounded, what Reset
// and Limit mean. Real servers differ on each of these (REALWORLD.md); the named profiles (Profiles) set them
// as the library they imitate does. The zero value writes what the Handler always wrote: every delay and
// epoch rounded up to a whole second, Reset until the quota is full, Limit the policy's quota.
type Rendering struct {
	// DelayRounding rounds every delay: reset deltas (and openai's durations) and a Retry-After in seconds:
	// RoundUp, RoundDown or RoundNearest. "": RoundUp.
	DelayRounding string
	// EpochRounding rounds every absolute time: epoch resets and an HTTP-date Retry-After (always to the
	// second). "": RoundUp.
	EpochRounding string
	// Precision is the unit delays and epochs are rounded to: PrecisionSeconds or PrecisionMillis. The -ms
	// reset forms and openai's durations always count milliseconds. "": PrecisionSeconds.
	Precision string
	// Reset is what reset values mean: ResetUntilFull, ResetNextUnit, ResetWindowEnd or ResetConstant.
	// "": ResetUntilFull.
	Reset string
	// ResetConstant is the value of every reset with ResetConstant (a delay; an epoch reset is now plus it).
	// 0: 1 s. It must be 0 or more, and 0 unless Reset is ResetConstant.
	ResetConstant time.Duration
	// ResetAs writes resets in this form instead of the dialect's own: "delta" (delay seconds), "delta-ms",
	// "epoch" (Unix seconds) or "epoch-ms" (so that x-ratelimit can carry an epoch, as go-chi/httprate and
	// ulule/limiter send it). Faults.ResetAs, a fault, wins over it. "": the dialect's own form.
	ResetAs string
	// Limit is what the headers' limit reports: LimitQuota, LimitBurst or LimitRate. The ietf dialect's
	// q= is always the quota. "": LimitQuota.
	Limit string
	// LimitFormat writes the limit as LimitInteger or LimitFloat. "": LimitInteger.
	LimitFormat string
}

// rendering is a validated Rendering, with the defaults filled in.
type rendering struct {
	delayRound, epochRound roundMode
	unit                   time.Duration // time.Second or time.Millisecond
	reset                  string
	resetConstant          time.Duration
	resetAs                string
	limit                  string
	limitFloat             bool
}

// roundMode is a rounding mode resolved once.
type roundMode uint8

const (
	roundUp roundMode = iota
	roundDown
	roundNearest
)

// roundings lists the rounding modes, for errors.
var roundings = []string{RoundUp, RoundDown, RoundNearest}

// parseRound resolves a rounding mode.
func parseRound(field, v string) (roundMode, error) {
	switch v {
	case "", RoundUp:
		return roundUp, nil
	case RoundDown:
		return roundDown, nil
	case RoundNearest:
		return roundNearest, nil
	}
	return 0, badValue(field, v, "rounding", roundings)
}

// compileRendering checks r and fills in its defaults. Errors name the field under "Render.".
func compileRendering(r Rendering) (rendering, error) {
	out := rendering{unit: time.Second}
	var err error
	if out.delayRound, err = parseRound("Render.DelayRounding", r.DelayRounding); err != nil {
		return out, err
	}
	if out.epochRound, err = parseRound("Render.EpochRounding", r.EpochRounding); err != nil {
		return out, err
	}
	switch r.Precision {
	case "", PrecisionSeconds:
	case PrecisionMillis:
		out.unit = time.Millisecond
	default:
		return out, badValue("Render.Precision", r.Precision, "precision", []string{PrecisionSeconds, PrecisionMillis})
	}
	if out.reset, err = oneOf("Render.Reset", r.Reset, "reset meaning", ResetUntilFull, ResetNextUnit, ResetWindowEnd, ResetConstant); err != nil {
		return out, err
	}
	switch {
	case r.ResetConstant < 0:
		return out, badField("Render.ResetConstant", r.ResetConstant.String(), "%v is negative", r.ResetConstant)
	case r.ResetConstant > 0 && out.reset != ResetConstant:
		return out, badField("Render.ResetConstant", r.ResetConstant.String(),
			"%v is set but Render.Reset is %q: want Render.Reset %q, or no constant", r.ResetConstant, out.reset, ResetConstant)
	case r.ResetConstant > maxSpan:
		return out, badField("Render.ResetConstant", r.ResetConstant.String(), "%v is more than 100 years", r.ResetConstant)
	}
	out.resetConstant = r.ResetConstant
	if out.resetConstant == 0 {
		out.resetConstant = time.Second
	}
	if r.ResetAs != "" && !slices.Contains(resetForms, r.ResetAs) {
		return out, badValue("Render.ResetAs", r.ResetAs, "reset form", resetForms)
	}
	out.resetAs = r.ResetAs
	if out.limit, err = oneOf("Render.Limit", r.Limit, "limit meaning", LimitQuota, LimitBurst, LimitRate); err != nil {
		return out, err
	}
	switch r.LimitFormat {
	case "", LimitInteger:
	case LimitFloat:
		out.limitFloat = true
	default:
		return out, badValue("Render.LimitFormat", r.LimitFormat, "limit format", []string{LimitInteger, LimitFloat})
	}
	return out, nil
}

// oneOf returns value when it is one of allowed, the first of them (the default) when it is empty, and an
// error naming field otherwise.
func oneOf(field, value, what string, allowed ...string) (string, error) {
	switch {
	case value == "":
		return allowed[0], nil
	case slices.Contains(allowed, value):
		return value, nil
	}
	return "", badValue(field, value, what, allowed)
}

// roundDiv returns d / unit rounded by mode, for d >= 0 (0 for d <= 0).
func roundDiv(d, unit time.Duration, mode roundMode) int64 {
	if d <= 0 {
		return 0
	}
	q, r := int64(d/unit), d%unit
	switch {
	case r == 0:
	case mode == roundUp, mode == roundNearest && 2*r >= unit:
		q++
	}
	return q
}

// roundUnix returns t in whole units since the Unix epoch, rounded by mode.
func roundUnix(t time.Time, unit time.Duration, mode roundMode) int64 {
	ns := t.UnixNano()
	q, r := floorDiv(ns, int64(unit)), ns-floorDiv(ns, int64(unit))*int64(unit)
	switch {
	case r == 0:
	case mode == roundUp, mode == roundNearest && 2*r >= int64(unit):
		q++
	}
	return q
}

// appendSeconds appends n units (time.Second or time.Millisecond) as seconds: "33", or "0.981" for ms.
func appendSeconds(b []byte, n int64, unit time.Duration) []byte {
	if unit == time.Second {
		return strconv.AppendInt(b, n, 10)
	}
	b = strconv.AppendInt(b, n/1000, 10)
	frac := n % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}

// delaySeconds formats a delay in seconds as the rendering rounds it.
func (r *rendering) delaySeconds(d time.Duration) string {
	return string(appendSeconds(nil, roundDiv(d, r.unit, r.delayRound), r.unit))
}

// epochSeconds formats an instant as Unix seconds as the rendering rounds it.
func (r *rendering) epochSeconds(t time.Time) string {
	return string(appendSeconds(nil, roundUnix(t, r.unit, r.epochRound), r.unit))
}

// limitValue formats what Limit reports for rule i of v.
func (v *quotaView) limitValue(i int) string {
	r := v.render
	var x float64
	switch r.limit {
	case LimitBurst:
		x = float64(v.capacity[i])
	case LimitRate:
		p := v.rules[i].Policy
		if p.Window <= 0 { // concurrency: no rate; its limit is what holds
			x = float64(p.Limit)
		} else {
			x = float64(p.Limit) / p.Window.Seconds()
		}
	default:
		if !r.limitFloat {
			return strconv.FormatInt(v.decisions[i].Limit, 10)
		}
		x = float64(v.decisions[i].Limit)
	}
	if r.limitFloat {
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strconv.FormatInt(int64(math.Round(x)), 10)
}

// resetDelay is the delay rule i's reset reports, by what the rendering says Reset means.
func (v *quotaView) resetDelay(i int) time.Duration {
	full := v.untilReset(i)
	switch v.render.reset {
	case ResetConstant:
		return v.render.resetConstant
	case ResetNextUnit:
		alg := parseAlgorithm(v.rules[i].Algorithm)
		rem, capacity := v.decisions[i].Remaining, v.capacity[i]
		if !alg.hasBurst() || rem >= capacity {
			return full
		}
		p := v.rules[i].Policy
		rest := mul64(uint64(capacity-rem-1), uint64(p.Window)).floorDiv(uint64(p.Limit)) // the units after the next
		return max(full-time.Duration(rest), 0)
	case ResetWindowEnd:
		if v.rules[i].Algorithm != SlidingWindowCounter {
			return full
		}
		w := int64(v.rules[i].Policy.Window)
		now := v.now.UnixNano()
		start := floorDiv(now-v.offsets[i], w)*w + v.offsets[i]
		return time.Duration(start + w - now)
	}
	return full
}
