package contract_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratekit/ratekit/internal/harness/scoreboard"
	"github.com/ratekit/ratekit/mockserver"
)

// The contract against servers as real ones are (REALWORLD.md): per-second policies, where every rounding to
// a whole second is as long as the behaviour itself, every public-library profile, and a first request at a
// random sub-second phase of the server's clock. All in virtual time.

// realworldSeed seeds the phases: the same seed gives the same phases, so a cell's numbers reproduce.
const realworldSeed = 20261202

// realworldPolicy is one policy of the real-world matrix, with the batch it gets.
type realworldPolicy struct {
	name   string
	policy mockserver.Policy
	n      int
}

// realworldPolicies: three per-second policies and one per-minute one. N keeps every cell's virtual time to
// seconds or a few minutes, and the whole test within its budget under -race on 2 cores.
var realworldPolicies = []realworldPolicy{
	{"50/s burst 10", mockserver.Policy{Limit: 50, Window: time.Second, Burst: 10}, 200},
	{"10/s", mockserver.Policy{Limit: 10, Window: time.Second}, 100},
	{"2/s", mockserver.Policy{Limit: 2, Window: time.Second}, 40},
	{"100/min burst 10", mockserver.Policy{Limit: 100, Window: time.Minute, Burst: 10}, 300},
}

// realworldPhase is the cell's seeded sub-second phase.
func realworldPhase(label string) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(label))
	return time.Duration(rand.New(rand.NewPCG(realworldSeed, h.Sum64())).Int64N(int64(time.Second)))
}

// realworldCells: every profile at every policy, then every windowed or bucket algorithm at the per-second
// policies in a dialect that talks (ietf, x-ratelimit) and the silent one.
func realworldCells() []scoreboard.Cell {
	var cells []scoreboard.Cell
	add := func(c scoreboard.Cell, p realworldPolicy) {
		c.Policy, c.N, c.Workers, c.Latency = p.policy, p.n, 8, 10*time.Millisecond
		if c.Profile == mockserver.ProfileHTTPRate || c.Profile == mockserver.ProfileUluleLimiter ||
			(c.Profile == "" && !hasBurst(c.Algorithm)) {
			c.Policy.Burst = 0 // windows have no burst
		}
		c.Name = c.Label() + " " + p.name
		if c.RejectStatus != 0 {
			c.Name += fmt.Sprintf(" (%d)", c.RejectStatus)
		}
		c.Phase = realworldPhase(c.Name)
		cells = append(cells, c)
	}
	for _, profile := range mockserver.Profiles() {
		for _, p := range realworldPolicies {
			add(scoreboard.Cell{Profile: profile}, p)
			if profile == mockserver.ProfileNginx {
				add(scoreboard.Cell{Profile: profile, RejectStatus: 429}, p) // limit_req_status 429
			}
		}
	}
	for _, alg := range mockserver.Algorithms() {
		if alg == mockserver.Concurrency {
			continue // no window: the per-second policies do not apply
		}
		for _, dialect := range []string{mockserver.DialectIETF, mockserver.DialectXRateLimit, mockserver.DialectNone} {
			for _, p := range realworldPolicies[:3] {
				add(scoreboard.Cell{Algorithm: alg, Dialect: dialect}, p)
			}
		}
	}
	return cells
}

// hasBurst reports whether an algorithm takes Policy.Burst.
func hasBurst(alg string) bool {
	switch alg {
	case mockserver.TokenBucket, mockserver.LeakyBucket, mockserver.LeakyBucketQueue, mockserver.GCRA:
		return true
	}
	return false
}

// realworldBounds are the matrix's own bounds: the profiles that send headers, and the algorithms in a
// dialect that talks, must meet headerBounds; nginx and the silent dialect silentBounds.
func realworldBounds(c scoreboard.Cell) bounds {
	if c.Profile == mockserver.ProfileNginx || (c.Profile == "" && c.Dialect == mockserver.DialectNone) {
		return silentBounds
	}
	b := headerBounds
	if c.Profile == "" && c.Algorithm == mockserver.LeakyBucketQueue {
		b.noRejections = true
	}
	return b
}

