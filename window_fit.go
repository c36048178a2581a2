package ratekit

import "time"

// windowFits reports whether a silent server's answers (sorted by when their requests were sent) fit a
// window of length w on the clock that passes a fixed count and refuses the rest (a counter per whole
// second or minute): no refusal came in a window before it had passed as many as some window passed.
// The window of the first answer holds the passes before it (before, sent from firstSent on) when they
// were all sent in it; else it is left out, as its earlier requests are not among the answers. A bucket
// that refills as it goes refuses with fewer passes in a window than it passed in another, and does not
// fit. judged is false when no refusal came outside the first answer's window: nothing to tell by.
func windowFits(ev []fitEvent, w time.Duration, firstSent time.Time, before int) (fits, judged bool) {
	var (
		first             = windowOf(ev[0].at, w)
		start             = first
		passes, most      int
		fewestBeforeRefus = -1
	)
	skip := windowOf(firstSent, w) != first
	if !skip {
		passes, most = before, before
	}
	for _, e := range ev {
		ws := windowOf(e.at, w)
		if skip && ws == first {
			continue
		}
		if ws != start {
			start, passes = ws, 0
		}
		if e.passed {
			passes++
			most = max(most, passes)
			continue
		}
		if fewestBeforeRefus < 0 || passes < fewestBeforeRefus {
			fewestBeforeRefus = passes
		}
	}
	return most <= fewestBeforeRefus, fewestBeforeRefus >= 0
}

// windowOf numbers the window of length w on the clock that t is in (as t.Truncate(w) would find it, for
// the second, minute and hour, which divide the Unix epoch).
func windowOf(t time.Time, w time.Duration) int64 {
	n := t.UnixNano()
	if n < 0 {
		return (n+1)/int64(w) - 1
	}
	return n / int64(w)
}
