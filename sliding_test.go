package ratekit

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slidingCounter answers as go-chi/httprate v0.16 does: windows of length from created, the previous
// window's count weighted by the share of it still inside the last window's length, the sum rounded; a
// request goes when that plus one is within the limit. The reset is the current window's end in epoch
// seconds (floored), a refusal carries a whole window's Retry-After.
type slidingCounter struct {
	limit   int
	length  time.Duration
	created time.Time
	counts  map[int64]int // by window index
}

func (s *slidingCounter) answer(now time.Time) (int, http.Header) {
	i := int64(now.Sub(s.created) / s.length)
	start := s.created.Add(time.Duration(i) * s.length)
	f := float64(now.Sub(start)) / float64(s.length)
	rate := int(math.Round(float64(s.counts[i-1])*(1-f) + float64(s.counts[i])))
	h := http.Header{}
	h.Set("X-Ratelimit-Limit", fmt.Sprint(s.limit))
	h.Set("X-Ratelimit-Reset", fmt.Sprint(start.Add(s.length).Unix()))
	if rate+1 > s.limit {
		h.Set("X-Ratelimit-Remaining", fmt.Sprint(s.limit-rate))
		h.Set("Retry-After", fmt.Sprint(int(s.length.Seconds())))
		return http.StatusTooManyRequests, h
	}
	s.counts[i]++
	h.Set("X-Ratelimit-Remaining", fmt.Sprint(s.limit-rate-1))
	return http.StatusOK, h
}

// TestSlidingCounterIsPacedNotWaitedFor: one worker sends 100 requests, each the instant the key lets it,
// to a sliding counter of 10 a second. The first answer after a window turns over shows the last window's
// count still weighing (a fixed window would open full), and from there the key paces at the counter's
// rate instead of waiting for each reset (which took 2 s a window: half the pace).
func TestSlidingCounterIsPacedNotWaitedFor(t *testing.T) {
	srv := &slidingCounter{limit: 10, length: time.Second, created: t0, counts: map[int64]int{}}
	e := newEngine(t, &Transport{})
	now, refused := loneWorker(t, e, srv.answer, t0, 100)
	require.Len(t, e.k.buckets, 1)
	assert.Equal(t, modeSliding, e.k.buckets[0].mode)
	// The first refusal is the rolling refill tried in the first window, which refills nothing.
	assert.LessOrEqual(t, refused, 1, "refused")
	// 10 at once, then the counter's pace less a unit a window for its rounding: 90 at 9 a second.
	assert.LessOrEqual(t, now.Sub(t0), 11500*time.Millisecond, "elapsed")
}

// TestCarryOverTellsASlidingCounter: the first answer after a turnover, alone in flight, shows a sliding
// counter only where what it still counts is no more than this client sent in the window before, and the
// key does not share its quota: other clients' requests leave the same mark on a fixed window.
func TestCarryOverTellsASlidingCounter(t *testing.T) {
	held := t0.Add(time.Second) // the window that ended
	tests := []struct {
		name      string
		remaining int64 // in the first answer after the turnover, which cost 1
		sentLast  int64 // what this client sent in the window before
		shared    bool
		want      bucketMode
	}{
		{"the last window's 9 still weigh: a sliding counter", 0, 10, false, modeSliding},
		{"a full window: fixed", 9, 10, false, modeFixed},
		{"7 carried over, but this client sent 3: others' requests in a fixed window", 2, 3, false, modeFixed},
		{"a key that shares its quota through a Limiter", 0, 10, true, modeFixed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &bucket{limit: 10, remaining: 0, mode: modeFixed, reset: held, sentBefore: tt.sentLast}
			q := Quota{Dimension: "requests", Limit: 10, Remaining: tt.remaining, Reset: held.Add(time.Second)}
			now := held.Add(100 * time.Millisecond)
			b.noteCarryOver(q, held, now, now, 0, 1, tt.shared)
			assert.Equal(t, tt.want, b.mode)
			if tt.want == modeSliding {
				assert.InDelta(t, 9.0, b.rate, 1e-9, "the last window's count, per second")
				assert.Equal(t, time.Second, b.window, "the step from one reset to the next")
			}
		})
	}
}
