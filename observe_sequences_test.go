package ratekit

import (
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The observation step fed with the header sequences real limiters send (REALWORLD.md), request by
// request at fixed instants, checking what the key's estimate makes of them.

// gcraHeaders answers a request at now from a GCRA of rate per second and burst, writing its values as
// throttled does: X-RateLimit-Limit is the burst, Reset and Retry-After the ceiled seconds.
type gcraHeaders struct {
	rate  float64
	burst int
	tat   time.Time
}

func (g *gcraHeaders) answer(now time.Time) (int, http.Header) {
	emission := time.Duration(float64(time.Second) / g.rate)
	tolerance := emission * time.Duration(g.burst)
	tat := g.tat
	if tat.Before(now) {
		tat = now
	}
	ceil := func(d time.Duration) string { return strconv.Itoa(int(math.Ceil(max(d, 0).Seconds()))) }
	h := http.Header{"X-Ratelimit-Limit": {strconv.Itoa(g.burst)}}
	if tat.Add(emission).Sub(now) > tolerance {
		h.Set("X-Ratelimit-Remaining", "0")
		h.Set("X-Ratelimit-Reset", ceil(tat.Sub(now)))
		h.Set("Retry-After", ceil(tat.Add(emission).Sub(now)-tolerance))
		return 429, h
	}
	g.tat = tat.Add(emission)
	left := g.tat.Sub(now)
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(int((tolerance-left)/emission)))
	h.Set("X-Ratelimit-Reset", ceil(left))
	return 200, h
}

// run sends one request at each of the instants (ms after t0), answered at once, and returns the engine.
func runSequence(t *testing.T, serve func(now time.Time) (int, http.Header), instants []int) (*engine, []int) {
	t.Helper()
	e := newEngine(t, &Transport{})
	var statuses []int
	for _, n := range instants {
		now := ms(n)
		c := e.s.costsOf(nilRequest, e.k.dimensions())
		tk := e.k.admitNow(&c, now, false)
		status, h := serve(now)
		statuses = append(statuses, status)
		e.k.end(&tk, now)
		e.k.observe(e.s, &tk, answer{responded: true, status: status, obs: ParseHeaders(h, now)}, now)
		e.k.pausedUntil = time.Time{} // the sequence is the server's, not the client's pace
	}
	return e, statuses
}

func every(from, step, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i*step
	}
	return out
}

func TestObserveRealHeaderSequences(t *testing.T) {
	t.Run("throttled, full again in 0.2 s, says Reset: 1 twice: a bucket, not a concurrency quota", func(t *testing.T) {
		g := &gcraHeaders{rate: 50, burst: 10}
		e, _ := runSequence(t, g.answer, []int{0, 300, 600})
		require.Len(t, e.k.buckets, 1)
		assert.Equal(t, modeRolling, e.k.buckets[0].mode)
	})
	t.Run("throttled drained, then at its rate: the rate is read from Remaining, not from Reset: 1", func(t *testing.T) {
		g := &gcraHeaders{rate: 50, burst: 10}
		// The burst at once (10 in 10 ms), then one every 20 ms for a second.
		seq := append(every(0, 1, 10), every(30, 20, 50)...)
		e, statuses := runSequence(t, g.answer, seq)
		b := e.k.buckets[0]
		assert.NotContains(t, statuses, 429)
		assert.Equal(t, modeRolling, b.mode)
		assert.InDelta(t, 50, b.rate, 5, "units per second")
	})
	t.Run("a coarse Retry-After: 1 sets no rate of 1 a second, and growth disproves a window", func(t *testing.T) {
		g := &gcraHeaders{rate: 50, burst: 10}
		// 12 at once (two refused, which looks like a window), then one every 20 ms for half a second.
		e, statuses := runSequence(t, g.answer, append(every(0, 1, 12), every(40, 20, 25)...))
		assert.Contains(t, statuses, 429)
		b := e.k.buckets[0]
		assert.NotEqual(t, modeFixed, b.mode)
		assert.Greater(t, b.rate, 1.0)
	})
	t.Run("tollbooth's constant Reset: 1 with Remaining at its level: not a concurrency quota", func(t *testing.T) {
		tokens := 10.0
		last := t0
		answer := func(now time.Time) (int, http.Header) {
			tokens = min(tokens+now.Sub(last).Seconds()*50, 10)
			last = now
			status := 429
			if tokens >= 1 {
				tokens--
				status = 200
			}
			return status, http.Header{"X-Rate-Limit-Limit": {"50.00"}, "X-Rate-Limit-Duration": {"1"}, "Ratelimit-Limit": {"50"},
				"Ratelimit-Remaining": {strconv.Itoa(int(tokens))}, "Ratelimit-Reset": {"1"}}
		}
		e, _ := runSequence(t, answer, append(every(0, 1, 10), every(30, 20, 50)...))
		require.NotEmpty(t, e.k.buckets)
		for _, b := range e.k.buckets {
			assert.NotEqual(t, modeConcurrent, b.mode, b.policyName())
		}
	})
	t.Run("ulule's floored epoch reset, already past, is no concurrency evidence", func(t *testing.T) {
		count := 0
		answer := func(now time.Time) (int, http.Header) {
			count++
			// a window of 50 from t0, its end floored to the second: t0+1s; answers come late in it
			return 200, http.Header{"X-Ratelimit-Limit": {"50"}, "X-Ratelimit-Remaining": {strconv.Itoa(50 - count)},
				"X-Ratelimit-Reset": {strconv.FormatInt(t0.Add(time.Second).Unix(), 10)}}
		}
		e, _ := runSequence(t, answer, every(900, 2, 45))
		assert.NotEqual(t, modeConcurrent, e.k.buckets[0].mode)
	})
}
