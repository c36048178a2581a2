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
//
// With ceiled it answers as express-rate-limit does instead: the window expires at its end (a request on
// the instant opens the next), the reset is ceiled, and a refusal carries Retry-After, the ceiled seconds
// to the window's end; with delay too, the reset is those seconds, in RateLimit-Reset (its draft-6 mode).
type firstRequestWindow struct {
	limit  int
	length time.Duration
	ceiled bool
	delay  bool
	opened time.Time
	count  int
}

func (w *firstRequestWindow) answer(now time.Time) (int, http.Header) {
	end := w.opened.Add(w.length)
	// ulule expires a window only after its end; express at it
	if w.opened.IsZero() || now.After(end) || w.ceiled && !now.Before(end) {
		w.opened, w.count = now, 0
		end = now.Add(w.length)
	}
	w.count++
	h := http.Header{}
	secs := fmt.Sprint(int64(math.Ceil(end.Sub(now).Seconds())))
	reset := end.Unix() // floored
	if w.ceiled && end.Nanosecond() != 0 {
		reset++
	}
	if w.delay {
		h.Set("Ratelimit-Limit", fmt.Sprint(w.limit))
		h.Set("Ratelimit-Remaining", fmt.Sprint(max(w.limit-w.count, 0)))
		h.Set("Ratelimit-Reset", secs)
	} else {
		h.Set("X-Ratelimit-Limit", fmt.Sprint(w.limit))
		h.Set("X-Ratelimit-Remaining", fmt.Sprint(max(w.limit-w.count, 0)))
		h.Set("X-Ratelimit-Reset", fmt.Sprint(reset))
	}
	if w.count > w.limit {
		if w.ceiled {
			h.Set("Retry-After", secs)
		}
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

// TestCeiledResetOfAWindowOpenedByTheClient: one worker sends 60 requests, each the instant the key lets
// it, to a window of 10 a second that opens at the key's first request, its reset rounded up (an epoch, or
// a delay in every answer) and a Retry-After on refusals (express-rate-limit). Where the Retry-After of the
// refusal that learns the fixed window brings the key back before the reset, the window it finds open
// shows the reset rounded up; elsewhere one request tries the end the rounding allows. From there the key
// turns over at the window's opening plus a second. It used to wait for every ceiled epoch: 5.5-6 s for the
// 60 (a lone worker without latency falls onto whole seconds after one such wait; with latency, as in real
// time, the next window opened just past the second and every window cost the rest of its second). The
// delays hold the lone worker's pace as they did.
func TestCeiledResetOfAWindowOpenedByTheClient(t *testing.T) {
	for _, delay := range []bool{false, true} {
		for _, phase := range []time.Duration{0, 137 * time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond} {
			t.Run(fmt.Sprintf("delay=%v/%v", delay, phase), func(t *testing.T) {
				srv := &firstRequestWindow{limit: 10, length: time.Second, ceiled: true, delay: delay}
				start := t0.Add(phase)
				e := newEngine(t, &Transport{})
				now, refused := loneWorker(t, e, srv.answer, start, 60)
				// One refusal learns the fixed window (the rolling refill is tried first).
				assert.LessOrEqual(t, refused, 1, "refused")
				// That refusal comes up to 0.2 s into the first window, and its Retry-After, rounded up, brings
				// the key back as long after the window's end; then five windows, each a millisecond late.
				assert.LessOrEqual(t, now.Sub(start), 5200*time.Millisecond, "elapsed")
			})
		}
	}
}

// TestTurnoverReadsTheResetWithItsPrecision: where a fixed window opened by the client turns over, by what
// its reset and the answers said, at fixed instants. The window opened at 0.412 (its first answer then)
// with a reset of the whole second 2 (rounded up from 1.412) or 1 (rounded down), or a delay of 1 s; the
// bucket holds that reset, or a later answer's delay of 1 s (the rounding moved it on), or a Retry-After's.
func TestTurnoverReadsTheResetWithItsPrecision(t *testing.T) {
	opened := t0.Add(412 * time.Millisecond)
	learnt := opened.Add(time.Second + turnoverMargin)
	delay := opened.Add(time.Second)
	tests := []struct {
		name    string
		opening time.Time // the reset the opening answer said
		said    time.Time // the reset the last answer said; zero: the opening's
		moved   time.Time // the reset a Retry-After moved it to; zero: not moved
		b       bucket    // the evidence
		want    time.Time
	}{
		{"untested: the end a rounded-up epoch allows, tried once", at(2 * time.Second), time.Time{}, time.Time{}, bucket{}, learnt},
		{"seen early: a second after the opening", at(2 * time.Second), time.Time{}, time.Time{}, bucket{early: true}, learnt},
		{"refuted since: the reset", at(2 * time.Second), time.Time{}, time.Time{}, bucket{early: true, notEarly: true}, at(2 * time.Second)},
		{"a Retry-After moved the reset: when it said", at(2 * time.Second), time.Time{}, at(1900 * time.Millisecond), bucket{}, at(1900 * time.Millisecond)},
		{"floored: a second after the opening, past the reset", at(time.Second), time.Time{}, time.Time{}, bucket{floored: true}, learnt},
		{"an epoch that cannot be rounded up (the end would come before the opening): the reset", at(time.Second), time.Time{}, time.Time{},
			bucket{}, at(time.Second)},
		{"untested delay, moved on by a later answer: the reset", delay, opened.Add(1030 * time.Millisecond), time.Time{},
			bucket{}, opened.Add(1030 * time.Millisecond)},
		{"a delay seen early: the opening's", delay, opened.Add(1030 * time.Millisecond), time.Time{}, bucket{early: true}, learnt},
		{"a delay the later answers did not move: the reset", delay, time.Time{}, time.Time{}, bucket{}, delay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			b.limit, b.remaining, b.mode = 10, 0, modeFixed
			b.noteOpening(Quota{Limit: 10, Remaining: 9, Reset: tt.opening}, opened, 1)
			b.reset = tt.opening
			if !tt.said.IsZero() {
				b.reset, b.said = tt.said, tt.said
			}
			if !tt.moved.IsZero() {
				b.reset = tt.moved
			}
			assert.Equal(t, tt.want, b.turnover())
		})
	}
}

// TestEarlyEndEvidence: which answers show a whole-second reset rounded up, and which refusal refutes it.
func TestEarlyEndEvidence(t *testing.T) {
	held := at(2 * time.Second) // the last window's reset, a whole second
	fresh := Quota{Limit: 10, Remaining: 9, Reset: at(3 * time.Second)}
	tests := []struct {
		name     string
		said     time.Time
		q        Quota
		received time.Time
		want     bool
	}{
		{"a new window before the whole-second reset", held, fresh, at(1420 * time.Millisecond), true},
		{"a new window at the reset: no evidence", held, fresh, held, false},
		{"a new window before a delay's reset", held.Add(time.Millisecond), fresh, at(1420 * time.Millisecond), true},
		{"a new window at a delay's reset: no evidence", held.Add(time.Millisecond), fresh, held.Add(time.Millisecond), false},
		{"the same window still counting", held, Quota{Limit: 10, Remaining: 3, Reset: held}, at(1420 * time.Millisecond), false},
		{"a first report", time.Time{}, fresh, at(1420 * time.Millisecond), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &bucket{limit: 10, remaining: 0, mode: modeFixed, said: tt.said, reset: tt.said}
			b.noteOpening(tt.q, tt.received, 1)
			assert.Equal(t, tt.want, b.early)
		})
	}
	t.Run("a refusal between the learnt end and the reset refutes it", func(t *testing.T) {
		b := &bucket{limit: 10, remaining: 0, mode: modeFixed, early: true}
		b.noteOpening(Quota{Limit: 10, Remaining: 9, Reset: held}, at(412*time.Millisecond), 1)
		b.reset = held
		require.Equal(t, at(1413*time.Millisecond), b.turnover())
		b.noteRefusal(held, b.turnover(), held, at(1413*time.Millisecond), at(1414*time.Millisecond))
		assert.True(t, b.notEarly)
		assert.Equal(t, held, b.turnover())
	})
	t.Run("an answer from the same window after the learnt end refutes it (a sliding log)", func(t *testing.T) {
		b := &bucket{limit: 10, remaining: 0, mode: modeFixed}
		b.noteOpening(Quota{Limit: 10, Remaining: 9, Reset: held}, at(412*time.Millisecond), 1)
		b.reset = held
		turned := b.turnover()
		require.Equal(t, at(1413*time.Millisecond), turned, "tried once")
		b.noteKept(Quota{Limit: 10, Remaining: 0, Reset: held}, held, turned, turned, 1)
		assert.True(t, b.notEarly)
	})
	t.Run("a new window there does not", func(t *testing.T) {
		b := &bucket{limit: 10, remaining: 0, mode: modeFixed}
		b.noteOpening(Quota{Limit: 10, Remaining: 9, Reset: held}, at(412*time.Millisecond), 1)
		b.reset = held
		turned := b.turnover()
		b.noteKept(Quota{Limit: 10, Remaining: 9, Reset: at(3 * time.Second)}, held, turned, turned, 1)
		assert.False(t, b.notEarly)
	})
	t.Run("a refusal before the learnt end does not", func(t *testing.T) {
		b := &bucket{limit: 10, remaining: 0, mode: modeFixed, early: true}
		b.noteOpening(Quota{Limit: 10, Remaining: 9, Reset: held}, at(412*time.Millisecond), 1)
		b.reset = held
		b.noteRefusal(held, b.turnover(), held, at(1400*time.Millisecond), at(1401*time.Millisecond))
		assert.False(t, b.notEarly)
	})
}

