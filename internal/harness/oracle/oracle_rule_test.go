package oracle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit/mockserver"
)

func TestIdealTimeRule(t *testing.T) {
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	phase := t0.Add(400 * time.Millisecond)
	p := mockserver.Policy{Limit: 5, Window: time.Second}
	cases := []struct {
		name  string
		rule  mockserver.Rule
		start time.Time
		n     int
		want  time.Duration
	}{
		// Epoch windows: 5 at 0.4 s, 5 more when the window at 1 s opens.
		{"epoch", mockserver.Rule{Algorithm: mockserver.FixedWindow, Policy: p}, phase, 10, 600 * time.Millisecond},
		// Windows through the server's start (0 s + offset 0): the same.
		{"start", mockserver.Rule{Algorithm: mockserver.FixedWindow, Policy: p, Anchor: mockserver.AnchorStart}, phase, 10, 600 * time.Millisecond},
		// A window opened by the first request lasts its whole second, and its last instant: 1 s + 1 ns.
		{"first-request", mockserver.Rule{Algorithm: mockserver.FixedWindow, Policy: p, Anchor: mockserver.AnchorFirstRequest}, phase, 10, time.Second + 1},
		{"gcra", mockserver.Rule{Algorithm: mockserver.GCRA, Policy: mockserver.Policy{Limit: 50, Window: time.Second, Burst: 10}}, t0, 30, 400 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := IdealTimeRule(tc.rule, tc.n, tc.start, t0)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			if tc.rule.Anchor == "" {
				plain, err := IdealTime(tc.rule.Algorithm, tc.rule.Policy, tc.n, tc.start)
				require.NoError(t, err)
				assert.Equal(t, plain, got, "a rule without options is IdealTime")
			}
		})
	}
}
