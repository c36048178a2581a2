package idlemap

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSweepForgetsIdleEntriesAQuarterOfTheTimeoutApart(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const timeout = 4 * time.Minute
	lastUse := map[string]time.Time{"old": t0, "new": t0.Add(3 * time.Minute)}
	idleAt := func(now time.Time) func(time.Time) bool {
		return func(used time.Time) bool { return now.Sub(used) >= timeout }
	}
	var s Sweeper
	for _, step := range []struct {
		at    time.Duration
		swept bool
		left  []string
	}{
		{0, true, []string{"new", "old"}},                 // the first call sweeps; nothing is idle
		{30 * time.Second, false, []string{"new", "old"}}, // less than a quarter since: no sweep
		{4 * time.Minute, true, []string{"new"}},          // "old" unused for 4 minutes
		{4*time.Minute + 59*time.Second, false, []string{"new"}},
		{7 * time.Minute, true, []string{}}, // "new" too
	} {
		now := t0.Add(step.at)
		assert.Equal(t, step.swept, Sweep(&s, lastUse, now, timeout, idleAt(now)), "at %v: swept", step.at)
		var left []string
		for k := range lastUse {
			left = append(left, k)
		}
		assert.ElementsMatch(t, step.left, left, "at %v: entries left", step.at)
	}
}
