package ratekit

import (
	"time"

	"golang.org/x/time/rate"
)

// adaptive paces a key whose server says nothing but "429": no quota headers, no Retry-After. It is AIMD,
// as TCP does it, with refinements for rate limits:
//
//   - The first rate is measured, not guessed: a cycle runs from the first success after a rejection episode
//     to the first success after the next one, and its rate is its successes over its length. Pacing starts
//     at the rate of the first cycle; before it, a server that never rejects is never slowed down, and the
//     key backs off as for any rejection.
//   - The first rejection of an episode halves the rate; a rejection of a request sent after that cut
//     quarters it: probes sent into a window that is still exhausted slow down exponentially, as backoff
//     would, and a first rate far too high (a burst taken for a rate) comes down in a few steps.
//   - When a long episode ends (a window exhausted near its end), the rate comes back to 90% of what the
//     cycle achieved, but not above the rate that failed.
//   - Between episodes the rate climbs back quickly to 90% of the rate that failed, then creeps above it, as
//     TCP CUBIC does: rate limits are steady, so the rate that failed last time is likely to fail again.
//     The creep is by time, a few percent per cycle period: a window only reports being exceeded when it is
//     used up, up to a window later, so a rate that grew per success would overshoot by then.
//
// Guarded by its key's mu.
type adaptive struct {
	lim        *rate.Limiter // nil until the first episode ends
	ceiling    float64       // the rate that failed last: too high; at first, the first cycle's rate
	failed     bool          // a paced rate has failed: ceiling is a rate known to be too high
	cut        time.Time     // the last cut: rejections of requests sent before it are old news
	inEpisode  bool          // rejected, and no success since
	cycleStart time.Time     // the first success of the current cycle
	cycleOK    int64         // successes in the current cycle
	period     time.Duration // the length of the last long cycle: how long feedback can take
	raised     time.Time     // the last increase
}

// minAdaptiveRate is the slowest the adaptive rate goes: one request a minute.
const minAdaptiveRate = 1.0 / 60

// success records a response that was not a rejection, of a request sent at sentAt. Only a request sent
// after the last cut ends an episode: the others were answered before the server started refusing.
func (a *adaptive) success(sentAt, now time.Time) {
	if a.inEpisode && !sentAt.Before(a.cut) {
		a.inEpisode = false
		period := now.Sub(a.cycleStart).Seconds()
		if !a.cycleStart.IsZero() && period > 0 && a.cycleOK > 0 {
			achieved := max(float64(a.cycleOK)/period, minAdaptiveRate)
			switch {
			case a.lim == nil:
				a.lim = rate.NewLimiter(rate.Limit(achieved), 1)
				a.ceiling, a.raised = achieved, now
				a.period = now.Sub(a.cycleStart)
			case period >= 5 && a.cycleOK >= 10:
				// A long cycle measures the server's rate well: the rate that failed was no better than
				// what the cycle achieved, and the pace comes back to 90% of it at once.
				a.period = now.Sub(a.cycleStart)
				a.ceiling = min(a.ceiling, max(achieved, float64(a.lim.Limit())))
				if float64(a.lim.Limit()) < 0.9*a.ceiling {
					a.lim.SetLimitAt(now, rate.Limit(0.9*a.ceiling))
				}
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
		periods := now.Sub(a.raised).Seconds() / max(a.period.Seconds(), 1)
		var step float64
		switch {
		case a.failed && r < 0.9*a.ceiling:
			step = a.ceiling / 32 // climb back quickly below the rate that failed
		case !a.failed:
			step = r * 0.5 * periods // the first cycle's rate is only an estimate: search above it, growing
		default:
			step = a.ceiling * 0.03 * periods // creep above the rate that failed
		}
		a.raised = now
		a.lim.SetLimitAt(now, rate.Limit(r+step))
	}
}

// rejected records a rejection that said nothing, of a request sent at sentAt.
func (a *adaptive) rejected(sentAt, now time.Time) {
	if sentAt.Before(a.cut) {
		return // sent before the last cut: old news
	}
	if a.lim != nil {
		r := float64(a.lim.Limit())
		factor := 0.25 // a probe refused after a cut: the rate is far off, or the window is still closed
		if !a.inEpisode {
			a.ceiling, a.failed, factor = r, true, 0.5
		}
		a.raised = now
		// Not below a 16th of the rate that failed: a server that refuses for another reason than the
		// rate (requests in flight) must not starve the key.
		a.lim.SetLimitAt(now, rate.Limit(max(r*factor, a.ceiling/16, minAdaptiveRate)))
	}
	a.inEpisode, a.cut = true, now
}

// paced reports whether the adaptive rate has learned a pace.
func (a *adaptive) paced() bool { return a.lim != nil }

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
