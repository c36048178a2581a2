package mockserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// newHandler builds a Handler from cfg or fails the test.
func newHandler(t testing.TB, cfg mockserver.Config) *mockserver.Handler {
	t.Helper()
	h, err := mockserver.NewHandler(cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h
}

// request builds a request from httptest.NewRequest (RemoteAddr 192.0.2.1:1234) with header pairs.
func request(method, target string, header ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

// do serves a request through h and returns the recorded response.
func do(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request(method, target, header...))
	return w
}

// get is do with GET.
func get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	return do(h, http.MethodGet, target, header...)
}

// fixedWindow is a fixed-window rule of limit per window.
func fixedWindow(name string, limit int64, window time.Duration) mockserver.Rule {
	return mockserver.Rule{Name: name, Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: limit, Window: window}}
}

// oneTier is a Config whose only tier has rules.
func oneTier(rules ...mockserver.Rule) mockserver.Config {
	return mockserver.Config{Tiers: []mockserver.Tier{{Name: "default", Rules: rules}}}
}

// wantStatus fails the test when w's status is not want.
func wantStatus(t *testing.T, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d; body %s", w.Code, want, w.Body)
	}
}

// wantBody fails the test when w's body (without its final newline) is not want.
func wantBody(t *testing.T, w *httptest.ResponseRecorder, want string) {
	t.Helper()
	if got := strings.TrimSuffix(w.Body.String(), "\n"); got != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
}

// wantHeader fails the test when w's header name does not have exactly the value want.
func wantHeader(t *testing.T, w *httptest.ResponseRecorder, name, want string) {
	t.Helper()
	got := w.Result().Header.Values(name)
	if len(got) != 1 || got[0] != want {
		t.Fatalf("%s: got %q, want %q", name, got, want)
	}
}

func TestEndpointReportsKeyTierRouteCostAndRemaining(t *testing.T) {
	h := newHandler(t, mockserver.Config{Routes: []mockserver.Route{{Pattern: "/search", Cost: 5}}})
	w := get(h, "/search?q=x")
	wantStatus(t, w, http.StatusOK)
	wantHeader(t, w, "Content-Type", "application/json")
	wantBody(t, w, `{"key":"192.0.2.1","tier":"default","route":"/search","cost":5,"remaining":55}`)

	w = get(h, "/anything/else")
	wantBody(t, w, `{"key":"192.0.2.1","tier":"default","cost":1,"remaining":54}`)
}

func TestZeroConfigLimitsEachIPTo60PerMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, mockserver.Config{})
		for range 60 {
			wantStatus(t, get(h, "/"), http.StatusOK)
		}
		w := get(h, "/")
		wantStatus(t, w, http.StatusTooManyRequests)
		wantHeader(t, w, "Retry-After", "60")
		wantBody(t, w, `{"error":"rate_limited","message":"rate limit exceeded: rule \"minute\" of tier \"default\" allows 60 requests per 1m0s; retry in 60 s","retry_after":60}`)
		other := request(http.MethodGet, "/")
		other.RemoteAddr = "198.51.100.7:4000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, other)
		wantStatus(t, rec, http.StatusOK) // another client has its own bucket

		time.Sleep(time.Minute)
		wantStatus(t, get(h, "/"), http.StatusOK)
	})
}

