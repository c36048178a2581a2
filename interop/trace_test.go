package interop

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratekit/ratekit/mockserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/traces from the real libraries")

// tracePeers are the in-process peers with golden traces: those that run in virtual time, at 50/s.
func tracePeers() []Peer {
	return []Peer{HTTPRate(PerSecond50), UluleMemory(PerSecond50), Throttled(PerSecond50), Tollbooth(PerSecond50),
		EchoRateLimiter(PerSecond50)}
}

// TestGoldenTraces records what each in-process library answers to each schedule, in virtual time, and
// compares it with testdata/traces (go test -run TestGoldenTraces -update rewrites them).
func TestGoldenTraces(t *testing.T) {
	for _, p := range tracePeers() {
		for _, s := range Schedules() {
			t.Run(p.Name()+"/"+s.Name, func(t *testing.T) {
				var got Trace
				synctest.Test(t, func(t *testing.T) {
					var err error
					got, err = RecordPeer(context.Background(), p, s)
					require.NoError(t, err)
				})
				path := filepath.Join("testdata", "traces", traceFile(p, s))
				if *update {
					require.NoError(t, WriteTrace(path, got))
					return
				}
				want, err := ReadTrace(path)
				require.NoError(t, err, "run go test -run TestGoldenTraces -update")
				compareTraces(t, want, got)
			})
		}
	}
}

func traceFile(p Peer, s Schedule) string {
	name := strings.NewReplacer("/s", "ps", "/min", "pm", "/", "-", " ", "-").Replace(p.Library + "/" + p.Variant + " " + p.Policy.Name + " " + s.Name)
	return strings.ReplaceAll(name, "--", "-") + ".json"
}

// compareTraces reports the first differences, request by request.
func compareTraces(t *testing.T, want, got Trace) {
	t.Helper()
	diffs := DiffTraces(want, got)
	assert.Empty(t, diffs[:min(len(diffs), 10)], "%d differences from the golden trace", len(diffs))
}

func TestDiffTraces(t *testing.T) {
	x := func(at time.Duration, status int, h ...[2]string) Exchange {
		return Exchange{At: Duration(at), Status: status, Headers: append([][2]string{}, h...)}
	}
	want := Trace{Requests: []Exchange{x(0, 200, [2]string{"Ratelimit-Remaining", "9"}), x(time.Second, 429)}}
	assert.Empty(t, DiffTraces(want, want))
	got := Trace{Requests: []Exchange{x(0, 200, [2]string{"Ratelimit-Remaining", "8"}), x(time.Second, 200), x(2*time.Second, 200)}}
	assert.Equal(t, []string{
		`request 1 at 0s: headers [["Ratelimit-Remaining" "8"]], want [["Ratelimit-Remaining" "9"]]`,
		"request 2 at 1s: status 200, want 429",
		"request 3 at 2s: extra",
	}, DiffTraces(want, got))
	assert.Equal(t, []string{"request 3 at 2s: missing"}, DiffTraces(got, Trace{Requests: got.Requests[:2]}))
	got.Requests[1].At = Duration(time.Second + time.Millisecond)
	assert.Contains(t, DiffTraces(want, got), "request 2 at 1s: sent at 1.001s")
}

// TestRecordAnyHandler: the harness records any handler, here ratekit's mock server, the way the
// differential tests will record its profiles next to the real libraries.
func TestRecordAnyHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := mockserver.Config{Dialect: mockserver.DialectXRateLimit, Tiers: []mockserver.Tier{{Name: "default",
			Rules: []mockserver.Rule{{Name: "second", Algorithm: mockserver.GCRA, Policy: mockserver.Policy{Limit: 50, Window: time.Second, Burst: 10}}}}}}
		start := InMemory(func() (http.Handler, error) { return mockserver.NewHandler(cfg) })
		s := Schedule{Name: "burst", Phase: 300 * time.Millisecond, Offsets: repeat(0, 12)}
		tr, err := Record(context.Background(), "mock gcra", start, s)
		require.NoError(t, err)
		require.Len(t, tr.Requests, 12)
		assert.Equal(t, 200, tr.Requests[0].Status)
		assert.Equal(t, 429, tr.Requests[11].Status)
		assert.NotEmpty(t, tr.Requests[0].Headers)
		again, err := Record(context.Background(), "mock gcra", start, s)
		require.NoError(t, err)
		assert.Empty(t, DiffTraces(tr, again), "a fresh handler each time: the same trace")
	})
}

// TestTraceRoundTrip: a trace reads back as it was written, durations as strings.
func TestTraceRoundTrip(t *testing.T) {
	tr := Trace{Peer: "p", Schedule: "s", Phase: Duration(300 * time.Millisecond), Requests: []Exchange{
		{At: Duration(1500 * time.Microsecond), Status: 429, Headers: [][2]string{{"Retry-After", "1"}}},
	}}
	path := filepath.Join(t.TempDir(), "t.json")
	require.NoError(t, WriteTrace(path, tr))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `{"at":"1.5ms","status":429,"headers":[["Retry-After","1"]]}`)
	back, err := ReadTrace(path)
	require.NoError(t, err)
	assert.Equal(t, tr, back)
	var bad Trace
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"phase":"soon"}`), &bad), `duration "soon"`)
}

// TestIsRateLimitHeader pins which headers a trace keeps.
func TestIsRateLimitHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Ratelimit-Limit": true, "Ratelimit-Policy": true, "Ratelimit": true, "X-Rate-Limit-Duration": true,
		"Retry-After": true, "Date": false, "Content-Type": false, "X-Request-Id": false,
	} {
		assert.Equal(t, want, IsRateLimitHeader(name), name)
	}
}

// TestRecordRealTime records a loopback peer in real time through the same harness (as the differential
// tests will record the mock server): offsets are measured, the statuses follow the schedule.
func TestRecordRealTime(t *testing.T) {
	s := Schedule{Name: "short", Phase: 200 * time.Millisecond, Offsets: concat(repeat(0, 15), []time.Duration{300e6})}
	tr, err := RecordPeer(context.Background(), Nginx(PerSecond50, true), s)
	skipIfMissing(t, err)
	require.NoError(t, err)
	require.Len(t, tr.Requests, len(s.Offsets))
	var passed int
	for _, x := range tr.Requests[:15] {
		if x.Status == 200 {
			passed++
		}
		assert.Empty(t, x.Headers, "nginx sends no rate-limit header")
	}
	// burst=10 nodelay passes 11 at once, and one more for every 20 ms the 15 requests took on this machine.
	span := time.Duration(tr.Requests[14].At - tr.Requests[0].At)
	assert.GreaterOrEqual(t, passed, 11)
	assert.LessOrEqual(t, passed, 11+int(span/(20*time.Millisecond))+1, "in %v", span)
	assert.Equal(t, 200, tr.Requests[15].Status, "300 ms later the bucket has room")
	assert.GreaterOrEqual(t, time.Duration(tr.Requests[15].At), 300*time.Millisecond)
}
