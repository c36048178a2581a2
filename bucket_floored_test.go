package ratekit

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A window that opened just before a whole second, whose reset is that second floored (ulule/limiter): the
// reports after the second still count the window, and ParseHeaders reads their reset, just past, as now.
// At fixed instants: the window opened at 0.965 s with 50, the whole second 1 came, and reports at 1.004 s
// and 1.014 s say 16 and 8 remain.
func TestFlooredEpochPassedIsNoRestore(t *testing.T) {
	epoch := ms(1000)
	report := func(b *bucket, remaining int64, at int, seq uint64) {
		received := ms(at)
		reset := epoch
		if !reset.After(received) {
			reset = received // as ParseHeaders reads an epoch just past
		}
		b.sync(Quota{Limit: 50, Remaining: remaining, Reset: reset}, received, seq, seq, 1)
	}
	opened := func() *bucket {
		b := &bucket{limit: -1, remaining: -1}
		report(b, 49, 965, 1)
		report(b, 30, 990, 2)
		return b
	}
	t.Run("a reset of now after a whole second that passed is that second, and no quota of requests in flight", func(t *testing.T) {
		b := opened()
		report(b, 16, 1004, 3)
		report(b, 8, 1014, 4)
		assert.Equal(t, epoch, b.reset, "the epoch is kept")
		assert.NotEqual(t, modeConcurrent, b.mode)
	})
	t.Run("where Remaining rose before the reset (requests in flight came back), a reset of now stays now", func(t *testing.T) {
		b := opened()
		report(b, 40, 995, 3)
		report(b, 16, 1004, 4)
		assert.Equal(t, ms(1004), b.reset)
	})
	t.Run("a report at or after its whole-second reset that shows it not restored waits for the second's end", func(t *testing.T) {
		b := opened()
		report(b, 0, 1014, 3)
		wait, ok := b.wait(1, ms(1020))
		assert.True(t, ok)
		assert.Equal(t, ms(2000).Add(turnoverMargin).Sub(ms(1020)), wait, "not restored at once: within the second after the epoch")
	})
	t.Run("a reset that passed since the last report is taken as restored", func(t *testing.T) {
		b := opened()
		report(b, 0, 995, 3)
		wait, ok := b.wait(1, ms(1020))
		assert.True(t, ok)
		assert.Zero(t, wait)
	})
	t.Run("a reset of now with no more remaining is the window counting down, no sliding counter's next", func(t *testing.T) {
		b := &bucket{limit: 50, remaining: 0, mode: modeFixed, reset: ms(2000), sentBefore: 50}
		q := Quota{Limit: 50, Remaining: 10, Reset: ms(2045)}
		b.noteCarryOver(q, ms(2000), ms(2035), ms(2045), 11, 1, false)
		assert.Equal(t, modeFixed, b.mode, "reset of now, 11 remaining before")
		b.noteCarryOver(q, ms(2000), ms(2035), ms(2045), 0, 1, false)
		assert.Equal(t, modeSliding, b.mode, "reset of now, more remaining than before: a carry-over (httprate's floored epoch)")
		b = &bucket{limit: 50, remaining: 0, mode: modeFixed, reset: ms(2000), sentBefore: 50}
		q.Reset = ms(3000)
		b.noteCarryOver(q, ms(2000), ms(2035), ms(2045), 11, 1, false)
		assert.Equal(t, modeSliding, b.mode, "a reset a window on is a carry-over")
	})
}

// The report of an answer that took much longer than the key's quickest round trip is read as of when the
// server most likely counted the request (a queue held it): half the quickest round trip after it was
// sent. At fixed instants: round trips of 10 ms, then one of a second.
func TestSlowAnswerIsCountedWhenSent(t *testing.T) {
	var k keyState
	assert.Equal(t, ms(110), k.countedAt(ms(100), ms(110)), "the first answer")
	assert.Equal(t, ms(220), k.countedAt(ms(200), ms(220)), "twice the quickest, within slowAnswer")
	assert.Equal(t, 10*time.Millisecond, k.minRTT)
	assert.Equal(t, ms(305), k.countedAt(ms(300), ms(1300)), "a second in a queue: counted 5 ms after it was sent")
	assert.Equal(t, 10*time.Millisecond, k.minRTT, "the quickest round trip stays")

	for _, tc := range []struct {
		name  string
		reset time.Time
		want  bool
	}{
		{"a delay of 2 s", ms(3300), true},
		{"an epoch, a whole second", ms(4000), false},
		{"an instant with a fraction of its own (Discord's epoch with milliseconds)", ms(3423), false},
		{"now (a reset just past)", ms(1300), false},
		{"none", time.Time{}, false},
	} {
		assert.Equal(t, tc.want, isDelay(tc.reset, ms(1300)), tc.name)
	}
}

// A leaky bucket's queue held the request a second and answered "none left, full again in 2 s", as it
// counted it when it arrived: the bucket reads that as of then, so the queue it drained meanwhile counts.
func TestQueuedAnswerReadAsOfItsCount(t *testing.T) {
	e := newEngine(t, &Transport{})
	serve := func(sent, received time.Time, remaining int) {
		c := e.s.costsOf(nilRequest, e.k.dimensions())
		tk := e.k.admitNow(&c, sent, false)
		h := http.Header{"Ratelimit-Policy": {`"q";q=2;w=1`}, "Ratelimit": {`"q";r=` + strconv.Itoa(remaining) + `;t=2`}}
		e.k.end(&tk, received)
		e.k.observe(e.s, &tk, answer{responded: true, status: http.StatusOK, obs: ParseHeaders(h, received)}, received)
	}
	serve(ms(0), ms(10), 1)    // at once: the quickest round trip
	serve(ms(10), ms(1010), 0) // queued a second
	require.Len(t, e.k.buckets, 1)
	b := e.k.buckets[0]
	assert.Equal(t, ms(2015), b.reset, "2 s from when it was counted (5 ms after it was sent), not from its answer")
	assert.Equal(t, ms(15), b.last)
}

// A refusal of a request a grown (so rolling) bucket's refill let through refutes its rate: the rate is
// held rateCut below, and creeps back up by a creep that halves with every refusal after.
func TestRefusalRefutesTheRollingRate(t *testing.T) {
	b := &bucket{limit: 2, remaining: 0, held: 2, mode: modeRolling, grew: true, rate: 2}
	b.refuteRate()
	assert.InDelta(t, 1.8, b.rateCeil, 1e-9)
	assert.Equal(t, rateCreep, b.creep)
	report := func(at int) { b.rateFrom(Quota{Limit: 2, Remaining: 0, Reset: ms(at + 1000)}, ms(at)) }
	report(100)
	assert.InDelta(t, 1.8, b.rate, 1e-9, "held below the 2 a second the reset implies")
	assert.InDelta(t, 1.8*(1+rateCreep), b.rateCeil, 1e-9, "and creeping back up")
	b.refuteRate()
	assert.InDelta(t, 0.9*1.8, b.rateCeil, 1e-9)
	assert.Equal(t, rateCreep/2, b.creep, "halved")
	b.rate = 5
	b.refuteRate()
	assert.InDelta(t, 0.9*1.8, b.rateCeil, 1e-9, "a refusal at a rate above the ceiling lowers nothing")
}
