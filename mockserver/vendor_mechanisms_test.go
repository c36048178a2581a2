package mockserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBodyCostEstimates checks BodyCost.estimate: named members add, text counts per CharsPerUnit rounded up
// (runes, keys and named members excluded), and a body that is not JSON costs 1.
func TestBodyCostEstimates(t *testing.T) {
	cases := []struct {
		name string
		cost BodyCost
		body string
		want int64
	}{
		{"members only", BodyCost{Members: []string{"max_tokens"}}, `{"max_tokens":100,"prompt":"abcd"}`, 100},
		{"text only", BodyCost{CharsPerUnit: 4}, `{"prompt":"abcde"}`, 2},
		{"both, nested", BodyCost{Members: []string{"max_tokens"}, CharsPerUnit: 4}, `{"a":[{"b":"abcd"}],"max_tokens":7}`, 8},
		{"runes not bytes", BodyCost{CharsPerUnit: 2}, `{"p":"éé"}`, 1},
		{"not json", BodyCost{CharsPerUnit: 1}, `hello`, 1},
		{"empty", BodyCost{Members: []string{"max_tokens"}}, ``, 1},
		{"negative member ignored", BodyCost{Members: []string{"n"}}, `{"n":-5}`, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := NewHandler(Config{Key: KeyIP, BodyCosts: map[string]BodyCost{"tokens": c.cost},
				Tiers: []Tier{{Name: "t", Rules: []Rule{{Algorithm: TokenBucket, Dimension: "tokens", Policy: Policy{Limit: 1000, Window: time.Minute}}}}}})
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body)))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, c.want, 1000-atoi(t, rec.Header().Get("Ratelimit")), rec.Header().Get("Ratelimit"))
		})
	}
}

// atoi reads r= of a one-member RateLimit field: `"tokens-minute";r=992;t=1`.
func atoi(t *testing.T, field string) int64 {
	t.Helper()
	_, rest, ok := strings.Cut(field, ";r=")
	require.True(t, ok, field)
	rest, _, _ = strings.Cut(rest, ";")
	var n int64
	for _, c := range rest {
		n = n*10 + int64(c-'0')
	}
	return n
}

// TestVendorMechanismConfigErrors checks that a bad BodyCost, Rule.Routes or vendor profile setting is named.
func TestVendorMechanismConfigErrors(t *testing.T) {
	rule := func(r Rule) []Tier { return []Tier{{Name: "t", Rules: []Rule{r}}} }
	minute := Policy{Limit: 10, Window: time.Minute}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"body cost counts nothing", Config{BodyCosts: map[string]BodyCost{"tokens": {}}},
			`Config.BodyCosts["tokens"]: counts nothing`},
		{"body cost and header", Config{BodyCosts: map[string]BodyCost{"tokens": {CharsPerUnit: 4}}, CostHeaders: map[string]string{"tokens": "X-Tokens"}},
			`dimension "tokens" also has a cost header`},
		{"negative chars", Config{BodyCosts: map[string]BodyCost{"tokens": {CharsPerUnit: -1}}},
			`Config.BodyCosts["tokens"].CharsPerUnit: -1 is negative`},
		{"unknown route", Config{Routes: []Route{{Pattern: "/a"}}, Tiers: rule(Rule{Algorithm: FixedWindow, Policy: minute, Routes: []string{"/b"}})},
			`Config.Tiers[0].Rules[0].Routes[0]: unknown route "/b" (allowed: other, /a)`},
		{"route without rule", Config{Routes: []Route{{Pattern: "/a"}}, Tiers: rule(Rule{Algorithm: FixedWindow, Policy: minute, Routes: []string{"/a"}})},
			`tier "t" has no rule for the requests that match no route ("other")`},
		{"vendor tiers", Config{Profile: ProfileGitHub, Tiers: rule(Rule{Policy: minute})},
			`Config.Tiers: profile "github" brings its tiers: leave Tiers empty and pick one with DefaultTier (allowed: token, enterprise-cloud, unauthenticated)`},
		{"vendor key", Config{Profile: ProfileOpenAI, Key: KeyIP}, `Config.Key: profile "openai" sets it: leave it empty`},
		{"vendor tier", Config{Profile: ProfileStripe, DefaultTier: "prod"}, `Config.DefaultTier: unknown tier "prod" (allowed: live, test)`},
		{"vendor dialect", Config{Profile: ProfileShopify, Dialect: DialectIETF}, `profile "shopify" writes the "shopify" dialect`},
		{"vendor status", Config{Profile: ProfileAnthropic, RejectStatus: 503}, `profile "anthropic" rejects with [429]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewHandler(c.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	for _, name := range VendorProfiles() {
		_, err := NewHandler(Config{Profile: name})
		assert.NoError(t, err, "profile %s with its default tier", name)
	}
}

// TestRouteScopedRulesCountOnlyTheirRoutes: a rule with Routes counts only its routes' requests, and the
// metrics label each request with the rule that bound it in the tier's own numbering.
func TestRouteScopedRulesCountOnlyTheirRoutes(t *testing.T) {
	h, err := NewHandler(Config{Dialect: DialectGitHub, Routes: []Route{{Pattern: "/search/"}},
		Tiers: []Tier{{Name: "t", Rules: []Rule{
			{Name: "core", Algorithm: FixedWindow, Policy: Policy{Limit: 5, Window: time.Hour}, Routes: []string{otherRoute}},
			{Name: "search", Algorithm: FixedWindow, Policy: Policy{Limit: 2, Window: time.Minute}, Routes: []string{"/search/"}},
		}}}})
	require.NoError(t, err)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	for i, want := range []int{200, 200, 429} {
		rec := get("/search/code")
		assert.Equal(t, want, rec.Code, "search %d", i)
		assert.Equal(t, "search", rec.Header().Get("X-Ratelimit-Resource"))
		if want == http.StatusTooManyRequests { // the body names the route's rule, in the tier's numbering
			assert.Contains(t, rec.Body.String(), `rule \"search\"`)
			assert.NotContains(t, rec.Body.String(), `\"core\"`)
		}
	}
	rec := get("/repos/a/b")
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "core", rec.Header().Get("X-Ratelimit-Resource"))
	assert.Equal(t, "4", rec.Header().Get("X-Ratelimit-Remaining"), "search requests do not count against core")

	metrics := httptest.NewRecorder()
	h.ServeHTTP(metrics, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := metrics.Body.String()
	assert.Contains(t, body, `mockserver_requests_total{algorithm="fixed-window",result="rejected",route="/search/",rule="search",tier="t"} 1`)
	assert.Contains(t, body, `mockserver_requests_total{algorithm="fixed-window",result="allowed",route="other",rule="core",tier="t"} 1`)
}
