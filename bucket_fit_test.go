package ratekit

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answers builds a fit from answers at fixed instants: ms after t0, passed or refused, the first a
// refusal that followed passedBefore passes from firstSent.
func answers(passedBefore int64, firstSent int, evs ...fitEvent) *bucketFit {
	f := newBucketFit(passedBefore, ms(firstSent))
	for _, e := range evs {
		f.add(e.at, e.passed)
	}
	return f
}

func pass(at int) fitEvent   { return fitEvent{at: ms(at), passed: true} }
func refuse(at int) fitEvent { return fitEvent{at: ms(at)} }

// everyGap is n passes gap ms apart from from.
func everyGap(n, from, gap int) []fitEvent {
	var evs []fitEvent
	for i := range n {
		evs = append(evs, pass(from+i*gap))
	}
	return evs
}

// The bucket fit at fixed instants: the rates a bucket fits a silent server's answers at.
func TestBucketFitRates(t *testing.T) {
	nginx10 := append([]fitEvent{refuse(260)}, everyGap(5, 400, 111)...) // passes 111 ms apart
	nginx10 = append(nginx10, refuse(400+4*111+80))                      // and a refusal 80 ms after the last
	for _, tc := range []struct {
		name         string
		fit          *bucketFit
		burst        float64
		ok           bool
		loAtLeast    float64 // the least rate must be at least this (what the passes proved, less the slack)
		hiAtMost     float64 // and the most at most this (what the refusals refuted); +Inf: unbounded
		truthBetween float64 // the server's rate, which must be within [lo, hi]
	}{
		{"a burst of one at 10/s: passes 111 ms apart prove 9/s less the slack, a refusal 80 ms after a pass refutes 12.5/s",
			answers(1, 250, nginx10...), 1, true, 0.95 / 0.111, 1 / 0.080, 10},
		{"no refusal after the first: the passes bound it from below only",
			answers(1, 250, append([]fitEvent{refuse(260)}, everyGap(5, 400, 200)...)...), 1, true, 0.95 / 0.2, math.Inf(1), 5},
		{"a refusal alone: no pass to fit",
			answers(1, 250, refuse(260)), 1, false, 0, 0, 0},
		{"no refusal: nothing known of the level to start from",
			answers(1, 250, everyGap(5, 400, 200)...), 1, false, 0, 0, 0},
		{"a burst of 10 at 50/s: 10 passes at once 0.2 s after a refusal need 9 refilled beyond the one it may have held; a refusal 5 ms later refutes a rate that refills one in 5 ms",
			answers(10, 0, refuse(210), pass(410), pass(410), pass(410), pass(410), pass(410), pass(410), pass(410),
				pass(410), pass(410), pass(410), refuse(415)), 10, true, (9 - fitSlack) / 0.2, (1 + fitSlack) / 0.005, 50},
		{"passes a bucket cannot give: refusals 0.1 s apart refute 10/s, two passes 1 ms apart with a burst of one need 950/s",
			answers(1, 0, refuse(100), refuse(200), pass(201), pass(202)), 1, false, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, ok := tc.fit.rates(tc.burst)
			require.Equal(t, tc.ok, ok, "lo %v hi %v", lo, hi)
			if !ok {
				return
			}
			assert.GreaterOrEqual(t, lo, tc.loAtLeast*0.999)
			assert.LessOrEqual(t, hi, tc.hiAtMost*1.001)
			assert.LessOrEqual(t, lo, tc.truthBetween)
			assert.GreaterOrEqual(t, hi, tc.truthBetween)
		})
	}
}

// A window on the clock that fits the answers as well as a bucket leaves the bucket fit empty, and one
// that does not leaves it alone.
func TestBucketFitLeavesWindowsOnTheClock(t *testing.T) {
	// a per-second window of 10: 10 passed from 0.25 s, refused at 0.33 s and 0.47 s; 10 more pass from
	// 1.02 s and the eleventh in that second is refused
	window := answers(10, 250, append(append([]fitEvent{refuse(330), refuse(474)}, everyGap(10, 1020, 70)...),
		refuse(1877))...)
	_, _, ok := window.rates(10)
	assert.False(t, ok, "a per-second window of 10 fits: no bucket")
	fits, judged := windowFits(sortedAnswers(window), time.Second, window.firstSent, window.before)
	assert.True(t, fits)
	assert.True(t, judged)

	// a bucket of one at 2/s: one pass in the first second before its refusal, two in a later one, then a
	// refusal with none before it in its second
	bucket := answers(1, 325, refuse(335), pass(1615), pass(2633), pass(3448), pass(4100), pass(4622), refuse(5041))
	fits, judged = windowFits(sortedAnswers(bucket), time.Second, bucket.firstSent, bucket.before)
	assert.False(t, fits, "a refusal with none passed in its second, after two passed in another")
	assert.True(t, judged)
	_, _, ok = bucket.rates(1)
	assert.True(t, ok)

	// the minute holds every answer, its first refusal among them: nothing to tell a minute by
	_, judged = windowFits(sortedAnswers(answers(1, 325, refuse(335), pass(1615))), time.Minute, ms(325), 1)
	assert.True(t, judged, "the first refusal, after one pass in its minute, is judged")
	_, judged = windowFits(sortedAnswers(answers(1, 325, refuse(335), pass(1615))), time.Minute, time.Time{}, 0)
	assert.False(t, judged, "without the passes before it, its minute is left out")
}

