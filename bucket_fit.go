package ratekit

import (
	"math"
	"slices"
	"time"
)

// bucketFit is what the instants of a silent server's answers say about its rate if it counts in a token
// bucket (GCRA, nginx's limit_req, a leaky bucket: a level that refills at a constant rate up to a
// capacity, one unit a request, nothing for a refusal). A request passed where the level was at least
// one and was refused where it was below one, so every answer bounds the rate: a pass from below (the
// bucket must have refilled that much by then), a refusal from above (it cannot have refilled more).
// Simulating the bucket over the answers at a candidate rate tells whether that rate fits them all; the
// rates that fit are an interval [lo, hi], because the simulated level only grows with the rate.
//
// A server that does not count in a bucket (a window on the clock or a log) gives answers no single rate
// fits (a whole window passed at its turn after refusals a moment before): the fit is then empty, and
// says nothing. Nor does it while a window on the clock fits the answers as well (windowFits): a window
// that passed its count at its start and refused the rest looks like a slow bucket until the key sends
// faster than that. It keeps the last fitEvents answers, from the earliest refusal among them (where the
// level is known to be below one); older ones age out, so a rate that changes is followed.
type bucketFit struct {
	ev   [fitEvents]fitEvent // a ring, in the order the answers came
	n    int                 // answers held
	next int                 // where the next goes
	// before is how many requests passed before the first answer held, from firstSent on (-1: unknown,
	// since the first answers aged out).
	before    int
	firstSent time.Time
}

// newBucketFit starts a fit at the first refusal, which came after passed requests passed, the first of
// them sent at firstSent.
func newBucketFit(passed int64, firstSent time.Time) *bucketFit {
	return &bucketFit{before: int(min(passed, fitEvents)), firstSent: firstSent}
}

// fitEvent is one answer: when its request was sent, and whether the server passed it.
type fitEvent struct {
	at     time.Time
	passed bool
}

const (
	// fitEvents is how many answers the fit keeps: enough for several cycles of refusals at the rates a
	// silent server is paced at, few enough that the fit stays cheap and follows a rate that changes.
	fitEvents = 64
	// fitSlack is how far from one, in requests, the simulated level may be at an answer that contradicts
	// it: the server sees each request after the network's one-way time, which varies by a few per cent
	// of a gap.
	fitSlack = 0.05
	// fitMinRate and fitMaxRate are the rates the fit searches between (per second).
	fitMinRate, fitMaxRate = minAdaptiveRate / 2, 2 * maxAdaptiveRate
	// fitSteps is how many halvings of the search range (geometrically) the fit takes: the range's ratio,
	// 2.4e6 (e^14.7), to within e^(14.7/2^16), 0.02%.
	fitSteps = 16
)

// add records an answer to a request sent at at.
func (f *bucketFit) add(at time.Time, passed bool) {
	f.ev[f.next] = fitEvent{at: at, passed: passed}
	f.next = (f.next + 1) % fitEvents
	if f.n == fitEvents {
		f.before = -1
	}
	f.n = min(f.n+1, fitEvents)
}

// rates returns the interval of rates a bucket of capacity burst fits the answers with (hi is +Inf when no
// refusal bounds it), and false when no rate fits them, or they hold no refusal to start from, or no
// pass after it.
func (f *bucketFit) rates(burst float64) (lo, hi float64, ok bool) {
	var buf [fitEvents]fitEvent
	ev := f.sorted(&buf)
	if len(ev) == 0 {
		return 0, 0, false
	}
	first := slices.IndexFunc(ev, func(e fitEvent) bool { return !e.passed })
	if first < 0 || !slices.ContainsFunc(ev[first:], func(e fitEvent) bool { return e.passed }) {
		return 0, 0, false
	}
	if f.fitsAWindow(ev) {
		return 0, 0, false // a window on the clock fits them as well: they do not tell a bucket
	}
	ev = ev[first:]
	var gaps [fitEvents]fitGap
	for i := range ev[1:] {
		gaps[i] = fitGap{secs: ev[i+1].at.Sub(ev[i].at).Seconds(), passed: ev[i+1].passed}
	}
	g := gaps[:len(ev)-1]
	burst = max(burst, 1)
	// The level just after the first refusal is below one: somewhere in [0, 1). Passes are checked from
	// the top of that (the rate they need is the least), refusals from the bottom (the rate they allow
	// is the most), so the interval holds every rate that fits whatever the level was.
	passesFit := func(r float64) bool { return simulate(g, r, burst, 1, true) }
	refusalsFit := func(r float64) bool { return simulate(g, r, burst, 0, false) }
	if !passesFit(fitMaxRate) || !refusalsFit(fitMinRate) {
		return 0, 0, false
	}
	lo, hi = bisectRate(fitMinRate, fitMaxRate, passesFit), math.Inf(1)
	if !refusalsFit(fitMaxRate) {
		hi = bisectRate(fitMinRate, fitMaxRate, refusalsFit)
	}
	if lo > hi {
		return 0, 0, false
	}
	return lo, hi, true
}

// fitsAWindow reports whether a window on the clock fits the answers ev (sorted) as well as a bucket
// might (windowFits), judged by a refusal.
func (f *bucketFit) fitsAWindow(ev []fitEvent) bool {
	firstSent := f.firstSent
	if f.before < 0 {
		firstSent = time.Time{} // the first answers aged out: their window is left out
	}
	for _, w := range clockWindows {
		if fits, judged := windowFits(ev, w, firstSent, max(f.before, 0)); fits && judged {
			return true
		}
	}
	return false
}

// sorted is the answers held, in buf, in the order their requests were sent (in the order they came where
// sent at once).
func (f *bucketFit) sorted(buf *[fitEvents]fitEvent) []fitEvent {
	ev := buf[:0]
	for i := range f.n {
		ev = append(ev, f.ev[(f.next-f.n+i+fitEvents)%fitEvents])
	}
	slices.SortStableFunc(ev, func(a, b fitEvent) int { return a.at.Compare(b.at) })
	return ev
}

// fitGap is an answer after the first refusal: how long after the one before its request was sent.
type fitGap struct {
	secs   float64
	passed bool
}

// simulate runs a bucket of capacity burst refilling at rate r per second over the answers after the
// first refusal, from level just after it, and reports whether every pass (checkPasses) or every refusal
// (!checkPasses) is where the bucket would have given it, within fitSlack.
func simulate(g []fitGap, r, burst, level float64, checkPasses bool) bool {
	full := min(1+fitSlack, burst) // a refusal at a full bucket contradicts it too
	for _, e := range g {
		level = min(burst, level+r*e.secs)
		switch {
		case e.passed && checkPasses && level < 1-fitSlack:
			return false
		case !e.passed && !checkPasses && level >= full:
			return false
		}
		if e.passed {
			level = max(level-1, 0)
		}
	}
	return true
}

// bisectRate finds, between lo and hi (geometrically), where fits changes: the least rate it holds at
// when it holds above (the passes), else the most it holds at (the refusals). fits must hold at one end.
func bisectRate(lo, hi float64, fits func(float64) bool) float64 {
	rising := fits(hi) // fits holds from some rate up
	for range fitSteps {
		mid := math.Sqrt(lo * hi)
		if fits(mid) == rising {
			hi = mid
		} else {
			lo = mid
		}
	}
	if rising {
		return hi
	}
	return lo
}