// TestFixedWindowKeepsTheEarliestEndItsDelaysAllow: a fixed window whose reset is a delay in whole seconds,
// rounded up, ends within that delay of every answer in it, so the earliest answer's bound holds, not the
// newest's (which put each window's wait a second from its last answer: 0.746-0.842 of a 50/s window's
// pace). At fixed instants: a window opened by the client at 0.412 s, answers at 0.412 s and 0.7 s, each
// saying "1 s".
func TestFixedWindowKeepsTheEarliestEndItsDelaysAllow(t *testing.T) {
	delay := func(remaining int64, at int) Quota {
		return Quota{Limit: 10, Remaining: remaining, Reset: ms(at + 1000)}
	}
	synced := func(mode bucketMode, qs ...Quota) *bucket { // each answered a second before its reset
		b := &bucket{limit: -1, remaining: -1, mode: mode}
		for i, q := range qs {
			b.sync(q, q.Reset.Add(-time.Second), uint64(i+1), uint64(i+1), 1)
		}
		return b
	}
	t.Run("the earliest end holds in a fixed window", func(t *testing.T) {
		b := synced(modeFixed, delay(9, 412), delay(3, 700))
		assert.Equal(t, ms(1412), b.reset)
		assert.Equal(t, ms(1412), b.turnover())
	})
	t.Run("a new window's answer moves it on", func(t *testing.T) {
		b := synced(modeFixed, delay(9, 412), delay(3, 700), delay(9, 1420))
		assert.Equal(t, ms(2420), b.reset)
	})
	t.Run("an answer after the end moves it on", func(t *testing.T) {
		b := synced(modeFixed, delay(9, 412), delay(0, 1500))
		assert.Equal(t, ms(2500), b.reset)
	})
	t.Run("a rolling bucket's reset is when it is full again: the newest", func(t *testing.T) {
		b := synced(modeRolling, delay(9, 412), delay(3, 700))
		assert.Equal(t, ms(1700), b.reset)
	})
	t.Run("an epoch is not a delay", func(t *testing.T) {
		b := &bucket{limit: -1, remaining: -1, mode: modeFixed}
		b.sync(Quota{Limit: 10, Remaining: 9, Reset: ms(2000)}, ms(412), 1, 1, 1)
		b.sync(Quota{Limit: 10, Remaining: 3, Reset: ms(3000)}, ms(1700), 2, 2, 1)
		assert.Equal(t, ms(3000), b.reset)
	})
	t.Run("the first answer at a kept end that finds the window not restored refutes keeping", func(t *testing.T) {
		for _, refused := range []bool{false, true} {
			b := synced(modeFixed, delay(9, 412), delay(3, 700))
			held, turned := b.reset, b.turnover()
			q := delay(7, 1422) // a sliding log frees its oldest entries at the kept end, not the window
			b.sync(q, ms(1422), 3, 3, 1)
			if refused {
				b.noteRefusal(held, turned, q.Reset, ms(1413), ms(1422))
			} else {
				b.noteKept(q, held, turned, ms(1413), 1)
			}
			assert.True(t, b.endRefuted, "refused=%v", refused)
			b.sync(delay(2, 1600), ms(1600), 4, 4, 1)
			assert.Equal(t, ms(2600), b.reset, "refused=%v: the newest answer's end, from there", refused)
		}
	})
	t.Run("a window found restored at the kept end keeps keeping", func(t *testing.T) {
		b := synced(modeFixed, delay(9, 412), delay(3, 700))
		held, turned := b.reset, b.turnover()
		q := delay(9, 1422)
		b.sync(q, ms(1422), 3, 3, 1)
		b.noteKept(q, held, turned, ms(1413), 1)
		assert.False(t, b.endRefuted)
		b.sync(delay(2, 1600), ms(1600), 4, 4, 1)
		assert.Equal(t, ms(2422), b.reset)
	})
}

