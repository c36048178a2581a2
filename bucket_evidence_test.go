package ratekit

import (
	"fmt"
	"math/rand"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Evidence that only looks like something else: found against the real libraries in the interop suite.

// TestInFlightBurstIsNoConcurrencyEvidence: a probe, then four workers' requests in flight at once against
// throttled's GCRA (burst 10, Reset: 1, the ceiled 0.2 s to full), which the server takes in some order,
// each answer followed at once by that worker's next request. Because requests are admitted before the
// server counts them, Remaining plus the requests in flight adds up to the limit in two answers in a row:
// that alone is no quota of requests in flight, which would then let ten go at once after every pause (a
// 1 s Retry-After each time, where the bucket refills in 20 ms). Every order of the first four is tried
// (16 of the 24 turned the bucket into a concurrency quota before).
func TestInFlightBurstIsNoConcurrencyEvidence(t *testing.T) {
	for _, order := range permutations(4) {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			g := &gcraHeaders{rate: 50, burst: 10}
			e := newEngine(t, &Transport{})
			admit := func() ticket {
				c := e.s.costsOf(nilRequest, e.k.dimensions())
				return e.k.admitNow(&c, t0, false)
			}
			// serve has the server take the request and its answer arrive.
			serve := func(tk ticket) {
				status, h := g.answer(t0)
				e.k.end(&tk, t0)
				e.k.observe(e.s, &tk, answer{responded: true, status: status, obs: ParseHeaders(h, t0)}, t0)
			}
			serve(admit()) // the probe
			require.Len(t, e.k.buckets, 1)
			var inFlight []ticket
			for range order {
				inFlight = append(inFlight, admit())
			}
			// The server takes the first four in the order given, the rest in the order sent; each answer
			// is followed by that worker's next request, which the server has not taken yet, until the
			// bucket's ten have gone.
			total := 1 + len(inFlight)
			for step := 0; len(inFlight) > 0; step++ {
				i := 0
				if step < len(order) {
					i = min(order[step], len(inFlight)-1)
				}
				tk := inFlight[i]
				inFlight = append(inFlight[:i:i], inFlight[i+1:]...)
				serve(tk)
				assert.NotEqual(t, modeConcurrent, e.k.buckets[0].mode, "after the answer to request %d", tk.seq)
				if total < 10 {
					inFlight = append(inFlight, admit())
					total++
				}
			}
		})
	}
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// TestMeasuredRefillIsItsLowEnd: Remaining is an integer, so the units a measurement counts may be one more
// than came back. A client paced at 50.9 a second against a server at 50 meets an empty bucket within
// seconds, and then a Retry-After of a whole second: the meter reads the low end.
func TestMeasuredRefillIsItsLowEnd(t *testing.T) {
	tests := []struct {
		name    string
		samples [][2]float64 // units, seconds
		want    float64
	}{
		{"too few units to read", [][2]float64{{5, 0.5}}, 0},
		{"too few units to read over a second", [][2]float64{{2, 1.5}}, 0},
		{"a few units over a second: a slow bucket's 2 a second, read as 1.5", [][2]float64{{4, 2}}, 3 / 2.0},
		{"too short to read", [][2]float64{{12, 0.05}}, 0},
		{"20 units in 0.4 s: 47.5 a second, not 50", [][2]float64{{10, 0.2}, {10, 0.2}}, 19 / 0.4},
		{"10 units in 0.2 s: 45 a second", [][2]float64{{10, 0.2}}, 9 / 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m refillMeter
			for _, s := range tt.samples {
				m.add(s[0], time.Duration(s[1]*float64(time.Second)), false)
			}
			assert.InDelta(t, tt.want, m.measured(), 1e-9)
		})
	}
}

// TestReorderedAnswersNeverOverdraw: a probe, then four workers against a quota of 10 at one instant,
// where the server takes the requests in flight in one order and their answers reach the client in
// another. A report can be stale in two ways at once: it answers a request sent after the last report
// the client trusted fully, yet the server took that request before one whose lower report the client has
// already seen. Trusted as new, it raised the count by the request in between, and the eleventh request
// went (seen in examples/testing about 1 run in 40). Every seed of the shuffles must spend the 10 exactly:
// no rejection, and nothing left unspent once all answers are in.
func TestReorderedAnswersNeverOverdraw(t *testing.T) {
	servers := []struct {
		name  string
		reset func(missing int) string
	}{
		{"a token bucket whose reset is when it is full again (6 s a unit)", func(m int) string { return fmt.Sprint(6 * m) }},
		{"a fixed window an hour long", func(int) string { return "3600" }},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			for seed := range int64(2000) {
				rng := rand.New(rand.NewSource(seed))
				e := newEngine(t, &Transport{})
				left, rejected := 10, 0
				type inFlight struct {
					tk     ticket
					status int
					h      http.Header
				}
				var unseen, answered []inFlight // not yet taken by the server; taken, answer on its way
				admit := func() bool {
					c := e.s.costsOf(nilRequest, e.k.dimensions())
					if !e.k.decide(&c, t0).ready() {
						return false
					}
					unseen = append(unseen, inFlight{tk: e.k.admitNow(&c, t0, false)})
					return true
				}
				take := func(i int) { // the server counts request i
					r := unseen[i]
					unseen = append(unseen[:i:i], unseen[i+1:]...)
					r.status, r.h = http.StatusOK, http.Header{"X-Ratelimit-Limit": {"10"}}
					if left == 0 {
						r.status = http.StatusTooManyRequests
						rejected++
					} else {
						left--
					}
					r.h.Set("X-Ratelimit-Remaining", fmt.Sprint(left))
					r.h.Set("X-Ratelimit-Reset", srv.reset(10-left))
					answered = append(answered, r)
				}
				arrive := func(i int) { // the client reads answer i
					r := answered[i]
					answered = append(answered[:i:i], answered[i+1:]...)
					e.k.end(&r.tk, t0)
					e.k.observe(e.s, &r.tk, answer{responded: true, status: r.status, obs: ParseHeaders(r.h, t0)}, t0)
				}
				require.True(t, admit())
				take(0)
				arrive(0) // the probe's answer: now the bucket is known
				for workers := 4; workers > 0 && admit(); workers-- {
				}
				for len(unseen)+len(answered) > 0 {
					if len(unseen) > 0 && (len(answered) == 0 || rng.Intn(2) == 0) {
						take(rng.Intn(len(unseen)))
						continue
					}
					arrive(rng.Intn(len(answered)))
					for len(unseen)+len(answered) < 4 && admit() {
					}
				}
				require.Zero(t, rejected, "seed %d: the server rejected a request", seed)
				require.Zero(t, left, "seed %d: the client left units unspent", seed)
			}
		})
	}
}