// knownFailure is what a cell that misses its bounds measured when it was recorded: the worst of five runs.
type knownFailure struct {
	goodput  float64 // the lowest of the runs
	rejected float64 // share of the answers, the highest of the runs
	// completed, when above 0, is how many requests the cell completed when recorded, fewer than N: the
	// client gave up on the others (nginx's 503 without Retry-After). The cell must complete at least
	// that many (the fewest of five runs, less a quarter for the runs' spread); every other known failure
	// must complete all of them.
	completed int
}

// knownFailureSlack is how much worse than its record a known failure may measure before the test fails: a
// known failure is a floor, not a licence. One more rejection in a 40-request cell is 2.4 points; the
// goodput of the cells whose 8 workers interleave differently from run to run moves by less than 0.05
// beyond its worst recorded run.
var knownFailureSlack = knownFailure{goodput: 0.05, rejected: 0.03}

// knownFailures are the cells that miss their bounds today, with the worst of five runs when they were
// recorded (seed realworldSeed; 8 workers at one virtual instant interleave differently from run to run,
// so a few cells move by several percent). They still run; their numbers are logged beside the bound; a
// cell that starts passing says so loudly, to be moved out of this table, and a cell that measures worse
// than its record by more than knownFailureSlack fails. The issue "Estimate the quota from imprecise
// headers" is to empty it.
//
// Recorded 2026-12-03 at e8dfa42; the two cells whose interleaving moves them most were sampled again under
// -race (ulule-limiter 50/s 0.450-0.838 goodput in 30 runs, sliding-window-counter/none 50/s 0.536-0.749 in
// 12), and hold the lowest. Earlier records of three cells were wrong, not regressions: every commit
// back to 28df303 measures leaky-bucket-queue 2/s at 0.746 (recorded 0.882) and sliding-window-counter/ietf
// 2/s at 7/47 rejected (recorded 1/41). The silent cells traded goodput for fewer rejections when the
// adaptive rate began measuring cycles (sliding-window-log/none 2/s 0.627 -> 0.472 goodput, 20.5% -> 9.1%
// rejected). Raised on 2026-12-03 when a silent server's closed window began to be probed on the clock's
// turn and a window found reopened there to be sent its whole count at its start (adaptive.go clockTurn,
// clockWindow), worst of six runs, five under -race: fixed-window/none 50/s 0.495 -> 0.973 goodput and
// 13.8% -> 5.2% rejected, 10/s 0.783 -> 0.996 and 9.9% -> 8.3%; sliding-window-counter/none 10/s
// 0.632 -> 0.664 (its 50/s cell still measures 0.755 or, in one run of five under -race, 0.536);
// sliding-window-log/none 10/s measures 0.598 but 0.499 in one run of five under -race (0.525 recorded
// before, in idle runs), which is what it holds. Raised on 2026-12-03 when the silent server's answers began
// to be fitted to a token bucket (bucket_fit.go), worst of nine runs, eight under -race: nginx 10/s
// 0.329 -> 0.636 goodput, nginx 2/s 0.702 -> 0.818; token-bucket, gcra and leaky-bucket/none 2/s 11.1% ->
// 7.0% rejected (0.954 -> 0.949 goodput; leaky-bucket's 4.8% now passes); sliding-window-counter/none 2/s
// 16.7% -> 9.1% rejected (0.980 -> 0.972); sliding-window-log/none 2/s 0.472 -> 0.460 at 9.1% (7.0% in
// most runs). Raised again when a fixed window's delays began to be read as bounds of one end (window.go
// keepsEnd), worst of nine runs, eight under -race: fixed-window/ietf 50/s 0.746 -> 0.778, 10/s 0.901 ->
// 0.917, 2/s 0.946 -> 0.952; fixed-window/x-ratelimit 0.842 -> 0.879, 0.927 -> 0.943, 0.942 -> 0.951;
// sliding-window-log (ietf and x-ratelimit) 50/s 0.896 -> 0.906 goodput at one more refusal (0.5% ->
// 1.0%), 2/s 0.954 -> 0.963; sliding-window-counter/x-ratelimit 2/s 0.980 -> 0.984. ulule-limiter 50/s
// (0.450-0.838 with 11-13% refused) passes since a floored epoch that passed is kept as that epoch, not
// read as a reset of now (bucket.go sync): 0.953 with 1.0% refused in nine runs of nine. fixed-window/ietf
// and x-ratelimit 50/s and 10/s pass (0.969-0.996 with 1 refusal, nine runs of nine) since a delay's
// window found fixed is tried on the clock's turn before the end its answers bound (window.go clockEnd).
// leaky-bucket-queue 2/s (0.746 in both dialects) passes at 0.999 since a report that a queue held is read
// as of when the server counted the request (observe.go countedAt). A refusal of a request a grown
// bucket's refill let through holds its rate below (bucket.go refuteRate): tollbooth 100/min 14.8% ->
// 1.3% refused (0.994 -> 0.998), sliding-window-counter/ietf 2/s 14.9% -> 9.1% (0.994 -> 0.962). A first
// burst of one sizes the first wait by half burstSpan (adaptive.go): profile nginx 10/s 0.636 -> 0.781
// (passes, 7 runs of 7), 2/s 0.818 -> 0.879. A silent server's probe refused on the clock's turn itself is
// followed by one an interval later, and a turn less than an interval ahead is probed an interval after the
// refusal (adaptive.go), worst of nine runs, eight under -race: sliding-window-counter/none 50/s 0.536 ->
// 0.964 goodput, 9.9% -> 7.4% refused, 10/s 0.664 -> 0.950, 9.1% -> 6.5%; fixed-window/none 2/s passes
// (0.763 / 9.1% -> 0.999 / 4.8%). A window's end counted from the first request of the burst that emptied
// a silent server is probed before the backoff's (adaptive.go anchoredTurn), worst of nine runs, eight
// under -race: sliding-window-log/none 50/s 0.456 -> 0.722 goodput, 13.8% -> 9.9% refused; 10/s 0.499 ->
// 0.639, 7.4% -> 5.7%; 2/s 0.460 -> 0.605. A sliding log found holding the key's own passes is paced by them
// (log.go), nine runs of nine, seven under -race: sliding-window-log/ietf and x-ratelimit 50/s 0.906 ->
// 0.934 goodput, 1.0% -> 0.5% refused.
var knownFailures = map[string]knownFailure{
	"profile httprate 2/s":                         {goodput: 0.514, rejected: 0.024},
	"profile ulule-limiter 10/s":                   {goodput: 0.986, rejected: 0.020},
	"profile ulule-limiter 2/s":                    {goodput: 0.988, rejected: 0.048},
	"profile tollbooth 100/min burst 10":           {goodput: 0.998, rejected: 0.013},
	"profile nginx 2/s":                            {goodput: 0.879, rejected: 0.070},
	"profile nginx 2/s (429)":                      {goodput: 0.879, rejected: 0.070},
	"fixed-window/ietf 2/s":                        {goodput: 0.952, rejected: 0.024},
	"fixed-window/x-ratelimit 2/s":                 {goodput: 0.951, rejected: 0.024},
	"fixed-window/none 50/s burst 10":              {goodput: 0.973, rejected: 0.052},
	"fixed-window/none 10/s":                       {goodput: 0.996, rejected: 0.083},
	"sliding-window-log/ietf 50/s burst 10":        {goodput: 0.934, rejected: 0.005},
	"sliding-window-log/ietf 2/s":                  {goodput: 0.963, rejected: 0.024},
	"sliding-window-log/x-ratelimit 50/s burst 10": {goodput: 0.934, rejected: 0.005},
	"sliding-window-log/x-ratelimit 2/s":           {goodput: 0.963, rejected: 0.024},
	"sliding-window-log/none 50/s burst 10":        {goodput: 0.722, rejected: 0.099},
	"sliding-window-log/none 10/s":                 {goodput: 0.639, rejected: 0.057},
	"sliding-window-log/none 2/s":                  {goodput: 0.605, rejected: 0.091},
	"sliding-window-counter/ietf 2/s":              {goodput: 0.962, rejected: 0.091},
	"sliding-window-counter/x-ratelimit 10/s":      {goodput: 0.938, rejected: 0.010},
	"sliding-window-counter/x-ratelimit 2/s":       {goodput: 0.984, rejected: 0.024},
	"sliding-window-counter/none 50/s burst 10":    {goodput: 0.964, rejected: 0.074},
	"sliding-window-counter/none 10/s":             {goodput: 0.950, rejected: 0.065},
	"sliding-window-counter/none 2/s":              {goodput: 0.972, rejected: 0.091},
	"token-bucket/none 2/s":                        {goodput: 0.949, rejected: 0.070},
	"gcra/none 2/s":                                {goodput: 0.949, rejected: 0.070},
}