// The ring keeps the last fitEvents answers; once the first have aged out, the passes before them are
// no longer known.
func TestBucketFitRing(t *testing.T) {
	f := answers(3, 0, refuse(10))
	require.Equal(t, 3, f.before)
	for i := range fitEvents - 1 {
		f.add(ms(20+i), true)
	}
	assert.Equal(t, fitEvents, f.n)
	assert.Equal(t, 3, f.before, "the first answer is still held")
	f.add(ms(1000), false)
	assert.Equal(t, fitEvents, f.n)
	assert.Equal(t, -1, f.before, "the first answer aged out")
	ev := sortedAnswers(f)
	assert.Equal(t, ms(20), ev[0].at)
	assert.Equal(t, ms(1000), ev[len(ev)-1].at)
}

// sortedAnswers is the fit's answers in the order their requests were sent, as rates reads them.
func sortedAnswers(f *bucketFit) []fitEvent {
	var buf [fitEvents]fitEvent
	return f.sorted(&buf)
}

// The fit stays linear in the answers it holds, whatever they are: a refit is a few bisections over at
// most fitEvents answers.
func BenchmarkBucketFitRates(b *testing.B) {
	f := answers(1, 0, refuse(10))
	for i := range fitEvents - 1 {
		if i%9 == 8 {
			f.add(ms(20+i*100+95), false)
		} else {
			f.add(ms(20+i*100), true)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		f.rates(1)
	}
}

// windowOf numbers windows as Truncate finds them, on both sides of the Unix epoch.
func TestWindowOf(t *testing.T) {
	for _, at := range []time.Time{t0, t0.Add(999 * time.Millisecond), t0.Add(-time.Nanosecond), time.Unix(0, 0),
		time.Unix(-1, 0), time.Unix(-1, 1), time.Unix(1, -1)} {
		for _, w := range clockWindows {
			assert.Equal(t, at.Truncate(w).UnixNano(), windowOf(at, w)*int64(w), "%v in windows of %v", at, w)
		}
	}
}

// The fit is sound: answers a real token bucket gave (any rate, any burst, requests sent at random) fit
// an interval that holds the bucket's rate. 300 buckets, seeded.
func TestBucketFitContainsTheTruth(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261203, 1))
	fitted := 0
	for i := range 300 {
		rate := 0.5 * math.Pow(400, rng.Float64()) // 0.5 to 200 a second
		burst := float64([]int{1, 2, 5, 10}[rng.IntN(4)])
		level, last := burst, t0
		f := (*bucketFit)(nil)
		at := t0
		for range 200 {
			// gaps around the bucket's interval, from a tenth of it to three times it
			at = at.Add(time.Duration((0.1 + 2.9*rng.Float64()) / rate * float64(time.Second)))
			level = min(burst, level+rate*at.Sub(last).Seconds())
			last = at
			passed := level >= 1
			if passed {
				level--
			}
			if f == nil {
				if passed {
					continue // before the first refusal
				}
				f = newBucketFit(0, t0)
			}
			f.add(at, passed)
		}
		if f == nil {
			continue // never refused
		}
		lo, hi, ok := f.rates(burst)
		if !ok {
			// A real bucket's answers are never inconsistent: the fit says nothing only where the answers
			// held have no refusal with a pass after it, or a window on the clock fits them as well.
			ev := sortedAnswers(f)
			first := slices.IndexFunc(ev, func(e fitEvent) bool { return !e.passed })
			told := first >= 0 && slices.ContainsFunc(ev[first:], func(e fitEvent) bool { return e.passed })
			assert.True(t, !told || f.fitsAWindow(ev), "bucket %d: rate %.3f burst %v: no rate fits, and no window does", i, rate, burst)
			continue
		}
		fitted++
		assert.LessOrEqual(t, lo, rate*(1+1e-3), "bucket %d: rate %.3f burst %v: least %.3f", i, rate, burst, lo)
		assert.GreaterOrEqual(t, hi, rate*(1-1e-3), "bucket %d: rate %.3f burst %v: most %.3f", i, rate, burst, hi)
	}
	t.Logf("%d of 300 buckets fitted; the others held no refusal with a pass after it, or fit a window too", fitted)
	assert.Greater(t, fitted, 100, "the answers of many buckets fit a bucket alone")
}
