package mockserver_test

// Each test here is an attack of issue 13 on a Handler in front of a real API, and what stops it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit/mockserver"
)

// protectedAPI is a Handler wrapping an API that answers "api" to every request it serves, keyed by API key at
// 1 request per hour.
func protectedAPI(t *testing.T, cfg mockserver.Config) (http.Handler, *int) {
	t.Helper()
	cfg.Key = mockserver.KeyAPIKey
	cfg.Tiers = oneTier(fixedWindow("hour", 1, time.Hour)).Tiers
	h, err := mockserver.NewHandler(cfg)
	require.NoError(t, err)
	served := new(int)
	return h.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*served++
		w.Write([]byte("api"))
	})), served
}

func TestAttackAdminPathsUnderWrap(t *testing.T) {
	const secret = "sk_live_victim"
	api, served := protectedAPI(t, mockserver.Config{})
	require.Equal(t, http.StatusOK, get(api, "/v1/things", "X-API-Key", secret).Code)

	// Reading every client's statistics: the path is the API's, the attacker's request is limited as any.
	w := get(api, "/_stats", "X-API-Key", "sk_attacker")
	assert.Equal(t, "api", w.Body.String(), "/_stats reached the API: the Handler does not serve it under Wrap")
	assert.NotContains(t, w.Body.String(), secret)
	// Clearing one's own 429.
	require.Equal(t, http.StatusTooManyRequests, get(api, "/v1/things", "X-API-Key", "sk_attacker").Code)
	w = do(api, http.MethodPost, "/_reset?key=sk_attacker", "X-API-Key", "sk_attacker")
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "POST /_reset is an ordinary, rate-limited path")
	assert.Equal(t, http.StatusTooManyRequests, get(api, "/v1/things", "X-API-Key", "sk_attacker").Code)
	assert.Equal(t, 2, *served)
}

func TestAttackAdminPathsNeedTheToken(t *testing.T) {
	const secret = "sk_live_victim"
	for _, wrapped := range []bool{false, true} {
		t.Run(fmt.Sprintf("wrapped=%v", wrapped), func(t *testing.T) {
			h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, AdminToken: "s3cret"})
			var api http.Handler = h
			if wrapped {
				api = h.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api")) }))
			}
			require.Equal(t, http.StatusOK, get(api, "/", "X-API-Key", secret).Code)
			for _, tt := range []struct {
				name   string
				header []string
				want   int
			}{
				{"no token", nil, http.StatusUnauthorized},
				{"wrong token", []string{"Authorization", "Bearer s3cre"}, http.StatusUnauthorized},
				{"an API key is not the token", []string{"X-API-Key", "s3cret"}, http.StatusUnauthorized},
				{"the token", []string{"Authorization", "Bearer s3cret"}, http.StatusOK},
			} {
				for _, path := range []string{"/_stats", "/metrics"} {
					w := get(api, path, tt.header...)
					assert.Equal(t, tt.want, w.Code, "%s %s", tt.name, path)
					assert.NotContains(t, w.Body.String(), secret, "%s %s", tt.name, path)
				}
				w := do(api, http.MethodPost, "/_reset", tt.header...)
				assert.Equal(t, tt.want, w.Code, "%s POST /_reset", tt.name)
			}
		})
	}
}

func TestAttackStatsNameKeysByKeyedHash(t *testing.T) {
	const secret = "sk_live_51HxYz"
	h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey})
	require.Equal(t, http.StatusOK, get(h, "/", "X-API-Key", secret).Code)
	w := get(h, "/_stats")
	require.Equal(t, http.StatusOK, w.Code)
	assert.NotContains(t, w.Body.String(), secret)
	assert.Regexp(t, `"key":"k_[0-9a-f]{24}"`, w.Body.String())

	// ?key= takes the raw key (what a test knows) and the name; an unknown key is 404.
	byRaw := get(h, "/_stats?key="+secret)
	require.Equal(t, http.StatusOK, byRaw.Code)
	assert.Equal(t, w.Body.String()[strings.Index(w.Body.String(), `"keys"`):], byRaw.Body.String()[strings.Index(byRaw.Body.String(), `"keys"`):])
	assert.Equal(t, http.StatusNotFound, get(h, "/_stats?key=nosuch").Code)

	// The hash is stable for a secret and differs between secrets.
	name := func(cfg mockserver.Config) string {
		cfg.Key = mockserver.KeyAPIKey
		h := newHandler(t, cfg)
		get(h, "/", "X-API-Key", secret)
		body := get(h, "/_stats").Body.String()
		i := strings.Index(body, `"key":"`)
		require.GreaterOrEqual(t, i, 0, body)
		rest := body[i+7:]
		return rest[:strings.IndexByte(rest, '"')]
	}
	assert.Equal(t, name(mockserver.Config{KeyHashSecret: []byte("a")}), name(mockserver.Config{KeyHashSecret: []byte("a")}))
	assert.NotEqual(t, name(mockserver.Config{KeyHashSecret: []byte("a")}), name(mockserver.Config{KeyHashSecret: []byte("b")}))
	assert.Equal(t, secret, name(mockserver.Config{RawKeys: true}))
}