// realworldRow is one line of the summary table.
type realworldRow struct {
	label            string
	goodput          float64
	rejected, hits   int
	bound            bounds
	known, passing   bool
	completed, total int
}

func TestContractRealWorld(t *testing.T) {
	var (
		mu   sync.Mutex
		rows []realworldRow
	)
	t.Cleanup(func() { logRealWorldTable(t, rows) })
	for _, c := range realworldCells() {
		t.Run(c.Label(), func(t *testing.T) {
			var r scoreboard.Result
			synctest.Test(t, func(t *testing.T) {
				var err error
				if r, err = scoreboard.Run(context.Background(), c, ratekitClient); err != nil {
					t.Fatal(err)
				}
			})
			b := realworldBounds(c)
			_, known := knownFailures[c.Label()]
			passing := boundsHold(r, b)
			mu.Lock()
			rows = append(rows, realworldRow{label: c.Label(), goodput: r.Goodput(), rejected: r.Rejected, hits: r.Hits,
				bound: b, known: known, passing: passing, completed: r.Completed, total: c.N})
			mu.Unlock()
			t.Logf("%v (phase %v)", r, c.Phase.Round(time.Millisecond))
			switch {
			case !known:
				checkBounds(t, r, b)
			case passing:
				t.Logf("KNOWN FAILURE NOW PASSES: %s: goodput %.3f (bound %.2f), rejected %.1f%% (bound %.0f%%); "+
					"recorded %+v: remove it from knownFailures", c.Label(), r.Goodput(), b.minGoodput,
					100*r.RejectedShare(), 100*b.maxRejected, knownFailures[c.Label()])
			default:
				k := knownFailures[c.Label()]
				switch {
				case k.completed > 0 && r.Completed < k.completed:
					t.Errorf("known failure %s: %d of %d requests completed, fewer than the %d recorded (first error: %v)",
						c.Label(), r.Completed, c.N, k.completed, r.FirstErr)
				case k.completed == 0 && r.Completed != c.N:
					t.Errorf("known failure %s: %d of %d requests completed (first error: %v): it must still complete every request",
						c.Label(), r.Completed, c.N, r.FirstErr)
				}
				if r.Goodput() < k.goodput-knownFailureSlack.goodput {
					t.Errorf("known failure %s got worse: goodput %.3f, recorded %.3f (slack %.2f)",
						c.Label(), r.Goodput(), k.goodput, knownFailureSlack.goodput)
				}
				if r.RejectedShare() > k.rejected+knownFailureSlack.rejected {
					t.Errorf("known failure %s got worse: %.1f%% rejected, recorded %.1f%% (slack %.0f points)",
						c.Label(), 100*r.RejectedShare(), 100*k.rejected, 100*knownFailureSlack.rejected)
				}
				t.Logf("known failure: goodput %.3f (bound %.2f), rejected %d/%d = %.1f%% (bound %.0f%%), %d/%d done; recorded %+v",
					r.Goodput(), b.minGoodput, r.Rejected, r.Hits, 100*r.RejectedShare(), 100*b.maxRejected, r.Completed, c.N, k)
			}
		})
	}
}