// TestClockTurnOfADelayWindow: where a fixed window whose reset is a delay turns over, at fixed instants.
// The window's earlier answers bound its end at 2.512 s; the last answer came at 1.6 s; its length is a
// second (the policy's w=1).
func TestClockTurnOfADelayWindow(t *testing.T) {
	fixed := func() *bucket {
		return &bucket{limit: 10, remaining: 0, mode: modeFixed, window: time.Second, reset: ms(2512), kept: ms(2512),
			opened: ms(1512), span: time.Second, observed: ms(1600), endHeld: true}
	}
	for _, tc := range []struct {
		name string
		edit func(b *bucket)
		want time.Time
		// pastTurn: an answer at 2.005 s is past the turn, where what a sliding log frees is no refill
		pastTurn bool
	}{
		{"a fixed window found restored whole at a kept end: the clock's turn before the reset", func(*bucket) {}, ms(2001), true},
		{"not yet found restored whole at a kept end: the reset", func(b *bucket) { b.endHeld = false }, ms(2512), false},
		{"an answer came after the turn, from the same window: the reset", func(b *bucket) { b.observed = ms(2100) }, ms(2512), false},
		{"refuted: the reset (and the answers past the turn still no refill)", func(b *bucket) { b.notOnClock = true }, ms(2512), true},
		{"a window of two seconds counts on no clock's turn: the reset", func(b *bucket) { b.window = 2 * time.Second }, ms(2512), false},
		{"without a policy's window, the first answer's delay is its length", func(b *bucket) { b.window = 0 }, ms(2001), true},
		{"an epoch is not a delay: the reset", func(b *bucket) { b.reset, b.kept = ms(3000), ms(3000) }, ms(3000), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := fixed()
			tc.edit(b)
			assert.Equal(t, tc.want, b.turnover())
			assert.Equal(t, tc.pastTurn, b.pastClockTurn(ms(2005)), "past the turn")
		})
	}
	t.Run("a refusal of the trial refutes the turn and returns the end the window's answers bound", func(t *testing.T) {
		b := fixed()
		held, turned := b.reset, b.turnover()
		assert.Equal(t, held, b.noteRefusal(held, turned, ms(3011), ms(2001), ms(2011)))
		assert.True(t, b.notOnClock)
		assert.False(t, b.notEarly, "an early end learnt where the window opened stays to try")
		assert.Equal(t, ms(2512), b.turnover())
	})
	t.Run("an answer from the same window to the trial refutes the turn", func(t *testing.T) {
		b := fixed()
		held, turned := b.reset, b.turnover()
		b.noteKept(Quota{Limit: 10, Remaining: 3, Reset: ms(3011)}, held, turned, ms(2001), 1)
		assert.True(t, b.notOnClock)
	})
	t.Run("a new window at the trial keeps the turn", func(t *testing.T) {
		b := fixed()
		held, turned := b.reset, b.turnover()
		b.noteKept(Quota{Limit: 10, Remaining: 9, Reset: ms(3011)}, held, turned, ms(2001), 1)
		assert.False(t, b.notOnClock)
	})
}

