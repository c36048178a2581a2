package ratekit

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