func TestAttackLogsNameKeysByHashAndStayBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const secret = "sk_live_flood"
		var logs bytes.Buffer
		h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, Tiers: oneTier(fixedWindow("hour", 1, time.Hour)).Tiers,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		const flood = 10_000
		for range flood {
			get(h, "/", "X-API-Key", secret)
		}
		assert.NotContains(t, logs.String(), secret)
		assert.Equal(t, 10, strings.Count(logs.String(), "\n"), "a flood within one second writes the budget of one second")
		time.Sleep(time.Second) // the next second: one line says how many were left out
		get(h, "/", "X-API-Key", secret)
		assert.Contains(t, logs.String(), fmt.Sprintf("lines_dropped=%d", flood-1-10))
	})
}

func TestAttackForgedForwardedFor(t *testing.T) {
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	for _, tt := range []struct {
		name    string
		cfg     mockserver.Config
		remote  string
		xff     string // the client forges everything left of what the proxies append
		passing int    // of 50 requests at 1 per hour
	}{
		{"no trust: X-Forwarded-For is ignored", mockserver.Config{}, "192.0.2.1:1", "%d.0.0.1, 198.51.100.7", 1},
		{"one hop: the entry the proxy appended", mockserver.Config{TrustedProxyHops: 1}, "10.1.1.1:1", "%d.0.0.1, 198.51.100.7", 1},
		{"trusted networks, walked from the right", mockserver.Config{TrustedProxies: []netip.Prefix{proxy}}, "10.1.1.1:1", "%d.0.0.1, 198.51.100.7, 10.2.2.2", 1},
		{"an untrusted peer's header is ignored", mockserver.Config{TrustedProxies: []netip.Prefix{proxy}}, "192.0.2.9:1", "%d.0.0.1", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Tiers = oneTier(fixedWindow("hour", 1, time.Hour)).Tiers
			h := newHandler(t, cfg)
			passed := 0
			for i := range 50 {
				r := request(http.MethodGet, "/", "X-Forwarded-For", fmt.Sprintf(tt.xff, i+1))
				r.RemoteAddr = tt.remote
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code == http.StatusOK {
					passed++
				}
			}
			assert.Equal(t, tt.passing, passed)
		})
	}
}

func TestForwardedForClientAddress(t *testing.T) {
	lb, nginx := netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")
	for _, tt := range []struct {
		name   string
		cfg    mockserver.Config
		remote string
		lines  []string
		want   string
	}{
		{"hops 2: the second entry from the right", mockserver.Config{TrustedProxyHops: 2}, "10.0.0.2:1", []string{"6.6.6.6, 203.0.113.5, 10.0.0.1"}, "203.0.113.5"},
		{"hops over several lines", mockserver.Config{TrustedProxyHops: 2}, "10.0.0.2:1", []string{"6.6.6.6, 203.0.113.5", "10.0.0.1"}, "203.0.113.5"},
		{"fewer entries than hops: the leftmost", mockserver.Config{TrustedProxyHops: 3}, "10.0.0.2:1", []string{"203.0.113.5"}, "203.0.113.5"},
		{"networks, recursive", mockserver.Config{TrustedProxies: []netip.Prefix{lb, nginx}}, "[fd00::1]:1", []string{"6.6.6.6, 203.0.113.5, 10.9.9.9"}, "203.0.113.5"},
		{"mapped and with ports", mockserver.Config{TrustedProxyHops: 1}, "10.0.0.2:1", []string{"[::ffff:203.0.113.5]:443"}, "203.0.113.5"},
		{"garbage stops at the proxy that wrote it", mockserver.Config{TrustedProxyHops: 2}, "10.0.0.2:1", []string{"203.0.113.5, garbage"}, "10.0.0.2"},
		{"no header", mockserver.Config{TrustedProxyHops: 1}, "10.0.0.2:1", nil, "10.0.0.2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.RawKeys = true
			h := newHandler(t, cfg)
			r := request(http.MethodGet, "/")
			for _, l := range tt.lines {
				r.Header.Add("X-Forwarded-For", l)
			}
			r.RemoteAddr = tt.remote
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Contains(t, w.Body.String(), `"key":"`+tt.want+`"`)
		})
	}
}

func TestForwardedForConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg   mockserver.Config
		field string
	}{
		{mockserver.Config{TrustedProxyHops: -1}, "TrustedProxyHops"},
		{mockserver.Config{TrustedProxies: []netip.Prefix{{}}}, "TrustedProxies[0]"},
	} {
		_, err := mockserver.NewHandler(tt.cfg)
		var ce *mockserver.ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, tt.field, ce.Field)
	}
}

func TestAttackDistinctKeysAreBounded(t *testing.T) {
	store := mockserver.NewMemoryStoreWithCapacity(1000)
	h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, Store: store, RawKeys: true})
	for i := range 20_000 {
		get(h, "/", "X-API-Key", fmt.Sprintf("key-%d", i))
	}
	n, err := store.Len(context.Background())
	require.NoError(t, err)
	assert.LessOrEqual(t, n, store.Capacity())
	assert.Greater(t, store.Evictions(), uint64(18_000))
	wantMetric(t, h, fmt.Sprintf("mockserver_store_evictions_total %d", store.Evictions()))
}

func TestAttackHugeKeysAreHashed(t *testing.T) {
	h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, RawKeys: true})
	huge := strings.Repeat("x", 512<<10)
	require.Equal(t, http.StatusOK, get(h, "/", "X-API-Key", huge).Code)
	body := get(h, "/_stats").Body.String()
	assert.Less(t, len(body), 2048, "a 512 KB key is stored by a 26-byte name")
	assert.Regexp(t, `"key":"k_[0-9a-f]{24}"`, body)
	assert.Equal(t, http.StatusOK, get(h, "/_stats?key="+huge).Code, "the raw key finds its hashed name")
}

func TestAttackLimitsBeyondFifteenDigits(t *testing.T) {
	for _, tt := range []struct {
		policy mockserver.Policy
		alg    string
		field  string
	}{
		{mockserver.Policy{Limit: 1_000_000_000_000_000, Window: time.Hour}, mockserver.FixedWindow, "Tiers[0].Rules[0].Policy.Limit"},
		{mockserver.Policy{Limit: 10, Window: time.Hour, Burst: 1_000_000_000_000_000}, mockserver.TokenBucket, "Tiers[0].Rules[0].Policy.Burst"},
	} {
		_, err := mockserver.NewHandler(oneTier(mockserver.Rule{Algorithm: tt.alg, Policy: tt.policy}))
		var ce *mockserver.ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, tt.field, ce.Field)
		assert.Contains(t, ce.Reason, "999999999999999")
	}
	_, err := mockserver.NewHandler(oneTier(mockserver.Rule{Algorithm: mockserver.FixedWindow,
		Policy: mockserver.Policy{Limit: 999_999_999_999_999, Window: time.Hour}}))
	assert.NoError(t, err)
}

// blockingStore is a Store whose Allow waits for its context, as a Redis call does when the client goes away.
type blockingStore struct {
	mockserver.Store
	entered chan struct{}
}

func (s *blockingStore) Allow(ctx context.Context, key string, rules []mockserver.Rule, costs []int64, now time.Time, dst []mockserver.Decision) ([]mockserver.Decision, error) {
	close(s.entered)
	<-ctx.Done()
	return dst, fmt.Errorf("redis: %w", ctx.Err())
}

func TestClientDisconnectIsNotAStoreFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &blockingStore{Store: mockserver.NewMemoryStore(), entered: make(chan struct{})}
		h := newHandler(t, mockserver.Config{Store: store})
		ctx, cancel := context.WithCancel(context.Background())
		r := request(http.MethodGet, "/").WithContext(ctx)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { h.ServeHTTP(w, r); close(done) }()
		<-store.entered
		cancel()
		<-done
		assert.True(t, errors.Is(ctx.Err(), context.Canceled))
		wantMetric(t, h, `mockserver_store_failures_total{mode="fail-open"} 0`)
		wantMetric(t, h, `mockserver_client_gone_total 1`)
	})
}

func TestAdminGuardsHandlersOfTheCaller(t *testing.T) {
	h := newHandler(t, mockserver.Config{AdminToken: "s3cret"})
	storeSwitch := h.Admin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("switched")) }))
	assert.Equal(t, http.StatusUnauthorized, do(storeSwitch, http.MethodPost, "/_store?down=true").Code)
	w := do(storeSwitch, http.MethodPost, "/_store?down=true", "Authorization", "Bearer s3cret")
	assert.Equal(t, "switched", w.Body.String())
}
