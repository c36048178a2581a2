package mockserver_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// statsOf fetches and decodes h's /_stats (with query, e.g. "?key=k").
func statsOf(t *testing.T, h http.Handler, query string) map[string]any {
	t.Helper()
	w := get(h, "/_stats"+query)
	wantStatus(t, w, http.StatusOK)
	var v map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("/_stats body %s: %v", w.Body, err)
	}
	return v
}

func TestStatsReportCountsAndRuleStatePerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, RawKeys: true,
			Tiers: oneTier(fixedWindow("minute", 2, time.Minute), fixedWindow("day", 100, 24*time.Hour)).Tiers})
		time.Sleep(15 * time.Second)
		for range 3 {
			get(h, "/", "X-API-Key", "k1")
		}
		get(h, "/", "X-API-Key", "k0")
		w := get(h, "/_stats?key=k1")
		wantBody(t, w, `{"now":"2000-01-01T00:00:15Z","keys":[{"key":"k1","tier":"default","allowed":2,"rejected":1,"rules":[`+
			`{"rule":"minute","algorithm":"fixed-window","dimension":"requests","limit":2,"would_allow":false,"remaining":0,"reset":"2000-01-01T00:01:00Z","reset_seconds":45,"retry_after_seconds":45},`+
			`{"rule":"day","algorithm":"fixed-window","dimension":"requests","limit":100,"would_allow":true,"remaining":97,"reset":"2000-01-02T00:00:00Z","reset_seconds":86385,"retry_after_seconds":0}]}],`+
			`"tracked_keys":2,"max_keys":10000,"evicted_keys":0}`)

		all := statsOf(t, h, "")
		keys := all["keys"].([]any)
		if len(keys) != 2 || keys[0].(map[string]any)["key"] != "k0" || keys[1].(map[string]any)["key"] != "k1" {
			t.Errorf("keys %v, want k0 and k1 in order", keys)
		}
		wantStatus(t, do(h, http.MethodPost, "/_stats"), http.StatusMethodNotAllowed)
	})
}

func TestStatsMemoryIsBounded(t *testing.T) {
	h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, RawKeys: true, StatsMaxKeys: 3})
	for _, k := range []string{"a", "b", "c", "a", "d", "e"} {
		get(h, "/", "X-API-Key", k)
	}
	s := statsOf(t, h, "")
	var keys []string
	for _, k := range s["keys"].([]any) {
		keys = append(keys, k.(map[string]any)["key"].(string))
	}
	// b and c were the least recently seen when d and e arrived.
	if len(keys) != 3 || keys[0] != "a" || keys[1] != "d" || keys[2] != "e" {
		t.Errorf("kept %v, want [a d e]", keys)
	}
	if s["tracked_keys"] != 3.0 || s["evicted_keys"] != 2.0 {
		t.Errorf("tracked %v evicted %v, want 3 and 2", s["tracked_keys"], s["evicted_keys"])
	}
}

func TestResetForgetsOneKeyOrAll(t *testing.T) {
	h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, RawKeys: true, Dialect: mockserver.DialectXRateLimit,
		Tiers: oneTier(fixedWindow("hour", 1, time.Hour)).Tiers})
	for _, k := range []string{"a", "b"} {
		get(h, "/", "X-API-Key", k)
		wantStatus(t, get(h, "/", "X-API-Key", k), http.StatusTooManyRequests)
	}
	wantStatus(t, get(h, "/_reset?key=a"), http.StatusMethodNotAllowed)
	w := do(h, http.MethodPost, "/_reset?key=a")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `{"reset":"key","key":"a"}`)
	wantStatus(t, get(h, "/", "X-API-Key", "a"), http.StatusOK)
	wantStatus(t, get(h, "/", "X-API-Key", "b"), http.StatusTooManyRequests)
	if s := statsOf(t, h, "?key=a"); s["keys"].([]any)[0].(map[string]any)["rejected"] != 0.0 {
		t.Errorf("stats of a after its reset: %v", s)
	}

	wantBody(t, do(h, http.MethodPost, "/_reset"), `{"reset":"all"}`)
	wantStatus(t, get(h, "/", "X-API-Key", "b"), http.StatusOK)
	if s := statsOf(t, h, ""); s["tracked_keys"] != 1.0 {
		t.Errorf("after resetting all, stats track %v keys, want 1 (b, just now)", s["tracked_keys"])
	}
}
