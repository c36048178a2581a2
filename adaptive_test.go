package ratekit

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	probes := func(ats ...int) []event { // refused probes sent at at-1, answered at at
		var evs []event
		for _, at := range ats {
			evs = append(evs, event{sent: at - 1, at: at, refused: true})
		}
		return evs
	}
	passes := func(n, from int) []event { // n successes sent 5 ms apart from from, each answered 1 ms later
		var evs []event
		for i := range n {
			evs = append(evs, event{sent: from + 5*i, at: from + 1 + 5*i})
		}
		return evs
	}
	// closedMinute: 100 pass at once, then the window's remainder refuses the first refusal and 8 probes
	closedMinute := func() []event {
		evs := append(burst(100, 100), event{sent: 150, at: 200, refused: true})
		return append(evs, probes(301, 1001, 5001, 15001, 25001, 35001, 45001, 55001)...)
	}
	// clockSecond: 50 pass at once and the first refusal comes at 0.21 s; probes are refused until the
	// one on the clock's turn at 1.001 s, which passes with 49 more, and the window refuses again at 1.27 s
	clockSecond := func() []event {
		evs := append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}), probes(246, 357, 771)...)
		evs = append(evs, event{sent: 1001, at: 1011})
		evs = append(evs, passes(49, 1012)...)
		return append(evs, event{sent: 1260, at: 1270, refused: true})
	}
	// nginx2: nginx's limit_req at 2/s with no burst: one passes, the next is refused; passes at a pace
	// that grows, until one 0.49 s after the last is refused
	nginx2 := func() []event {
		evs := []event{{sent: 325, at: 335}, {sent: 335, at: 345, refused: true}}
		for _, sent := range []int{1615, 2633, 3448, 4100, 4622} {
			evs = append(evs, event{sent: sent, at: sent + 10})
		}
		evs = append(evs, event{sent: 5041, at: 5051, refused: true})
		for _, sent := range []int{5629, 6141, 6652} { // 0.512 s and 0.511 s apart
			evs = append(evs, event{sent: sent, at: sent + 10})
		}
		return append(evs, event{sent: 7142, at: 7152, refused: true}) // 0.49 s after the last
	}
	fixedSecond := func() []event {
		evs := append(burst(10, 300), event{sent: 330, at: 340, refused: true}, event{sent: 474, at: 484, refused: true})
		for _, sent := range []int{1020, 1135, 1223, 1294, 1351, 1397, 1434, 1464} {
			evs = append(evs, event{sent: sent, at: sent + 10})
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
		{"a first burst of one (a limiter of rate only) sizes the first wait by half burstSpan",
			[]event{{sent: 0, at: 10}, {sent: 10, at: 20, refused: true}},
			func(t *testing.T, a *adaptive) {
				want := durationCeil((burstSpan/2 + 20*time.Millisecond).Seconds())
				assert.InDelta(t, float64(want), float64(a.wait(ms(20))), float64(time.Millisecond))
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
		{"a window that refuses every probe, then passes a first burst at once, is measured over the whole episode",
			func() []event {
				// at 60 s the window reopens: 100 pass in half a second, then it refuses again
				evs := append(closedMinute(), passes(100, 60000)...)
				return append(evs, event{sent: 60500, at: 60501, refused: true})
			}(),
			func(t *testing.T, a *adaptive) {
				// 100 from empty at 0.2 s to empty at 60.501 s: 100 a minute, not 100 per the 5.5 s since the
				// last refused probe, which would pace the next window's burst away and probe through it again
				assert.True(t, a.bounded())
				assert.Zero(t, a.floor)
				assert.InDelta(t, 60.301, a.sumT, 0.001)
				assert.InDelta(t, (1-paceMargin)*(100.5/60.301), a.pace, 0.01)
			}},
		{"a window found open only a probe gap longer than the quiet after it closed is not measured over the episode",
			func() []event {
				evs := append(burst(100, 100), event{sent: 150, at: 200, refused: true})
				evs = append(evs, probes(301, 1001)...)
				// it may have reopened at 1.002 s or at 5 s: 100 over the 5.3 s episode may be a fifth of its rate
				evs = append(evs, passes(100, 5000)...)
				return append(evs, event{sent: 5500, at: 5501, refused: true})
			}(),
			func(t *testing.T, a *adaptive) {
				assert.False(t, a.bounded(), "the cycle proves a lower bound only")
				assert.InDelta(t, 99/4.5, a.floor, 0.01)
			}},
		{"a burst after a long quiet that is far below the first burst is not a window: the quiet stays out",
			func() []event {
				// a sliding counter reopens a trickle: 9 pass, then it refuses
				evs := append(closedMinute(), passes(9, 60000)...)
				return append(evs, event{sent: 60500, at: 60501, refused: true})
			}(),
			func(t *testing.T, a *adaptive) {
				assert.Greater(t, a.pace, 0.5, "9 over the 60 s episode (0.15/s) would starve the counter")
			}},
		{"a window that stays closed is probed just after the clock's second turns, not at the backoff's probe",
			// 50 pass, the first refusal at 0.21 s; probes refused at 0.246, 0.357 and 0.771 s, where the
			// backoff would wait 64 intervals (1.6 s): the second turns at 1 s, sooner than that by more
			// than the server has been closed
			append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}), probes(246, 357, 771)...),
			func(t *testing.T, a *adaptive) {
				assert.InDelta(t, (ms(1000).Add(turnoverMargin)).Sub(ms(771)).Seconds(), a.wait(ms(771)).Seconds(), 0.001)
			}},
		{"a probe refused on the clock's turn itself is followed by one an interval later, before the backoff's own",
			// a sliding counter's last window weighs whole at the turn: its first request comes back an
			// interval after it
			append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}), probes(246, 357, 771, 1011)...),
			func(t *testing.T, a *adaptive) {
				assert.Equal(t, 1, a.turnProbes)
				assert.Equal(t, 1, a.follows)
				assert.InDelta(t, 1/a.pace, a.wait(ms(1011)).Seconds(), 0.002)
			}},
		{"the probes that follow a refused one on the turn go at gaps that double",
			append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}), probes(246, 357, 771, 1011, 1037, 1089)...),
			func(t *testing.T, a *adaptive) {
				assert.Equal(t, 3, a.follows)
				assert.Equal(t, 3, a.turnProbes, "they do not grow the backoff")
				assert.InDelta(t, 4*(ms(1037).Sub(ms(1011))).Seconds(), a.followGap.Seconds(), 0.004)
				assert.InDelta(t, a.followGap.Seconds(), a.wait(ms(1089)).Seconds(), 0.001)
			}},
		{"a turn before the next of them goes instead: the window anchored at the first burst's first request ends",
			append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}), probes(246, 357, 771, 1011, 1037, 1089, 1193)...),
			func(t *testing.T, a *adaptive) {
				require.Equal(t, turnFollows, a.follows)
				// 1.2 s is less than an interval ahead: the probe goes an interval after the refusal
				assert.Equal(t, ms(1193).Add(a.interval()), a.anchoredAt)
				assert.InDelta(t, a.interval().Seconds(), a.wait(ms(1193)).Seconds(), 0.001)
			}},
		{"refused there, probes follow it too, and after turnFollows of them the backoff's probe stands",
			append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}),
				probes(246, 357, 771, 1011, 1037, 1089, 1193, 1220, 1247, 1299, 1403, 1611)...),
			func(t *testing.T, a *adaptive) {
				assert.True(t, a.clockFollowed)
				assert.True(t, a.anchorFollowed)
				assert.Equal(t, 9, a.turnProbes, "they do not grow the backoff")
				backoff := ms(771).Add(time.Duration(math.Pow(probeBackoff, 3) / a.pace * float64(time.Second)))
				assert.InDelta(t, backoff.Sub(ms(1611)).Seconds(), a.wait(ms(1611)).Seconds(), 0.002)
			}},
		{"the refused probes on and after the turns leave the backoff as it was",
			append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}),
				probes(246, 357, 771, 1011, 1037, 1089, 1193, 1220, 1247, 1299, 1403, 1611, 2386)...),
			func(t *testing.T, a *adaptive) {
				// after the backoff's own probe at 2.386 s, the gap the backoff alone would give its fifth
				// refused probe
				assert.InDelta(t, min(math.Pow(probeBackoff, 4)/a.pace, maxProbeGap.Seconds()), a.wait(ms(2386)).Seconds(), 0.002)
			}},
		{"probes follow a turn once only where the last episode's follows found nothing",
			func() []event {
				evs := append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}),
					probes(246, 357, 771, 1011, 1037, 1089, 1193, 1220, 1247, 1299, 1403, 1611, 2386)...)
				// the backoff's probe finds it open, long after the follows; the next episode's turn is
				// refused, and the one that follows it too
				evs = append(evs, passes(40, 8843)...)
				evs = append(evs, event{sent: 9040, at: 9041, refused: true})
				return append(evs, probes(9100, 9250, 9990, 10011)...)
			}(),
			func(t *testing.T, a *adaptive) {
				require.True(t, a.followsFailed)
				assert.Equal(t, 1, a.follows)
				assert.Zero(t, a.followGap, "the backoff's probe stands")
			}},
		{"a probe refused at the end of the window anchored at the burst that emptied the server is followed too",
			// the burst began at 0.36 s; the probe sent at 1.361 s (the anchored end, before the clock's turn at 2 s)
			// is refused: a counter whose periods begin at the client's first request turns there
			append(append(burst(50, 361), event{sent: 530, at: 531, refused: true}), probes(569, 693, 1011, 1362)...),
			func(t *testing.T, a *adaptive) {
				assert.Equal(t, 1, a.follows)
				assert.InDelta(t, a.followGap.Seconds(), a.wait(ms(1362)).Seconds(), 0.002)
			}},
		{"a probe on the turn is followed once an episode",
			append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}), probes(246, 357, 771, 1011, 1037, 2400, 3001)...),
			func(t *testing.T, a *adaptive) {
				// the turn at 3 s came before the backoff's probe and was refused: the backoff's stands
				assert.NotEqual(t, durationCeil(1/a.pace), a.wait(ms(3001)))
				assert.Greater(t, a.wait(ms(3001)), 100*time.Millisecond)
			}},
		{"a turn less than an interval ahead is probed an interval after the refusal, in the window it opened",
			// the probe refused at 0.99 s: the turn at 1 s is sooner than the pace allows the next request
			append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}), probes(246, 357, 990)...),
			func(t *testing.T, a *adaptive) {
				interval := time.Duration(float64(time.Second) / a.pace)
				require.Greater(t, ms(990).Add(interval), ms(1000).Add(turnoverMargin))
				assert.Equal(t, ms(990).Add(interval), a.turnAt)
				assert.InDelta(t, interval.Seconds(), a.wait(ms(990)).Seconds(), 0.002)
			}},
		{"a window that stays closed is probed a second after the first burst's first request, before the clock's turn",
			// a sliding log (or a window anchored at the client's first request) frees the first burst's
			// requests a window after they were sent: the burst began at 0.36 s; after the probe on the
			// clock's turn (1 s) was refused, 1.36 s comes before the backoff's probe
			append(append(burst(50, 361), event{sent: 530, at: 531, refused: true}), probes(569, 693, 1011)...),
			func(t *testing.T, a *adaptive) {
				require.Equal(t, ms(360), a.firstSent)
				assert.InDelta(t, ms(1360).Add(turnoverMargin).Sub(ms(1011)).Seconds(), a.wait(ms(1011)).Seconds(), 0.002)
				assert.True(t, a.turnAt.IsZero(), "not a window on the clock: a pass resumes the pace")
			}},
		{"the next episode is anchored at the first success of the cycle that ended",
			func() []event {
				evs := append(append(burst(50, 361), event{sent: 530, at: 531, refused: true}), probes(569, 693, 1011)...)
				evs = append(evs, passes(40, 1361)...)
				return append(evs, event{sent: 1560, at: 1561, refused: true})
			}(),
			func(t *testing.T, a *adaptive) {
				assert.Equal(t, ms(1361), a.epAnchor)
			}},
		{"a turn that saves less waiting than the server has been closed is not probed",
			// closed since 0.7 s; after the probe refused at 0.857 s the backoff's next is at 1.26 s, and the
			// turn at 1 s would save 0.26 s of a closure 0.3 s long: the backoff's probe goes
			append(append(burst(50, 690), event{sent: 695, at: 700, refused: true}), probes(736, 847)...),
			func(t *testing.T, a *adaptive) {
				assert.InDelta(t, math.Pow(probeBackoff, 2)/a.pace, a.wait(ms(847)).Seconds(), 0.002)
			}},
		{"a window found reopened on the clock's turn is a window on the clock: what it passed goes at its start, and nothing more until the next",
			clockSecond(),
			func(t *testing.T, a *adaptive) {
				assert.Equal(t, clockWindow{w: time.Second, cap: 50, start: ms(1000), sent: 50}, a.clock)
				assert.InDelta(t, ms(2000).Add(turnoverMargin).Sub(ms(1300)).Seconds(), a.wait(ms(1300)).Seconds(), 1e-6)
				assert.Zero(t, a.wait(ms(2001)), "the next window's requests go at once, not at the pace")
				assert.Equal(t, 1, a.window(), "its first request goes alone")
			}},
		{"a probe on the clock's turn that passes makes it a window on the clock at once, passing what the first burst did",
			append(append(burst(50, 200), event{sent: 205, at: 210, refused: true}), probes(246, 357, 771)...),
			func(t *testing.T, a *adaptive) {
				a.take(ms(1001))
				a.success(ms(1001), ms(1011))
				assert.Equal(t, clockWindow{w: time.Second, cap: 50, start: ms(1000), sent: 1, ok: 1}, a.clock)
				assert.Equal(t, 3, a.window(), "not the 8 workers at once: the window's end finds few in flight")
			}},
		{"within a window on the clock, every success lets two more in flight, up to what the window passed",
			clockSecond(),
			func(t *testing.T, a *adaptive) {
				a.take(ms(2001))
				a.success(ms(2001), ms(2011))
				assert.Equal(t, 3, a.window())
				for range 49 {
					a.take(ms(2012))
				}
				assert.Positive(t, a.wait(ms(2020)), "50 sent: the window is spent")
			}},
		{"a refusal within a window on the clock refutes it",
			clockSecond(),
			func(t *testing.T, a *adaptive) {
				a.take(ms(2001))
				a.rejected(ms(2001), ms(2011))
				assert.Zero(t, a.clock.w)
				assert.Zero(t, a.window())
			}},
		{"once the answers fit a bucket, the pace keeps between the rates they fit: a burst of one at 2/s, refused 0.49 s after a pass that came 0.511 s after the one before",
			nginx2(),
			func(t *testing.T, a *adaptive) {
				require.True(t, a.fitted)
				assert.InDelta(t, (1-fitSlack)/0.511, a.fitLo, 0.01)
				assert.InDelta(t, 1/0.490, a.fitHi, 0.01)
				assert.GreaterOrEqual(t, a.pace, (1-fitSlack)*a.fitLo)
				assert.LessOrEqual(t, a.pace, a.fitLo, "within fitTight: the least rate, which the passes proved")
				for i := range 40 {
					sent := 7700 + 520*i
					a.take(ms(sent))
					a.success(ms(sent), ms(sent+10))
				}
				assert.LessOrEqual(t, a.pace, a.fitLo, "and successes do not grow it past")
			}},
		{"a window on the clock that fits the answers as well keeps the bucket fit out",
			// a per-second window of 10: 10 passed from 0.25 s, then refusals; 8 pass from 1.02 s at a pace that
			// grows, which a bucket of 10 at 6-7/s would pass too
			fixedSecond(),
			func(t *testing.T, a *adaptive) {
				assert.False(t, a.fitted)
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

// anchoredTurn: the first end of a window of a second, a minute or an hour from the anchor that falls
// between a refused probe and the backoff's next.
func TestAnchoredTurn(t *testing.T) {
	for _, tc := range []struct {
		name            string
		anchor, now, to time.Time
		want            time.Time // zero: none
	}{
		{"a second after the anchor", ms(360), ms(700), ms(2500), ms(1360).Add(turnoverMargin)},
		{"past the second: the minute", ms(360), ms(1400), ms(70000), ms(60360).Add(turnoverMargin)},
		{"none before the backoff's probe", ms(360), ms(1400), ms(5000), time.Time{}},
		{"no anchor", time.Time{}, ms(700), ms(2500), time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := anchoredTurn(tc.anchor, tc.now, tc.to)
			assert.Equal(t, !tc.want.IsZero(), ok)
			assert.Equal(t, tc.want, got)
		})
	}
}
