package ratekit

import (
	"math"
	"time"
)

// A request's cost in a dimension only the caller knows ("tokens": DefaultCost is 0 there) is what the
// server's Remaining says it was. When CostFunc is nil, a key learns it per quota: from the first answer (what
// the quota lacks of its limit), then from how Remaining falls between two answers over the requests the
// server may have counted between them, and charges it from then on: a client of OpenAI's or Anthropic's
// token quotas that was told nothing paces to them instead of sending requests that cost nothing until the
// quota is exhausted. A CostFunc is the caller's word, and is never second-guessed.

// maxCostMeters bounds the meters a key keeps: one per token quota the server reports, a handful.
const maxCostMeters = 8

// costMeter learns the cost of a request in one quota's dimension.
type costMeter struct {
	b         *bucket
	seq       uint64    // the admission the last report answered
	remaining int64     // what that report said remained
	at        time.Time // when it arrived
	perReq    float64   // the units a request costs, as measured; 0 until a report has shown one
	ahead     int       // the requests in flight when seq was sent: the server may have counted them after it
	prior     bool      // perReq is the first answer's guess, (limit - remaining) / requests sent, not a measurement
}

// costWeight is how much a new measurement moves the estimate: a fall is only as exact as the refill model
// that is added back, so measurements are averaged.
const costWeight = 0.3

// unknownCost reports whether the caller alone knows what a request costs in dimension: its cost in c is 0
// because CostFunc is nil and DefaultCost has no answer, not because anyone said so.
func unknownCost(c *costs, dimension string) bool {
	switch dimension {
	case "requests", "concurrent-requests", "content-bytes":
		return false
	}
	return !c.user && c.of(dimension) == 0
}

// meterCost takes a report q of bucket b, received at now in the answer to the request admitted as seq
// while ahead others were in flight, before b syncs it.
//
// The first report gives a prior: what the quota lacks of its limit, over the requests sent so far (exact when
// the quota was full and this request was the first counted). It charges the requests sent before a second
// answer, which would otherwise go at cost 0, and overdraw, when the batch is as large as the quota.
//
// After that, the units spent between the meter's last report and q are the fall in Remaining plus what came
// back meanwhile, by b's refill rate, and they were spent by the requests the server counted between the
// two: at most the seq-m.seq admitted since, the ones in flight when the meter's request was sent and the ones
// sent after seq and in flight now (the server takes requests in flight at once in any order), and at least
// the ones admitted since that are answered (requests still in flight may not have reached the server yet). So a fall gives the cost as an interval; it is a measurement
// only when the interval is a point (no request in flight between the two), and otherwise bounds the
// estimate (TestLearntCostIsBoundedByTheRequestsTheServerCounted). A fall mostly made of that refill (a paced
// client's, whose requests are spaced by their cost) measures the model, not the cost, and is left out, as is
// a rise (a refill, a new window). Requires mu held.
func (k *keyState) meterCost(b *bucket, q Quota, seq uint64, ahead int, now time.Time) {
	m := k.meterFor(b)
	switch {
	case m.seq == 0:
		if q.Limit > q.Remaining && seq > 0 {
			m.perReq, m.prior = float64(q.Limit-q.Remaining)/float64(seq), true
		}
	case seq <= m.seq:
		return // an answer overtaken by a newer one: the fall it shows is not between the two
	case q.Remaining < m.remaining:
		var refilled float64
		if b.mode == modeRolling && b.rate > 0 && now.After(m.at) {
			refilled = min(b.rate*now.Sub(m.at).Seconds(), float64(max(b.limit-m.remaining, 0)))
		}
		fall := float64(m.remaining - q.Remaining)
		if refilled > fall/2 {
			break
		}
		since := float64(seq - m.seq)
		most := since + float64(m.ahead+k.inflightBetween(seq, math.MaxUint64))
		least := since - float64(k.inflightBetween(m.seq, seq))
		lo, hi := (fall+refilled)/most, (fall+refilled)/least
		switch {
		case least == most && (m.perReq == 0 || m.prior):
			m.perReq, m.prior = lo, false
		case least == most:
			m.perReq += costWeight * (lo - m.perReq)
		case m.perReq == 0:
			m.perReq = hi // no request is charged less than a fall of it may have cost
		default:
			m.perReq = min(max(m.perReq, lo), hi)
		}
	}
	m.seq, m.remaining, m.at, m.ahead = seq, q.Remaining, now, ahead
}

// inflightBetween counts the requests admitted after after and before before that are still in flight.
// Requires mu held.
func (k *keyState) inflightBetween(after, before uint64) int {
	n := 0
	for _, f := range k.flights {
		if f.seq > after && f.seq < before {
			n++
		}
	}
	return n
}

// meterFor is b's meter, made if new; meters of buckets the key no longer has are dropped first. Requires
// mu held.
func (k *keyState) meterFor(b *bucket) *costMeter {
	for i := range k.meters {
		if k.meters[i].b == b {
			return &k.meters[i]
		}
	}
	kept := k.meters[:0]
	for _, m := range k.meters {
		for _, kb := range k.buckets {
			if kb == m.b {
				kept = append(kept, m)
				break
			}
		}
	}
	clear(k.meters[len(kept):])
	k.meters = kept
	if len(k.meters) == maxCostMeters {
		k.meters = k.meters[1:]
	}
	k.meters = append(k.meters, costMeter{b: b})
	return &k.meters[len(k.meters)-1]
}

// learntCost is what a request costs in b's dimension by its meter, rounded, at most b's capacity; 0 when
// not measured. Requires mu held.
func (k *keyState) learntCost(b *bucket) int64 {
	for i := range k.meters {
		if m := &k.meters[i]; m.b == b && m.perReq > 0 {
			return int64(math.Round(min(m.perReq, b.capacity())))
		}
	}
	return 0
}