// TestRestoredWholeAtAKeptEnd: the first request at an end kept from a window's earlier answers tells a
// fixed window from a sliding log only when the window's last request that passed was sent less than a
// window before it (a log frees it a window after it was sent).
func TestRestoredWholeAtAKeptEnd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lastPass int
		want     bool
	}{
		{"the last pass 0.94 s before: a fixed window", 572, true},
		{"the last pass 1.01 s before: a sliding log would have freed it too", 502, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &bucket{limit: 50, remaining: 0, mode: modeFixed, window: time.Second, reset: ms(1512), kept: ms(1512),
				lastPass: ms(tc.lastPass)}
			b.noteKept(Quota{Limit: 50, Remaining: 49, Reset: ms(2522)}, ms(1512), ms(1512), ms(1512), 1)
			assert.Equal(t, tc.want, b.endHeld)
		})
	}
}

// TestTrialResume: after its refused trial of the clock's turn, the key resumes at the end the window's
// earlier answers bound, when the Retry-After is in whole seconds and later, and the window is the one
// quota exhausted.
func TestTrialResume(t *testing.T) {
	now := ms(2011)
	for _, tc := range []struct {
		name      string
		tried     time.Time
		exhausted int
		retryAt   time.Time
		want      bool
	}{
		{"Retry-After: 1 after the bound", ms(2512), 1, ms(3011), true},
		{"no trial", time.Time{}, 1, ms(3011), false},
		{"another quota exhausted too", ms(2512), 2, ms(3011), false},
		{"a Retry-After in milliseconds says when", ms(2512), 1, ms(2911), false},
		{"the Retry-After comes first", ms(2512), 1, ms(2011 + 0), false},
		{"no Retry-After", ms(2512), 1, time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, trialResume(tc.tried, tc.exhausted, tc.retryAt, now))
		})
	}
}
