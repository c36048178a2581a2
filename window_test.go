package ratekit

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loneWorker sends n requests from start, each the instant the key lets it, answered at once by serve,
// and returns when the last was done and how many the server refused on the way.
func loneWorker(t *testing.T, e *engine, serve func(time.Time) (int, http.Header), start time.Time, n int) (time.Time, int) {
	t.Helper()
	now, refused, done := start, 0, 0
	for done < n {
		c := e.s.costsOf(nilRequest, e.k.dimensions())
		if a := e.k.decide(&c, now); !a.ready() {
			require.Positive(t, a.wait, "a lone worker waits for a time, not for an answer")
			now = now.Add(a.wait)
			continue
		}
		tk := e.k.admitNow(&c, now, false)
		status, h := serve(now)
		e.k.end(&tk, now)
		e.k.observe(e.s, &tk, answer{responded: true, status: status, obs: ParseHeaders(h, now)}, now)
		if status == http.StatusOK {
			done++
		} else {
			refused++
		}
	}
	return now, refused
}

// firstRequestWindow answers as ulule/limiter does: a fixed window of limit requests that opens at the
// key's first request after the last one expired, a refusal counted like an admission, and the reset an
// epoch floored to the second, with no Retry-After.
type firstRequestWindow struct {
	limit  int
	length time.Duration
	opened time.Time
	count  int
}

func (w *firstRequestWindow) answer(now time.Time) (int, http.Header) {
	if w.opened.IsZero() || now.After(w.opened.Add(w.length)) { // expired only after its end, as ulule checks
		w.opened, w.count = now, 0
	}
	w.count++
	h := http.Header{}
	h.Set("X-Ratelimit-Limit", fmt.Sprint(w.limit))
	h.Set("X-Ratelimit-Remaining", fmt.Sprint(max(w.limit-w.count, 0)))
	h.Set("X-Ratelimit-Reset", fmt.Sprint(w.opened.Add(w.length).Unix())) // floored
	if w.count > w.limit {
		return http.StatusTooManyRequests, h
	}
	return http.StatusOK, h
}

// TestFlooredResetOfAWindowOpenedByTheClient: one worker sends 60 requests, each the instant the key lets
// it, to a window of 10 a second that opens at the key's first request, starting at a phase of the second.
// A request at the floored reset is refused (the window still runs), which shows the floor; from there the
// key waits for the window's end it read where the window opened. It used to back off blind after every
// such refusal, each counted by the server (13-22% of answers refused by ulule/limiter).
func TestFlooredResetOfAWindowOpenedByTheClient(t *testing.T) {
	for _, phase := range []time.Duration{0, 137 * time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond} {
		t.Run(phase.String(), func(t *testing.T) {
			srv := &firstRequestWindow{limit: 10, length: time.Second}
			start := t0.Add(phase)
			e := newEngine(t, &Transport{})
			now, refused := loneWorker(t, e, srv.answer, start, 60)
			// One refusal learns the fixed window (the rolling refill is tried first), one the floor.
			assert.LessOrEqual(t, refused, 2, "refused")
			// Six windows back to back, each a millisecond late at most, after the first (1 s).
			assert.LessOrEqual(t, now.Sub(start), 5*time.Second+10*time.Millisecond, "elapsed")
		})
	}
}
