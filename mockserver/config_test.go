package mockserver_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

func TestNewHandlerNamesTheBadFieldAndTheAllowedValues(t *testing.T) {
	ok := []mockserver.Rule{fixedWindow("minute", 60, time.Minute)}
	tiers := func(ts ...mockserver.Tier) []mockserver.Tier { return ts }
	cases := []struct {
		name  string
		cfg   mockserver.Config
		field string
		want  string // the whole message
	}{
		{"dialect", mockserver.Config{Dialect: "x-rate-limit"}, "Dialect",
			`mockserver: Config.Dialect: unknown dialect "x-rate-limit" (allowed: ietf, ietf-legacy, x-ratelimit, github, openai, tollbooth, anthropic, shopify, discord, none)`},
		{"key", mockserver.Config{Key: "api-key+ip+cookie"}, "Key",
			`mockserver: Config.Key: unknown key kind "cookie" in "api-key+ip+cookie" (allowed: ip, api-key, user, route, several joined by '+', e.g. api-key+route)`},
		{"key twice", mockserver.Config{Key: "ip+ip"}, "Key", `mockserver: Config.Key: key kind "ip" appears twice in "ip+ip"`},
		{"status", mockserver.Config{RejectStatus: 418}, "RejectStatus",
			`mockserver: Config.RejectStatus: status 418 is not a rejection status (allowed: 429, 403, 503)`},
		{"retry-after", mockserver.Config{RetryAfter: "date"}, "RetryAfter",
			`mockserver: Config.RetryAfter: unknown Retry-After format "date" (allowed: seconds, http-date, window, fractional, none)`},
		{"failure mode", mockserver.Config{FailureMode: "open"}, "FailureMode",
			`mockserver: Config.FailureMode: unknown failure mode "open" (allowed: fail-open, fail-closed)`},
		{"algorithm", mockserver.Config{Tiers: tiers(mockserver.Tier{Name: "t", Rules: []mockserver.Rule{{Algorithm: "leaky", Policy: mockserver.Policy{Limit: 1, Window: time.Second}}}})},
			"Tiers[0].Rules[0].Algorithm",
			`mockserver: Config.Tiers[0].Rules[0].Algorithm: unknown algorithm "leaky" (allowed: fixed-window, sliding-window-log, sliding-window-counter, token-bucket, leaky-bucket, leaky-bucket-queue, gcra, concurrency)`},
		{"policy", mockserver.Config{Tiers: tiers(mockserver.Tier{Name: "t", Rules: []mockserver.Rule{fixedWindow("m", 0, time.Minute)}})},
			"Tiers[0].Rules[0].Policy", "limit 0: want limit >= 1"},
		{"duplicate rule names", mockserver.Config{Tiers: tiers(mockserver.Tier{Name: "t", Rules: []mockserver.Rule{
			{Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 1, Window: time.Minute}},
			{Algorithm: mockserver.GCRA, Policy: mockserver.Policy{Limit: 5, Window: time.Minute}}}})},
			"Tiers[0].Rules[1].Name", `rule name "minute" is used twice in tier "t": name the rules`},
		{"dimension without header", mockserver.Config{Tiers: tiers(mockserver.Tier{Name: "t", Rules: []mockserver.Rule{
			{Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 1, Window: time.Minute}, Dimension: "tokens"}}})},
			"Tiers[0].Rules[0].Dimension", `dimension "tokens" has no entry in Config.CostHeaders (allowed: requests)`},
		{"no rules", mockserver.Config{Tiers: tiers(mockserver.Tier{Name: "t"})}, "Tiers[0].Rules", `tier "t" has no rules`},
		{"tier name", mockserver.Config{Tiers: tiers(mockserver.Tier{Name: "free tier", Rules: ok})}, "Tiers[0].Name", "is not a name"},
		{"tier twice", mockserver.Config{Tiers: tiers(mockserver.Tier{Name: "a", Rules: ok}, mockserver.Tier{Name: "a", Rules: ok})}, "Tiers[1].Name", `tier name "a" is used twice`},
		{"key in two tiers", mockserver.Config{Tiers: tiers(mockserver.Tier{Name: "a", Keys: []string{"k"}, Rules: ok}, mockserver.Tier{Name: "b", Keys: []string{"k"}, Rules: ok})},
			"Tiers[1].Keys[0]", `key "k" is already in tier "a"`},
		{"default tier", mockserver.Config{Tiers: tiers(mockserver.Tier{Name: "a", Rules: ok}), DefaultTier: "b"}, "DefaultTier",
			`mockserver: Config.DefaultTier: unknown tier "b" (allowed: a)`},
		{"anonymous tier", mockserver.Config{AnonymousTier: "anon"}, "AnonymousTier", `unknown tier "anon" (allowed: default)`},
		{"route cost", mockserver.Config{Routes: []mockserver.Route{{Pattern: "/a", Cost: -1}}}, "Routes[0].Cost", "cost -1 is negative"},
		{"route pattern", mockserver.Config{Routes: []mockserver.Route{{Pattern: "/a"}, {Pattern: "/a"}}}, "Routes[1].Pattern", `pattern "/a"`},
		{"bad pattern", mockserver.Config{Routes: []mockserver.Route{{Pattern: "/items/{id"}}}, "Routes[0].Pattern", `pattern "/items/{id"`},
		{"empty pattern", mockserver.Config{Routes: []mockserver.Route{{}}}, "Routes[0].Pattern", "empty pattern"},
		{"cost header", mockserver.Config{CostHeaders: map[string]string{"tokens": "X Tokens"}}, `CostHeaders["tokens"]`, "is not an HTTP header name"},
		{"api key header", mockserver.Config{APIKeyHeader: "X:Key"}, "APIKeyHeader", "is not an HTTP header name"},
		{"error rate", mockserver.Config{Faults: mockserver.Faults{ErrorRate: 1.5}}, "Faults.ErrorRate", "1.5 is not a fraction between 0 and 1"},
		{"drop rate NaN", mockserver.Config{Faults: mockserver.Faults{DropRate: math.NaN()}}, "Faults.DropRate", "is not a fraction"},
		{"error status", mockserver.Config{Faults: mockserver.Faults{ErrorStatus: 404}}, "Faults.ErrorStatus", "404 is not a 5xx status"},
		{"latency", mockserver.Config{Faults: mockserver.Faults{Latency: -time.Second}}, "Faults.Latency", "is negative"},
		{"reset form", mockserver.Config{Faults: mockserver.Faults{ResetAs: "ms"}}, "Faults.ResetAs",
			`unknown reset form "ms" (allowed: delta, delta-ms, epoch, epoch-ms)`},
		{"path", mockserver.Config{MetricsPath: "metrics"}, "MetricsPath", `"metrics" is not a path`},
		{"same paths", mockserver.Config{StatsPath: "/metrics"}, "StatsPath", "already MetricsPath"},
		{"stats keys", mockserver.Config{StatsMaxKeys: -1}, "StatsMaxKeys", "-1 is negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := mockserver.NewHandler(c.cfg)
			if err == nil {
				t.Fatalf("no error (handler %v)", h)
			}
			var ce *mockserver.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want a *ConfigError", err, err)
			}
			if ce.Field != c.field {
				t.Errorf("Field %q, want %q", ce.Field, c.field)
			}
			if !strings.HasPrefix(err.Error(), "mockserver: Config."+c.field+": ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n %s\nwant it to name %s and contain\n %s", err, c.field, c.want)
			}
		})
	}
}

