package ratekit

import (
	"fmt"
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
