package mockserver_test

import (
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// scrape returns the text of h's /metrics.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	w := get(h, "/metrics")
	wantStatus(t, w, http.StatusOK)
	return w.Body.String()
}

// wantMetric fails the test when h's /metrics has no line equal to line.
func wantMetric(t *testing.T, h http.Handler, lines ...string) {
	t.Helper()
	text := scrape(t, h)
	for _, line := range lines {
		found := false
		for _, l := range strings.Split(text, "\n") {
			if l == line {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no metric line %q in:\n%s", line, text)
		}
	}
}

func TestMetricsCountRequestsWaitsKeysAndRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, mockserver.Config{
			Key: mockserver.KeyAPIKey,
			Tiers: []mockserver.Tier{
				{Name: "free", Rules: []mockserver.Rule{fixedWindow("minute", 2, time.Minute)}},
				{Name: "pro", Keys: []string{"k-pro"}, Rules: []mockserver.Rule{{Name: "burst", Algorithm: mockserver.TokenBucket,
					Policy: mockserver.Policy{Limit: 10, Window: time.Second}}}},
			},
			Routes:      []mockserver.Route{{Pattern: "/search", Cost: 1}},
			CostHeaders: map[string]string{"requests": "X-Cost"},
		})
		for range 3 {
			get(h, "/search", "X-API-Key", "k-free")
		}
		get(h, "/other", "X-API-Key", "k-free2")
		get(h, "/other", "X-API-Key", "k-pro")
		get(h, "/other")                                         // no key: 401
		get(h, "/other", "X-API-Key", "k-pro", "X-Cost", "lots") // 400
		wantMetric(t, h,
			`mockserver_requests_total{algorithm="fixed-window",result="allowed",route="/search",rule="minute",tier="free"} 2`,
			`mockserver_requests_total{algorithm="fixed-window",result="rejected",route="/search",rule="minute",tier="free"} 1`,
			`mockserver_requests_total{algorithm="fixed-window",result="allowed",route="other",rule="minute",tier="free"} 1`,
			`mockserver_requests_total{algorithm="token-bucket",result="allowed",route="other",rule="burst",tier="pro"} 1`,
			`mockserver_requests_total{algorithm="token-bucket",result="rejected",route="/search",rule="burst",tier="pro"} 0`,
			`mockserver_wait_seconds_count{kind="retry_after",tier="free"} 1`,
			`mockserver_wait_seconds_sum{kind="retry_after",tier="free"} 60`,
			`mockserver_wait_seconds_bucket{kind="retry_after",tier="free",le="60"} 1`,
			`mockserver_wait_seconds_bucket{kind="retry_after",tier="free",le="30"} 0`,
			`mockserver_keys 3`,
			`mockserver_invalid_requests_total{reason="missing_key"} 1`,
			`mockserver_invalid_requests_total{reason="bad_cost"} 1`,
			`mockserver_store_failures_total{mode="fail-open"} 0`,
		)
	})
}

func TestMetricsOfTheQueueCountDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, oneTier(mockserver.Rule{Algorithm: mockserver.LeakyBucketQueue,
			Policy: mockserver.Policy{Limit: 2, Window: time.Second, Burst: 4}}))
		done := make(chan struct{})
		for range 3 {
			go func() { get(h, "/"); done <- struct{}{} }()
			synctest.Wait()
		}
		for range 3 {
			<-done
		}
		wantMetric(t, h,
			`mockserver_wait_seconds_count{kind="delay",tier="default"} 2`, // the first request was not held
			`mockserver_wait_seconds_sum{kind="delay",tier="default"} 1.5`,
		)
	})
}

func TestMetricsRegistriesAreSeparatePerHandler(t *testing.T) {
	a := newHandler(t, mockserver.Config{})
	b := newHandler(t, mockserver.Config{})
	get(a, "/")
	wantMetric(t, a, `mockserver_requests_total{algorithm="fixed-window",result="allowed",route="other",rule="minute",tier="default"} 1`)
	wantMetric(t, b, `mockserver_requests_total{algorithm="fixed-window",result="allowed",route="other",rule="minute",tier="default"} 0`)
}

func TestMetricsPathCanMoveOrBeTurnedOff(t *testing.T) {
	h := newHandler(t, mockserver.Config{MetricsPath: "/internal/metrics", StatsPath: "-", ResetPath: "-"})
	if w := get(h, "/internal/metrics"); !strings.Contains(w.Body.String(), "mockserver_requests_total") {
		t.Errorf("moved metrics path: %s", w.Body)
	}
	// Turned off or moved away: plain rate-limited paths of the API now.
	wantBody(t, get(h, "/_stats"), `{"key":"192.0.2.1","tier":"default","cost":1,"remaining":59}`)
	wantBody(t, get(h, "/metrics"), `{"key":"192.0.2.1","tier":"default","cost":1,"remaining":58}`)
	if w := get(h.MetricsHandler(), "/"); !strings.Contains(w.Body.String(), "mockserver_keys 1") {
		t.Errorf("MetricsHandler: %s", w.Body)
	}
}
