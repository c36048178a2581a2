package ratekit

import (
	"time"

	"golang.org/x/time/rate"
)

// adaptive paces a key whose server says nothing but "429": no quota headers, no Retry-After. It is AIMD,
// as TCP does it, with two refinements for rate limits:
//
//   - The first rate is measured, not guessed: a cycle runs from the first success after a rejection episode
//     to the first success after the next one, and its rate is its successes over its length. Pacing starts
//     at the rate of the first cycle (before it, a server that never rejects is never slowed down).
//   - After a cut, the rate climbs back quickly to just under the rate it was cut from (the last rate known
//     to be too high), then creeps above it, as TCP CUBIC does: rate limits are steady, so the rate that
//     failed last time is likely to fail again.
//
// A cut halves the rate (from the rate the cycle achieved, if lower), once per episode: requests sent before
// the cut are refused too, and are old news. Guarded by its key's mu.
type adaptive struct {
	lim        *rate.Limiter // nil until the first episode ends
	ceiling    float64       // the rate cut from last: too high
	cut        time.Time     // the last cut
	inEpisode  bool          // rejected, and no success since
	cycleStart time.Time     // the first success of the current cycle
	cycleOK    int64         // successes in the current cycle
}

// minAdaptiveRate is the slowest the adaptive rate goes: one request a minute.
const minAdaptiveRate = 1.0 / 60

// success records a response that was not a rejection.
func (a *adaptive) success(now time.Time) {
	if a.inEpisode {
		a.inEpisode = false
		period := now.Sub(a.cycleStart).Seconds()
		if !a.cycleStart.IsZero() && period > 0 && a.cycleOK > 0 {
			achieved := max(float64(a.cycleOK)/period, minAdaptiveRate)
			if a.lim == nil {
				a.lim = rate.NewLimiter(rate.Limit(achieved), 1)
				a.ceiling = achieved * 2
			} else if achieved < float64(a.lim.Limit()) {
				a.lim.SetLimitAt(now, rate.Limit(achieved))
			}
		}
		a.cycleStart, a.cycleOK = now, 0
	}
	if a.cycleStart.IsZero() {
		a.cycleStart = now
	}
	a.cycleOK++
	if a.lim != nil {
		r := float64(a.lim.Limit())
		step := a.ceiling / 512 // creep above the rate that failed
		if r < 0.9*a.ceiling {
			step = a.ceiling / 32 // climb back quickly below it
		}
		a.lim.SetLimitAt(now, rate.Limit(r+step))
	}
}

// rejected records a rejection that said nothing, of a request sent at sentAt.
func (a *adaptive) rejected(sentAt, now time.Time) {
	if a.inEpisode || sentAt.Before(a.cut) {
		return // the episode is already known
	}
	a.inEpisode, a.cut = true, now
	if a.lim != nil {
		r := float64(a.lim.Limit())
		a.ceiling = r
		a.lim.SetLimitAt(now, rate.Limit(max(r/2, minAdaptiveRate)))
	}
}

// wait is how long until the adaptive rate lets a request go at now.
func (a *adaptive) wait(now time.Time) time.Duration {
	if a.lim == nil {
		return 0
	}
	return limiterWait(a.lim, now)
}

// take spends the adaptive rate's token for a request sent at now.
func (a *adaptive) take(now time.Time) {
	if a.lim != nil {
		a.lim.AllowN(now, 1)
	}
}