func TestRulesAreNamedAfterTheirWindowWhenUnnamed(t *testing.T) {
	h := newHandler(t, mockserver.Config{
		CostHeaders: map[string]string{"tokens": "X-Tokens"},
		Tiers: []mockserver.Tier{{Name: "t", Rules: []mockserver.Rule{
			{Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 5, Window: time.Second}},
			{Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 5, Window: time.Hour}},
			{Algorithm: mockserver.TokenBucket, Policy: mockserver.Policy{Limit: 5, Window: 24 * time.Hour}},
			{Algorithm: mockserver.GCRA, Policy: mockserver.Policy{Limit: 5, Window: 90 * time.Second}},
			{Algorithm: mockserver.SlidingWindowLog, Policy: mockserver.Policy{Limit: 500, Window: time.Minute}, Dimension: "tokens"},
			{Algorithm: mockserver.Concurrency, Policy: mockserver.Policy{Limit: 2}},
		}}},
	})
	w := get(h, "/", "X-Tokens", "3")
	wantHeader(t, w, "RateLimit-Policy", `"second";q=5;w=1, "hour";q=5;w=3600, "day";q=5;w=86400, "1m30s";q=5;w=90, `+
		`"tokens-minute";q=500;qu="tokens";w=60, "concurrency";q=2;qu="concurrent-requests"`)
}