// TestTiers checks free, pro and enterprise keys against their own rules, and that a rejection consumes
// nothing in the tier's other rules (check all, then commit), as the ietf headers show.
func TestTiers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, mockserver.Config{
			Key: mockserver.KeyAPIKey,
			Tiers: []mockserver.Tier{
				{Name: "free", Rules: []mockserver.Rule{fixedWindow("minute", 3, time.Minute)}},
				{Name: "pro", Keys: []string{"k-pro"}, Rules: []mockserver.Rule{fixedWindow("minute", 6, time.Minute)}},
				{Name: "enterprise", Keys: []string{"k-ent"}, Rules: []mockserver.Rule{
					fixedWindow("minute", 10, time.Minute), fixedWindow("day", 12, 24*time.Hour)}},
			},
		})
		allowed := func(key string, n int) int {
			for i := range n {
				if w := get(h, "/", "X-API-Key", key); w.Code != http.StatusOK {
					return i
				}
			}
			return n
		}
		if n := allowed("k-unlisted", 10); n != 3 {
			t.Errorf("free (default tier) key: %d allowed, want 3", n)
		}
		if n := allowed("k-pro", 10); n != 6 {
			t.Errorf("pro key: %d allowed, want 6", n)
		}
		if n := allowed("k-ent", 15); n != 10 {
			t.Errorf("enterprise key, first minute: %d allowed, want 10", n)
		}
		w := get(h, "/", "X-API-Key", "k-ent")
		wantStatus(t, w, http.StatusTooManyRequests)
		// Six rejections so far: none of them consumed the daily quota.
		wantHeader(t, w, "RateLimit", `"minute";r=0;t=60, "day";r=2;t=86400`)

		time.Sleep(time.Minute)
		if n := allowed("k-ent", 5); n != 2 {
			t.Errorf("enterprise key, second minute: %d allowed, want 2 (the daily quota)", n)
		}
		w = get(h, "/", "X-API-Key", "k-ent")
		wantStatus(t, w, http.StatusTooManyRequests)
		wantHeader(t, w, "RateLimit", `"minute";r=8;t=60, "day";r=0;t=86340`)
		wantHeader(t, w, "Retry-After", "86340")
	})
}

func TestRouteCostsAndCostHeaders(t *testing.T) {
	h := newHandler(t, mockserver.Config{
		Dialect:     mockserver.DialectXRateLimit,
		Tiers:       oneTier(fixedWindow("minute", 60, time.Minute)).Tiers,
		Routes:      []mockserver.Route{{Pattern: "/search", Cost: 5}, {Pattern: "/export/", Cost: 50}, {Pattern: "/huge", Cost: 61}},
		CostHeaders: map[string]string{"requests": "X-Cost"},
	})
	steps := []struct {
		target, cost string
		status       int
		remaining    string
	}{
		{"/export/all.csv", "", 200, "10"},
		{"/search", "", 200, "5"},
		{"/other", "3", 200, "2"},  // the header sets the cost
		{"/search", "", 429, "2"},  // 5 > 2: rejected, nothing consumed
		{"/search", "2", 200, "0"}, // the header overrides the route's cost
	}
	for i, s := range steps {
		var hdr []string
		if s.cost != "" {
			hdr = []string{"X-Cost", s.cost}
		}
		w := get(h, s.target, hdr...)
		if w.Code != s.status || w.Header().Get("X-RateLimit-Remaining") != s.remaining {
			t.Errorf("step %d %s (cost header %q): status %d remaining %q, want %d %q", i, s.target, s.cost,
				w.Code, w.Header().Get("X-RateLimit-Remaining"), s.status, s.remaining)
		}
	}

	w := get(h, "/huge")
	wantStatus(t, w, http.StatusTooManyRequests)
	if ra := w.Header().Values("Retry-After"); ra != nil {
		t.Errorf("a request that can never pass got Retry-After %q", ra)
	}
	wantBody(t, w, `{"error":"cost_exceeds_capacity","message":"this request costs 61 requests, more than the capacity 60 of rule \"minute\" of tier \"default\": it can never pass"}`)

	for _, bad := range []string{"abc", "0", "-3", "1.5"} {
		w := get(h, "/", "X-Cost", bad)
		wantStatus(t, w, http.StatusBadRequest)
		if !strings.Contains(w.Body.String(), `"error":"bad_cost"`) || !strings.Contains(w.Body.String(), "X-Cost") {
			t.Errorf("cost header %q: body %s, want a bad_cost error naming X-Cost", bad, w.Body)
		}
	}
}

