package ratekit

import "time"

// refillMeter measures a quota's refill rate from what Remaining did between reports: the units that came
// back, over the time they took. Samples add up over about a second, and at least minRefillUnits units (older ones then weigh half), so the integer rounding of Remaining (one unit per report) averages out. A sample taken when
// the bucket was full again is censored: it says the rate is at least that, not what it is.
// Guarded by its key's mu.
type refillMeter struct {
	units, secs float64 // uncensored samples, decayed
	atLeast     float64 // the highest lower bound from censored samples
}

// minRefillUnits is how many units a measurement spans at least: Remaining is an integer, so each sample
// may be one unit off, and a rate read from fewer units is noise.
const minRefillUnits = 10

// fewRefillUnits, over at least slowRefillSpan, is a measurement too: a bucket that refills a few units a
// second (Shopify's 2) takes five seconds to show ten, and until then the key would probe its empty bucket
// into a rejection at each Retry-After. The low end of a few units over a second or more is a fraction of
// the rate (3 units in 2 s read as 1 a second, of 1.5), which the samples that follow raise; the one unit
// either way that the order of requests in flight adds to a sample is a small part of it over a second.
const (
	fewRefillUnits = 3
	slowRefillSpan = time.Second
)

// add takes a sample: units came back over dt; full says the bucket was full at its end.
func (m *refillMeter) add(units float64, dt time.Duration, full bool) {
	secs := dt.Seconds()
	if full {
		// Remaining is an integer: a unit of it may be rounding. Over less than a tenth of a second, that
		// unit is all the sample says.
		if dt >= 100*time.Millisecond {
			m.atLeast = max(m.atLeast, (units-1)/secs)
		}
		return
	}
	m.units += units
	m.secs += secs
	if m.secs > 1 && m.units > 2*minRefillUnits {
		m.units, m.secs = m.units/2, m.secs/2
	}
}

// measured is the measured rate, or 0 before enough samples (ten units over a tenth of a second, or three over
// a second). It is the low end
// of what the samples allow: Remaining is an integer, so the units counted may be one more than came back,
// and a client paced at a rate a hair above the server's meets an empty bucket within seconds.
func (m *refillMeter) measured() float64 {
	if m.secs < 0.1 || m.units < minRefillUnits && (m.units < fewRefillUnits || m.secs < slowRefillSpan.Seconds()) {
		return 0
	}
	return (m.units - 1) / m.secs
}

// rate is the best reading of the refill rate given the rate a coarse reset implies, lowerBound: the
// measured rate (at least any censored bound), or else, while there is no measurement, twice the highest
// bound seen (a bucket seen full again refills faster than the client spent it: spending faster is cheap),
// and never below lowerBound.
func (m *refillMeter) rate(lowerBound float64) float64 {
	if r := m.measured(); r > 0 {
		return max(r, m.atLeast, lowerBound)
	}
	return max(2*m.atLeast, lowerBound)
}
