package ratekit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The adaptive core at fixed instants (t0 + n ms): what a server that says nothing but 429 teaches it.
func TestAdaptiveAtFixedInstants(t *testing.T) {
	type event struct {
		sent, at int  // ms after t0
		refused  bool // a bare 429; else a success
	}
	burst := func(n, at int) []event { // n successes sent at at-1, answered at at
		var evs []event
		for range n {
			evs = append(evs, event{sent: at - 1, at: at})
		}
		return evs
	}
	for _, tc := range []struct {
		name   string
		events []event
		check  func(t *testing.T, a *adaptive)
	}{
		{"before any refusal: no pace, and the slow start widens one per slowStartSuccesses", burst(13, 5),
			func(t *testing.T, a *adaptive) {
				assert.False(t, a.paced())
				assert.Equal(t, 1+13/slowStartSuccesses, a.window())
				assert.Zero(t, a.wait(ms(5)))
			}},
		{"the first refusal sizes the first wait by the burst: 11 passed, so one comes back in burstSpan/11",
			append(burst(11, 8), event{sent: 8, at: 9, refused: true}),
			func(t *testing.T, a *adaptive) {
				assert.True(t, a.paced())
				assert.Zero(t, a.window(), "the slow start ends")
				want := durationCeil((burstSpan + 8*time.Millisecond).Seconds() / 11)
				assert.InDelta(t, float64(want), float64(a.wait(ms(9))), float64(time.Millisecond))
			}},
		{"a refusal of a request sent before the last one is old news",
			append(burst(11, 8), event{sent: 8, at: 9, refused: true}, event{sent: 8, at: 10, refused: true}),
			func(t *testing.T, a *adaptive) {
				assert.Equal(t, 1, a.probes)
			}},
		{"a refused probe waits probeBackoff times longer",
			append(burst(11, 8), event{sent: 8, at: 9, refused: true}, event{sent: 124, at: 125, refused: true}),
			func(t *testing.T, a *adaptive) {
				assert.Equal(t, 2, a.probes)
				assert.InDelta(t, probeBackoff/a.pace, a.wait(ms(125)).Seconds(), 0.002)
			}},
		{"a cycle between two refusals measures the rate: 10 in 200 ms is 50/s, and the pace restarts below it",
			func() []event {
				evs := append(burst(11, 8), event{sent: 8, at: 9, refused: true})
				// the first cycle: 3 successes, too few to have drained an 11-request burst
				evs = append(evs, event{sent: 100, at: 101}, event{sent: 150, at: 151}, event{sent: 160, at: 161},
					event{sent: 169, at: 170, refused: true})
				// the second: 10 successes over 200 ms
				for i := range 10 {
					evs = append(evs, event{sent: 185 + 20*i, at: 186 + 20*i})
				}
				return append(evs, event{sent: 369, at: 370, refused: true})
			}(),
			func(t *testing.T, a *adaptive) {
				assert.True(t, a.bounded())
				assert.InDelta(t, 13.0, a.sumOK, 0.01)
				assert.InDelta(t, 0.361, a.sumT, 0.001)
				assert.InDelta(t, (1-paceMargin)*(13.5/0.361), a.pace, 0.01)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a adaptive
			for _, e := range tc.events {
				if e.refused {
					a.rejected(ms(e.sent), ms(e.at))
				} else {
					a.success(ms(e.sent), ms(e.at))
				}
			}
			tc.check(t, &a)
		})
	}
}