func TestMissingKeyGets401UnlessAnAnonymousTierIsConfigured(t *testing.T) {
	cfg := mockserver.Config{
		Key:   mockserver.KeyAPIKey,
		Tiers: []mockserver.Tier{{Name: "anon", Rules: []mockserver.Rule{fixedWindow("hour", 60, time.Hour)}}, {Name: "member", Rules: []mockserver.Rule{fixedWindow("hour", 5000, time.Hour)}}},
		// DefaultTier names the tier of unlisted keys.
		DefaultTier: "member",
	}
	h := newHandler(t, cfg)
	w := get(h, "/")
	wantStatus(t, w, http.StatusUnauthorized)
	wantHeader(t, w, "WWW-Authenticate", "Bearer")
	wantBody(t, w, `{"error":"missing_key","message":"this server limits by API key: send it in the X-API-Key header or as Authorization: Bearer TOKEN"}`)
	if w.Header().Get("RateLimit") != "" {
		t.Errorf("401 carries rate-limit headers: %v", w.Header())
	}

	wantBody(t, get(h, "/", "Authorization", "Bearer tok-1"), `{"key":"tok-1","tier":"member","cost":1,"remaining":4999}`)
	wantBody(t, get(h, "/", "X-API-Key", "k-2"), `{"key":"k-2","tier":"member","cost":1,"remaining":4999}`)

	cfg.AnonymousTier = "anon"
	h = newHandler(t, cfg)
	wantBody(t, get(h, "/"), `{"key":"anonymous:192.0.2.1","tier":"anon","cost":1,"remaining":59}`)

	hu := newHandler(t, mockserver.Config{Key: mockserver.KeyUser})
	w = get(hu, "/")
	wantStatus(t, w, http.StatusUnauthorized)
	wantBody(t, w, `{"error":"missing_key","message":"this server limits by user: send the X-User-ID header"}`)
	wantBody(t, get(hu, "/", "X-User-ID", "u-9"), `{"key":"u-9","tier":"default","cost":1,"remaining":59}`)
}

func TestCombinedKeysAndForwardedFor(t *testing.T) {
	h := newHandler(t, mockserver.Config{
		Key:    "api-key+route",
		Tiers:  []mockserver.Tier{{Name: "free", Rules: []mockserver.Rule{fixedWindow("minute", 60, time.Minute)}}, {Name: "pro", Keys: []string{"k-pro"}, Rules: []mockserver.Rule{fixedWindow("minute", 600, time.Minute)}}},
		Routes: []mockserver.Route{{Pattern: "/items/{id}"}},
	})
	wantBody(t, get(h, "/items/7", "X-API-Key", "k-pro"), `{"key":"k-pro|/items/{id}","tier":"pro","route":"/items/{id}","cost":1,"remaining":599}`)
	wantBody(t, get(h, "/items/8", "X-API-Key", "k-pro"), `{"key":"k-pro|/items/{id}","tier":"pro","route":"/items/{id}","cost":1,"remaining":598}`)
	wantBody(t, get(h, "/cart", "X-API-Key", "k-pro"), `{"key":"k-pro|/cart","tier":"pro","cost":1,"remaining":599}`)

	xff := []string{"X-Forwarded-For", "203.0.113.9, 10.0.0.1", "X-Forwarded-For", "10.0.0.2"}
	untrusted := newHandler(t, mockserver.Config{})
	wantBody(t, get(untrusted, "/", xff...), `{"key":"192.0.2.1","tier":"default","cost":1,"remaining":59}`)
	trusted := newHandler(t, mockserver.Config{TrustedProxyHops: 3})
	wantBody(t, get(trusted, "/", xff...), `{"key":"203.0.113.9","tier":"default","cost":1,"remaining":59}`)
	wantBody(t, get(trusted, "/", "X-Forwarded-For", "[2001:db8::1]:443"), `{"key":"2001:db8::1","tier":"default","cost":1,"remaining":59}`)
	wantBody(t, get(trusted, "/", "X-Forwarded-For", "garbage"), `{"key":"192.0.2.1","tier":"default","cost":1,"remaining":59}`)
	oneHop := newHandler(t, mockserver.Config{TrustedProxyHops: 1})
	wantBody(t, get(oneHop, "/", xff...), `{"key":"10.0.0.2","tier":"default","cost":1,"remaining":59}`)
}

