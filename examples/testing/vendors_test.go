package main

// A client test per vendor profile of mockserver: what a user of ratekit writes to check that their client
// keeps to GitHub's, OpenAI's, Anthropic's, Stripe's, Shopify's or Discord's limits before it meets the real API. Each
// runs in virtual time (synctest) through the in-memory handlerTransport, so an hour's window takes
// milliseconds.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/harness/scoreboard"
	"github.com/ratekit/ratekit/mockserver"
)

// vendorCase is one batch against one vendor profile.
type vendorCase struct {
	name    string
	profile string
	tier    string // Config.DefaultTier; "": the profile's default
	method  string
	path    string
	header  http.Header
	body    string
	n       int
	workers int
	maxWait time.Duration // the Transport's MaxWait; 0: its default (2 minutes)
	// costFunc is the Transport's CostFunc; nil: its default. A user who knows what a request costs in
	// tokens sets it, as the cases "... with CostFunc" do.
	costFunc func(*http.Request, string) int64
	// ideal is the profile's pace: when the last of the n requests can be admitted at the earliest.
	ideal time.Duration
	// slack is how much later than ideal the batch may end: one refill interval of the binding quota (a
	// client that comes back at the first instant its headers allow, rounded to the server's precision).
	slack time.Duration
	// windows is how many windows (or refills the client has to find) the batch meets: at most one
	// rejection each.
	windows int
}

// statusCounter counts the server's answers that were not 2xx, retries included.
type statusCounter struct {
	next     http.RoundTripper
	rejected atomic.Int64
	hits     atomic.Int64
}

func (c *statusCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	c.hits.Add(1)
	if err == nil && resp.StatusCode >= 300 {
		c.rejected.Add(1)
	}
	return resp, err
}

// vendorCases are the batches: each at the profile's documented numbers.
func vendorCases() []vendorCase {
	chat := `{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"Say this is a test"}]}`
	bigChat := `{"model":"gpt-4o-mini","max_tokens":20000,"messages":[{"role":"user","content":"Say this is a test"}]}`
	message := `{"model":"claude-sonnet-4-5","max_tokens":1000,"messages":[{"role":"user","content":"Hello, Claude"}]}`
	bearer := func(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }
	return []vendorCase{
		{
			// 60 per hour per IP, no token: 60 at once, then the window's end an hour after the first.
			name: "github unauthenticated", profile: mockserver.ProfileGitHub, method: http.MethodGet,
			path: "/repos/octocat/hello-world", n: 70, workers: 4, maxWait: 2 * time.Hour,
			ideal: time.Hour, slack: time.Second, windows: 1,
		},
		{
			// 5,000 per hour, but 900 per minute (15 a second) of the secondary limit: 900 at once, then
			// 100 at 15/s.
			name: "github secondary", profile: mockserver.ProfileGitHub, method: http.MethodGet, header: bearer("ghp_test"),
			path: "/repos/octocat/hello-world", n: 1000, workers: 4,
			ideal: 100 * time.Minute / 900, slack: time.Minute / 900, windows: 1,
		},
		{
			// 3 RPM: 3 at once, then one every 20 s.
			name: "openai free requests", profile: mockserver.ProfileOpenAI, tier: "free", method: http.MethodPost,
			path: "/v1/chat/completions", header: bearer("sk-test"), body: chat, n: 10, workers: 2,
			ideal: 7 * 20 * time.Second, slack: 20 * time.Second, windows: 1,
		},
		{
			// 200,000 TPM at 20,009 tokens a request: 9 at once, then one every 6.0027 s.
			name: "openai tier-1 tokens", profile: mockserver.ProfileOpenAI, method: http.MethodPost,
			path: "/v1/chat/completions", header: bearer("sk-test"), body: bigChat, n: 20, workers: 2,
			ideal: (20*20_009 - 200_000) * time.Minute / 200_000, slack: 6003 * time.Millisecond, windows: 1,
		},
		{
			// The same, with the client telling ratekit what each request costs in tokens.
			name: "openai tier-1 tokens with CostFunc", profile: mockserver.ProfileOpenAI, method: http.MethodPost,
			path: "/v1/chat/completions", header: bearer("sk-test"), body: bigChat, n: 20, workers: 2,
			costFunc: tokensCost(map[string]int64{"tokens": 20_009}),
			ideal:    (20*20_009 - 200_000) * time.Minute / 200_000, slack: 6003 * time.Millisecond, windows: 1,
		},
		{
			// 8,000 output tokens a minute at 1,000 a request: 8 at once, then one every 7.5 s.
			name: "anthropic tier-1 output tokens", profile: mockserver.ProfileAnthropic, method: http.MethodPost,
			path: "/v1/messages", header: http.Header{"X-Api-Key": {"sk-ant-test"}}, body: message, n: 16, workers: 2,
			ideal: 8 * 7500 * time.Millisecond, slack: 7500 * time.Millisecond, windows: 1,
		},
		{
			// The same, with the client telling ratekit each request's input and output tokens.
			name: "anthropic tier-1 output tokens with CostFunc", profile: mockserver.ProfileAnthropic, method: http.MethodPost,
			path: "/v1/messages", header: http.Header{"X-Api-Key": {"sk-ant-test"}}, body: message, n: 16, workers: 2,
			costFunc: tokensCost(map[string]int64{"input-tokens": 9, "output-tokens": 1000, "tokens": 1000}),
			ideal:    8 * 7500 * time.Millisecond, slack: 7500 * time.Millisecond, windows: 1,
		},
		{
			// 25 per second, no headers at all: 25 at once, then one every 40 ms.
			name: "stripe test mode", profile: mockserver.ProfileStripe, tier: "test", method: http.MethodGet,
			path: "/v1/charges", header: bearer("sk_test_123"), n: 100, workers: 4,
			ideal: 75 * 40 * time.Millisecond, slack: 40 * time.Millisecond, windows: 1,
		},
		{
			// A bucket of 40 leaking 2 a second: 40 at once, then one every 500 ms.
			name: "shopify standard", profile: mockserver.ProfileShopify, method: http.MethodGet,
			path: "/admin/api/2025-01/products.json", header: http.Header{"X-Shopify-Access-Token": {"shpat_test"}},
			n: 100, workers: 4, ideal: 60 * 500 * time.Millisecond, slack: 500 * time.Millisecond, windows: 1,
		},
		{
			// 5 messages per 5 s window: 5 at once, then 5 at each window's start.
			name: "discord messages", profile: mockserver.ProfileDiscord, method: http.MethodPost,
			path: "/channels/1/messages", header: http.Header{"Authorization": {"Bot test-token"}}, body: `{"content":"hi"}`,
			n: 20, workers: 2, ideal: 15 * time.Second, slack: 5 * time.Second, windows: 3,
		},
	}
}

