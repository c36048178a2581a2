package mockserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// keyAndTier serves r through h and returns the key and tier the built-in endpoint reports, or the status
// when the request was not served.
func keyAndTier(t *testing.T, h http.Handler, r *http.Request) (string, string, int) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		return "", "", w.Code
	}
	var body struct{ Key, Tier string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	return body.Key, body.Tier, w.Code
}

func TestKeyKinds(t *testing.T) {
	tiers := []mockserver.Tier{
		{Name: "basic", Rules: []mockserver.Rule{fixedWindow("minute", 60, time.Minute)}},
		{Name: "gold", Keys: []string{"k-gold", "u-gold", "/premium/", "203.0.113.5"}, Rules: []mockserver.Rule{fixedWindow("minute", 600, time.Minute)}},
	}
	cases := []struct {
		name, key, apiKeyHeader string
		header                  []string
		remote, path            string
		wantKey, wantTier       string
		wantStatus              int
	}{
		{name: "ip", key: "ip", remote: "203.0.113.5:999", wantKey: "203.0.113.5", wantTier: "gold"},
		{name: "ipv6", key: "ip", remote: "[2001:db8::7]:443", wantKey: "2001:db8::7", wantTier: "basic"},
		{name: "in-process", key: "ip", remote: "", wantKey: "in-process", wantTier: "basic"},
		{name: "api key header", key: "api-key", header: []string{"X-API-Key", "  k-gold "}, wantKey: "k-gold", wantTier: "gold"},
		{name: "bearer", key: "api-key", header: []string{"Authorization", "bearer   k-1"}, wantKey: "k-1", wantTier: "basic"},
		{name: "header before bearer", key: "api-key", header: []string{"X-API-Key", "k-a", "Authorization", "Bearer k-b"}, wantKey: "k-a", wantTier: "basic"},
		{name: "basic auth is no key", key: "api-key", header: []string{"Authorization", "Basic dXNlcjpwdw=="}, wantStatus: 401},
		{name: "empty bearer", key: "api-key", header: []string{"Authorization", "Bearer "}, wantStatus: 401},
		{name: "custom header", key: "api-key", apiKeyHeader: "Api-Token", header: []string{"Api-Token", "k-gold"}, wantKey: "k-gold", wantTier: "gold"},
		{name: "custom header ignores X-API-Key", key: "api-key", apiKeyHeader: "Api-Token", header: []string{"X-API-Key", "k-gold"}, wantStatus: 401},
		{name: "user", key: "user", header: []string{"X-User-ID", "u-gold"}, wantKey: "u-gold", wantTier: "gold"},
		{name: "route only", key: "route", path: "/premium/x", wantKey: "/premium/x", wantTier: "basic"},
		{name: "api key and user", key: "api-key+user", header: []string{"X-API-Key", "k-gold", "X-User-ID", "u-1"}, wantKey: "k-gold|u-1", wantTier: "gold"},
		{name: "route first", key: "route+user", header: []string{"X-User-ID", "u-gold"}, path: "/a", wantKey: "/a|u-gold", wantTier: "gold"},
		{name: "missing part", key: "api-key+user", header: []string{"X-API-Key", "k-gold"}, wantStatus: 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHandler(t, mockserver.Config{Key: c.key, APIKeyHeader: c.apiKeyHeader, Tiers: tiers})
			path := c.path
			if path == "" {
				path = "/"
			}
			r := request(http.MethodGet, path, c.header...)
			if c.remote != "" || c.name == "in-process" {
				r.RemoteAddr = c.remote
			}
			key, tier, status := keyAndTier(t, h, r)
			if c.wantStatus != 0 {
				if status != c.wantStatus {
					t.Errorf("status %d, want %d", status, c.wantStatus)
				}
				return
			}
			if key != c.wantKey || tier != c.wantTier {
				t.Errorf("key %q tier %q, want %q %q", key, tier, c.wantKey, c.wantTier)
			}
		})
	}
}

func TestAnonymousKeysKeepTheRoutePart(t *testing.T) {
	h := newHandler(t, mockserver.Config{Key: "api-key+route", AnonymousTier: "default"})
	key, tier, _ := keyAndTier(t, h, request(http.MethodGet, "/things"))
	if key != "anonymous:192.0.2.1|/things" || tier != "default" {
		t.Errorf("key %q tier %q", key, tier)
	}
}