// boundsHold reports whether r meets b (checkBounds without failing).
func boundsHold(r scoreboard.Result, b bounds) bool {
	return (!b.completeAlways || r.Completed == r.Cell.N) && r.Goodput() >= b.minGoodput &&
		r.RejectedShare() <= b.maxRejected && (!b.noRejections || r.Rejected == 0)
}

// logRealWorldTable prints every cell's goodput and rejections beside its bound.
func logRealWorldTable(t *testing.T, rows []realworldRow) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-52s %7s %6s %14s %7s  %s\n", "cell", "goodput", "bound", "rejected", "max", "status")
	for _, r := range rows {
		status := "ok"
		switch {
		case r.known && r.passing:
			status = "KNOWN FAILURE NOW PASSES"
		case r.known:
			status = "known failure"
		case !r.passing:
			status = "FAIL"
		}
		share := 0.0
		if r.hits > 0 {
			share = float64(r.rejected) / float64(r.hits)
		}
		fmt.Fprintf(&b, "%-52s %7.3f %6.2f %5d/%-4d %4.1f%% %6.0f%%  %s (%d/%d done)\n", r.label, r.goodput, r.bound.minGoodput,
			r.rejected, r.hits, 100*share, 100*r.bound.maxRejected, status, r.completed, r.total)
	}
	t.Log(b.String())
}