// tokensCost is a CostFunc for requests of a known token cost: costs[dimension] in the dimensions it lists,
// ratekit's default in the others.
func tokensCost(costs map[string]int64) func(*http.Request, string) int64 {
	return func(req *http.Request, dim string) int64 {
		if c, ok := costs[dim]; ok {
			return c
		}
		return ratekit.DefaultCost(req, dim)
	}
}

// vendorScore is what one batch measured.
type vendorScore struct {
	completed int
	elapsed   time.Duration
	rejected  int64
	hits      int64
	firstErr  error
	latencies []time.Duration // of every request, sorted
}

// runVendorCase sends the case's batch through a ratekit Transport with its defaults (MaxWait aside, for
// hourly quotas, as its doc says) to a fresh Handler of the profile, in virtual time: call it inside a bubble.
func runVendorCase(t *testing.T, c vendorCase) vendorScore {
	api, err := mockserver.NewHandler(mockserver.Config{Profile: c.profile, DefaultTier: c.tier})
	require.NoError(t, err)
	counter := &statusCounter{next: handlerTransport{api}}
	client := &http.Client{Transport: &ratekit.Transport{Base: counter, MaxWait: c.maxWait, CostFunc: c.costFunc}}
	var (
		next  atomic.Int64
		mu    sync.Mutex
		score vendorScore
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range c.workers {
		wg.Go(func() {
			for next.Add(1) <= int64(c.n) {
				req, err := http.NewRequestWithContext(t.Context(), c.method, "https://api.test"+c.path, bytes.NewReader([]byte(c.body)))
				if err != nil {
					panic(err)
				}
				for k, v := range c.header {
					req.Header[k] = v
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				mu.Lock()
				score.latencies = append(score.latencies, time.Since(t0))
				switch {
				case err != nil:
					score.firstErr = cmpErr(score.firstErr, err)
				case resp.StatusCode == http.StatusOK:
					score.completed++
				default:
					score.firstErr = cmpErr(score.firstErr, fmt.Errorf("status %d", resp.StatusCode))
				}
				mu.Unlock()
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	score.elapsed = time.Since(start)
	slices.Sort(score.latencies)
	score.rejected, score.hits = counter.rejected.Load(), counter.hits.Load()
	return score
}

// cmpErr keeps the first error.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// knownVendorFailure is a case where ratekit does worse than the profile's pace or rejection bound today:
// the worst it measured over the runs recorded, and why.
type knownVendorFailure struct {
	rejected int64         // the most rejections recorded
	elapsed  time.Duration // the longest batch recorded
	why      string
}

// worse reports how a run measured worse than the record by more than the runs' spread (a tenth more
// rejections, at least one; 5% longer), or "" when it did not.
func (k knownVendorFailure) worse(rejected int64, elapsed time.Duration) string {
	switch {
	case rejected > k.rejected+max(k.rejected/10, 1):
		return fmt.Sprintf("%d rejections, recorded at most %d", rejected, k.rejected)
	case elapsed > k.elapsed+k.elapsed/20:
		return fmt.Sprintf("%v, recorded at most %v", elapsed, k.elapsed)
	}
	return ""
}

// knownVendorFailures are the cases where ratekit does worse than the profile's pace or rejection bound
// today, with the worst measured over several runs (the workers' interleaving varies them a little): they
// run, their misses against the bounds are logged instead of failing the test, and a run worse than the
// record fails. Remove a line when ratekit meets the bound.
var knownVendorFailures = map[string]knownVendorFailure{
	"github secondary": {rejected: 27, elapsed: 7 * time.Second, why: "16-27 rejections in 1,016-1,027 answers " +
		"(60 runs; 20-27 in 20 runs at 09b10e8), 7 s (ideal 6.67 s): the secondary limit is in no header, and its " +
		"Retry-After: 1 is 67 ms rounded up to the second"},
	"stripe test mode": {rejected: 6, elapsed: 3148 * time.Millisecond, why: "3-6 rejections in 103-106 answers, 3.05 s to " +
		"3.15 s (ideal 3 s; 3.09 s to 17.8 s, 3-7 rejections before the adaptive rate measured cycles): no headers " +
		"and no Retry-After; the rate has to be found from rejections alone, and the first burst ends with up to 4 " +
		"requests in flight"},
}

// TestRatekitKeepsToEveryVendorProfile: ratekit with its defaults completes each batch at the profile's pace
// (no later than ideal + one refill interval) with at most one rejection per window it has to learn.
// At the end it prints the scoreboard of the batches (go test -v -run TestRatekitKeepsToEveryVendorProfile),
// each scored as the contract matrix scores its cells (scoreboard.Result: goodput, rejected share).
func TestRatekitKeepsToEveryVendorProfile(t *testing.T) {
	var board []scoreboard.Result
	defer func() {
		lines := []string{"ratekit (defaults) against the vendor profiles:"}
		for _, r := range board {
			lines = append(lines, r.String())
		}
		t.Log(strings.Join(lines, "\n"))
	}()
	for _, c := range vendorCases() {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := runVendorCase(t, c)
				board = append(board, scoreboard.Result{Cell: scoreboard.Cell{Name: c.name, N: c.n}, Completed: s.completed,
					Elapsed: s.elapsed, Ideal: c.ideal, Hits: int(s.hits), Rejected: int(s.rejected), FirstErr: s.firstErr,
					P99: s.latencies[len(s.latencies)*99/100], MaxWait: s.latencies[len(s.latencies)-1]})
				t.Logf("%s: %d/%d in %v (ideal %v), rejected %d of %d answers", c.name, s.completed, c.n, s.elapsed, c.ideal, s.rejected, s.hits)
				known, isKnown := knownVendorFailures[c.name]
				check := assert.New(t)
				if isKnown {
					t.Logf("known failure: %s", known.why)
					if worse := known.worse(s.rejected, s.elapsed); worse != "" {
						t.Errorf("known failure %s got worse: %s", c.name, worse)
					}
					check = assert.New(&logOnly{t})
				}
				check.NoError(s.firstErr)
				check.Equal(c.n, s.completed, "every request completes")
				check.GreaterOrEqual(s.elapsed, c.ideal, "faster than the quota allows: the profile does not limit")
				check.LessOrEqual(s.elapsed, c.ideal+c.slack, "slower than the profile's pace")
				check.LessOrEqual(s.rejected, int64(c.windows), "more than one rejection per window learnt")
			})
		})
	}
}

// logOnly turns the assertions of a known failure into log lines.
type logOnly struct{ t *testing.T }

func (l *logOnly) Errorf(format string, args ...any) { l.t.Logf("known failure: "+format, args...) }
