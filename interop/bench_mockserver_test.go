package interop

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/didip/tollbooth/v7"
	"github.com/go-chi/httprate"
	"github.com/throttled/throttled/v2"
	"github.com/throttled/throttled/v2/store/memstore"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/middleware/stdlib"
	ulmemory "github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/ratekit/ratekit/mockserver"
)

// BenchmarkMiddleware runs mockserver's Handler.Wrap beside the middlewares a user would pick instead, in one
// run: an allowed request (the limit is never reached) and a rejected one (1 request per hour, spent before
// the timer starts), each keyed by the client's IP, through httptest.NewRecorder. Compare ns/op and allocs/op
// of mockserver/* with httprate/* (the ratios in issue 13's report come from this benchmark).
func BenchmarkMiddleware(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	const huge = 1 << 30
	middlewares := []struct {
		name string
		wrap func(b *testing.B, limit int, window time.Duration) http.Handler
	}{
		{"mockserver", func(b *testing.B, limit int, window time.Duration) http.Handler {
			h, err := mockserver.NewHandler(mockserver.Config{Tiers: []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{
				{Algorithm: mockserver.SlidingWindowCounter, Policy: mockserver.Policy{Limit: int64(limit), Window: window}}}}}})
			if err != nil {
				b.Fatal(err)
			}
			return h.Wrap(ok)
		}},
		{"mockserver-httprate-profile", func(b *testing.B, limit int, window time.Duration) http.Handler {
			h, err := mockserver.NewHandler(mockserver.Config{Profile: "httprate", Tiers: []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{
				{Policy: mockserver.Policy{Limit: int64(limit), Window: window}}}}}})
			if err != nil {
				b.Fatal(err)
			}
			return h.Wrap(ok)
		}},
		{"httprate", func(b *testing.B, limit int, window time.Duration) http.Handler {
			return httprate.LimitBy(limit, window, func(r *http.Request) (string, error) {
				host, _, err := net.SplitHostPort(r.RemoteAddr) // by IP, as the others
				return host, err
			})(ok)
		}},
		{"ulule-limiter", func(b *testing.B, limit int, window time.Duration) http.Handler {
			store := ulmemory.NewStoreWithOptions(limiter.StoreOptions{Prefix: limiter.DefaultPrefix})
			return stdlib.NewMiddleware(limiter.New(store, limiter.Rate{Period: window, Limit: int64(limit)})).Handler(ok)
		}},
		{"throttled", func(b *testing.B, limit int, window time.Duration) http.Handler {
			store, err := memstore.NewCtx(65536)
			if err != nil {
				b.Fatal(err)
			}
			rl, err := throttled.NewGCRARateLimiterCtx(store, throttled.RateQuota{MaxRate: throttled.PerDuration(limit, window), MaxBurst: limit - 1})
			if err != nil {
				b.Fatal(err)
			}
			return (&throttled.HTTPRateLimiterCtx{RateLimiter: rl, VaryBy: &throttled.VaryBy{RemoteAddr: true}}).RateLimit(ok)
		}},
		{"tollbooth", func(b *testing.B, limit int, window time.Duration) http.Handler {
			return tollbooth.LimitHandler(tollbooth.NewLimiter(float64(limit)/window.Seconds(), nil).SetBurst(limit), ok)
		}},
	}
	for _, mw := range middlewares {
		for _, tt := range []struct {
			name   string
			limit  int
			window time.Duration
			want   int
		}{
			{"allowed", huge, time.Hour, http.StatusOK},
			{"rejected", 1, time.Hour, http.StatusTooManyRequests},
		} {
			b.Run(mw.name+"/"+tt.name, func(b *testing.B) {
				h := mw.wrap(b, tt.limit, tt.window)
				r := httptest.NewRequest(http.MethodGet, "/v1/items", nil)
				h.ServeHTTP(httptest.NewRecorder(), r) // spends the quota of "rejected"
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != tt.want {
						b.Fatalf("status %d, want %d", w.Code, tt.want)
					}
				}
			})
		}
	}
}