func TestMiddlewareServesAllowedRequestsOnly(t *testing.T) {
	var served int
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		if w.Header().Get("X-RateLimit-Remaining") == "" {
			t.Error("the wrapped handler runs without the rate-limit headers set")
		}
		io.WriteString(w, "hello from the API")
	})
	h := newHandler(t, mockserver.Config{Dialect: mockserver.DialectXRateLimit, Tiers: oneTier(fixedWindow("minute", 2, time.Minute)).Tiers})
	wrapped := h.Wrap(api)
	for range 2 {
		w := get(wrapped, "/v1/things")
		wantStatus(t, w, http.StatusOK)
		wantBody(t, w, "hello from the API")
	}
	w := get(wrapped, "/v1/things")
	wantStatus(t, w, http.StatusTooManyRequests)
	if served != 2 {
		t.Errorf("the API served %d requests, want 2", served)
	}
	// Without an admin token, the reserved paths are the API's under Wrap, rate limited like the others.
	wantStatus(t, get(wrapped, "/_stats"), http.StatusTooManyRequests)
	if served != 2 {
		t.Errorf("a rejected request reached the API")
	}
}

// TestQueueHoldsRequestsForTheirDelay sends three requests at once to a leaky-bucket-queue of one request per
// second: they are served 0 s, 1 s and 2 s later, and a fourth, beyond the burst, is rejected at once.
func TestQueueHoldsRequestsForTheirDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, oneTier(mockserver.Rule{Algorithm: mockserver.LeakyBucketQueue,
			Policy: mockserver.Policy{Limit: 1, Window: time.Second, Burst: 2}}))
		start := time.Now()
		var mu sync.Mutex
		var done []time.Duration
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				w := get(h, "/")
				if w.Code != http.StatusOK {
					t.Errorf("queued request: status %d", w.Code)
				}
				mu.Lock()
				done = append(done, time.Since(start))
				mu.Unlock()
			})
			synctest.Wait() // each request takes its place in the queue before the next
		}
		w := get(h, "/")
		wantStatus(t, w, http.StatusTooManyRequests)
		wantHeader(t, w, "Retry-After", "1")
		wg.Wait()
		want := []time.Duration{0, time.Second, 2 * time.Second}
		if len(done) != 3 || done[0] != want[0] || done[1] != want[1] || done[2] != want[2] {
			t.Errorf("served after %v, want %v", done, want)
		}
	})
}

func TestQueuedRequestOfAClientThatLeftIsNotServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, oneTier(mockserver.Rule{Algorithm: mockserver.LeakyBucketQueue,
			Policy: mockserver.Policy{Limit: 1, Window: time.Minute, Burst: 2}}))
		wantStatus(t, get(h, "/"), http.StatusOK)
		ctx, cancel := context.WithCancel(t.Context())
		w := httptest.NewRecorder()
		finished := make(chan struct{})
		go func() {
			h.ServeHTTP(w, request(http.MethodGet, "/").WithContext(ctx))
			close(finished)
		}()
		synctest.Wait() // held for a minute
		cancel()
		<-finished
		if w.Body.Len() != 0 {
			t.Errorf("a request whose client left was served: %s", w.Body)
		}
	})
}

