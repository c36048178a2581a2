package mockserver_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// BenchmarkHandler measures the handler's cost per allowed request in every dialect: key, tier, costs, the
// memory store's decision, the headers, and the built-in endpoint's JSON body (httptest.NewRecorder included).
// The limit is so high that every request is allowed.
func BenchmarkHandler(b *testing.B) {
	rule := mockserver.Rule{Name: "second", Algorithm: mockserver.TokenBucket, Policy: mockserver.Policy{Limit: 1 << 40, Window: time.Second}}
	for _, dialect := range mockserver.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			h := newHandler(b, mockserver.Config{Dialect: dialect, Tiers: []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{rule}}}})
			r := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
	b.Run("middleware/ietf/two-rules/api-key", func(b *testing.B) {
		day := mockserver.Rule{Name: "day", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 1 << 40, Window: 24 * time.Hour}}
		h := newHandler(b, mockserver.Config{Key: mockserver.KeyAPIKey, Tiers: []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{rule, day}}},
			Routes: []mockserver.Route{{Pattern: "/search", Cost: 5}, {Pattern: "/export/", Cost: 50}}})
		next := h.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		r := httptest.NewRequest(http.MethodGet, "/search", nil)
		r.Header.Set("X-API-Key", "k1")
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			next.ServeHTTP(w, r)
		}
	})
	b.Run("baseline/recorder-only", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
		h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
	})
}