// TestConcurrencyReleasesSlots holds one request in the wrapped handler: a second is rejected while it runs,
// and a third passes once it has finished; a client that goes away frees its slot at once.
func TestConcurrencyReleasesSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, mockserver.Config{Dialect: mockserver.DialectXRateLimit,
			Tiers: oneTier(mockserver.Rule{Algorithm: mockserver.Concurrency, Policy: mockserver.Policy{Limit: 1}}).Tiers})
		gate := make(chan struct{})
		api := h.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				<-gate // ignores the request's context on purpose
			}
		}))
		var wg sync.WaitGroup
		wg.Go(func() { get(api, "/slow") })
		synctest.Wait()
		w := get(api, "/fast")
		wantStatus(t, w, http.StatusTooManyRequests)
		wantHeader(t, w, "Retry-After", "1")
		wantBody(t, w, `{"error":"rate_limited","message":"too many requests in flight: rule \"concurrency\" of tier \"default\" allows 1 at once","retry_after":1}`)
		close(gate)
		wg.Wait()
		wantStatus(t, get(api, "/fast"), http.StatusOK)

		// A client that goes away releases its slot even though the handler still runs.
		gate = make(chan struct{})
		ctx, cancel := context.WithCancel(t.Context())
		wg.Go(func() {
			h := api
			h.ServeHTTP(httptest.NewRecorder(), request(http.MethodGet, "/slow").WithContext(ctx))
		})
		synctest.Wait()
		wantStatus(t, get(api, "/fast"), http.StatusTooManyRequests)
		cancel()
		synctest.Wait()
		wantStatus(t, get(api, "/fast"), http.StatusOK)
		close(gate)
		wg.Wait()
		wantStatus(t, get(api, "/fast"), http.StatusOK) // released once, not twice: still one slot
	})
}

// TestInMemoryClientInsideSynctest drives a real http.Client against the handler through an in-memory
// RoundTripper, as the project's contract tests do: the client waits out Retry-After in virtual time.
func TestInMemoryClientInsideSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, Tiers: oneTier(fixedWindow("minute", 5, time.Minute)).Tiers})
		client := &http.Client{Transport: inMemory{h}}
		start := time.Now()
		var statuses []int
		for len(statuses) < 7 {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://mock.test/v1/items", nil)
			req.Header.Set("X-API-Key", "k1")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			statuses = append(statuses, resp.StatusCode)
			if resp.StatusCode == http.StatusTooManyRequests {
				d, err := time.ParseDuration(resp.Header.Get("Retry-After") + "s")
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(d)
			}
		}
		want := []int{200, 200, 200, 200, 200, 429, 200}
		for i := range want {
			if statuses[i] != want[i] {
				t.Fatalf("statuses %v, want %v", statuses, want)
			}
		}
		if got := time.Since(start); got != time.Minute {
			t.Errorf("the client waited %v of virtual time, want 1m0s", got)
		}
	})
}

// inMemory is an http.RoundTripper that serves requests with a handler, without a socket.
type inMemory struct{ h http.Handler }

func (t inMemory) RoundTrip(req *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, req)
	resp := w.Result()
	resp.Request = req
	return resp, nil
}

// TestConcurrentRequestsNeverOverAdmit hammers one key from many goroutines: exactly the limit passes, and
// the statistics and metrics agree with the responses.
func TestConcurrentRequestsNeverOverAdmit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := oneTier(fixedWindow("minute", 500, time.Minute), fixedWindow("day", 700, 24*time.Hour))
		cfg.RawKeys = true
		h := newHandler(t, cfg)
		var mu sync.Mutex
		counts := map[int]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 100 {
					w := get(h, "/")
					mu.Lock()
					counts[w.Code]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if counts[200] != 500 || counts[429] != 300 {
			t.Errorf("outcomes %v, want 500 allowed and 300 rejected", counts)
		}
		wantMetric(t, h,
			`mockserver_requests_total{algorithm="fixed-window",result="allowed",route="other",rule="minute",tier="default"} 500`,
			`mockserver_requests_total{algorithm="fixed-window",result="rejected",route="other",rule="minute",tier="default"} 300`)
		wantBody(t, get(h, "/_stats"), `{"now":"2000-01-01T00:00:00Z","keys":[{"key":"192.0.2.1","tier":"default","allowed":500,"rejected":300,"rules":[`+
			`{"rule":"minute","algorithm":"fixed-window","dimension":"requests","limit":500,"would_allow":false,"remaining":0,"reset":"2000-01-01T00:01:00Z","reset_seconds":60,"retry_after_seconds":60},`+
			`{"rule":"day","algorithm":"fixed-window","dimension":"requests","limit":700,"would_allow":true,"remaining":199,"reset":"2000-01-02T00:00:00Z","reset_seconds":86400,"retry_after_seconds":0}]}],`+
			`"tracked_keys":1,"max_keys":10000,"evicted_keys":0}`)
	})
}
