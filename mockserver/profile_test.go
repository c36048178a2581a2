package mockserver

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// profileStep is one request of a profile's table: when it arrives (after the bubble's start, 2000-01-01
// 00:00:00 UTC = 946684800), and the status, headers (every one but Date, Content-Length, and a 200's
// Content-Type) and, for a rejection, the body it gets.
type profileStep struct {
	at      time.Duration
	status  int
	headers []string // "Name: value"
	body    string   // checked when not empty
}

// profileCase is one profile's table: the Handler is built at built, with one rule of policy.
type profileCase struct {
	profile string
	policy  Policy
	status  int // Config.RejectStatus
	built   time.Duration
	steps   []profileStep
}

// tollboothHeaders are the headers didip/tollbooth writes at 50/s with `remaining` tokens left.
func tollboothHeaders(remaining string) []string {
	return []string{"Ratelimit-Limit: 50", "Ratelimit-Remaining: " + remaining, "Ratelimit-Reset: 1",
		"X-Rate-Limit-Duration: 1", "X-Rate-Limit-Limit: 50.00", "X-Rate-Limit-Request-Remote-Addr: 192.0.2.1:1234"}
}

// TestProfilesReproduceTheirLibraries replays, for every profile, requests at fixed instants with the
// status, header bytes and body that the library's code gives (each case says where they come from).
// The same instants were replayed against the real Go libraries in-process (synctest) with the same results.
func TestProfilesReproduceTheirLibraries(t *testing.T) {
	ms := time.Millisecond
	const plain = "Content-Type: text/plain; charset=utf-8"
	const nosniff = "X-Content-Type-Options: nosniff"
	repeat := func(n int, s profileStep) []profileStep { return slices.Repeat([]profileStep{s}, n) }
	cases := []profileCase{
		{
			// httprate limiter.go: windows from the limiter's creation (800.25); Reset = currentWindow +
			// windowLength, .Unix(); Remaining = limit - round(rate) - 1; a rejection sends Retry-After
			// int(windowLength.Seconds()) and http.Error's "Too Many Requests".
			profile: ProfileHTTPRate, policy: Policy{Limit: 5, Window: time.Second}, built: 250 * ms,
			steps: slices.Concat(
				[]profileStep{
					{at: 250 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 5", "X-Ratelimit-Remaining: 4", "X-Ratelimit-Reset: 946684801"}},
					{at: 260 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 5", "X-Ratelimit-Remaining: 3", "X-Ratelimit-Reset: 946684801"}},
					{at: 270 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 5", "X-Ratelimit-Remaining: 2", "X-Ratelimit-Reset: 946684801"}},
					{at: 280 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 5", "X-Ratelimit-Remaining: 1", "X-Ratelimit-Reset: 946684801"}},
					{at: 290 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 5", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 946684801"}},
					{at: 1240 * ms, status: 429, body: "Too Many Requests\n", headers: []string{plain, nosniff, "Retry-After: 1",
						"X-Ratelimit-Limit: 5", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 946684801"}},
					// 1.75 s: half of the previous window weighs: rate 2.5 rounds to 3, 3 + 1 <= 5.
					{at: 1750 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 5", "X-Ratelimit-Remaining: 1", "X-Ratelimit-Reset: 946684802"}},
					// rate 3.5 rounds to 4: 4 + 1 <= 5, Remaining 5 - 4 - 1.
					{at: 1750 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 5", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 946684802"}},
					// rate 4.5 rounds to 5: rejected, Remaining 5 - 5.
					{at: 1750 * ms, status: 429, body: "Too Many Requests\n", headers: []string{plain, nosniff, "Retry-After: 1",
						"X-Ratelimit-Limit: 5", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 946684802"}},
				}),
		},
		{
			// ulule/limiter: the window opens at the first request (800.4) and lasts while now <= expiration;
			// every request is counted; Reset = expiration.Unix(); no Retry-After; "Limit exceeded".
			profile: ProfileUluleLimiter, policy: Policy{Limit: 3, Window: time.Second},
			steps: []profileStep{
				{at: 400 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 3", "X-Ratelimit-Remaining: 2", "X-Ratelimit-Reset: 946684801"}},
				{at: 500 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 3", "X-Ratelimit-Remaining: 1", "X-Ratelimit-Reset: 946684801"}},
				{at: 600 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 3", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 946684801"}},
				{at: 700 * ms, status: 429, body: "Limit exceeded\n", headers: []string{plain, nosniff,
					"X-Ratelimit-Limit: 3", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 946684801"}},
				{at: 1400 * ms, status: 429, body: "Limit exceeded\n", headers: []string{plain, nosniff, // the expiration instant itself
					"X-Ratelimit-Limit: 3", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 946684801"}},
				{at: 1500 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 3", "X-Ratelimit-Remaining: 2", "X-Ratelimit-Reset: 946684802"}},
			},
		},
		{
			// throttled rate.go: emission interval 20 ms, tolerance 10 intervals, limit MaxBurst + 1 = 10;
			// http.go: Reset = ceil(ttl), Retry-After = ceil(-diff) only when limited; "limit exceeded".
			profile: ProfileThrottled, policy: Policy{Limit: 50, Window: time.Second, Burst: 10},
			steps: slices.Concat(
				[]profileStep{{at: 0, status: 200, headers: []string{"X-Ratelimit-Limit: 10", "X-Ratelimit-Remaining: 9", "X-Ratelimit-Reset: 1"}}},
				repeat(8, profileStep{at: 0, status: 200}),
				[]profileStep{
					{at: 0, status: 200, headers: []string{"X-Ratelimit-Limit: 10", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 1"}},
					{at: 0, status: 429, body: "limit exceeded\n", headers: []string{plain, nosniff, "Retry-After: 1",
						"X-Ratelimit-Limit: 10", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 1"}},
					{at: 30 * ms, status: 200, headers: []string{"X-Ratelimit-Limit: 10", "X-Ratelimit-Remaining: 0", "X-Ratelimit-Reset: 1"}},
					{at: 2 * time.Second, status: 200, headers: []string{"X-Ratelimit-Limit: 10", "X-Ratelimit-Remaining: 9", "X-Ratelimit-Reset: 1"}},
				}),
		},
		{
			// tollbooth.go: X-Rate-Limit-Limit "%.2f" of the max, Duration 1, the remote address, then
			// RateLimit-Limit round(max), Reset "1", Remaining int(tokens) (0 when limited); its own body.
			profile: ProfileTollbooth, policy: Policy{Limit: 50, Window: time.Second, Burst: 10},
			steps: slices.Concat(
				[]profileStep{{at: 0, status: 200, headers: tollboothHeaders("9")}},
				repeat(8, profileStep{at: 0, status: 200}),
				[]profileStep{
					{at: 0, status: 200, headers: tollboothHeaders("0")},
					{at: 0, status: 429, body: "You have reached maximum request limit.", headers: append(tollboothHeaders("0"), plain)},
					{at: 50 * ms, status: 200, headers: tollboothHeaders("1")}, // 2.5 tokens came back, one is taken
				}),
		},
		{
			// redis_rate lua.go allowN with burst 10 at 50/s: remaining = diff / emission_interval, 0 when
			// limited; headers as its README's users write them from the Result.
			profile: ProfileRedisRate, policy: Policy{Limit: 50, Window: time.Second, Burst: 10},
			steps: slices.Concat(
				[]profileStep{{at: 0, status: 200, headers: []string{"Ratelimit-Limit: 50", "Ratelimit-Remaining: 9", "Ratelimit-Reset: 1"}}},
				repeat(9, profileStep{at: 0, status: 200}),
				[]profileStep{
					{at: 0, status: 429, headers: []string{"Content-Type: application/json", "Ratelimit-Limit: 50", "Ratelimit-Remaining: 0",
						"Ratelimit-Reset: 1", "Retry-After: 1"}},
					{at: 70 * ms, status: 200, headers: []string{"Ratelimit-Limit: 50", "Ratelimit-Remaining: 2", "Ratelimit-Reset: 1"}},
				}),
		},
		{
			// ngx_http_limit_req_module.c: burst=10 nodelay lets 11 through at once, then one per 20 ms; 503 and
			// nginx's error page, no rate-limit headers.
			profile: ProfileNginx, policy: Policy{Limit: 50, Window: time.Second, Burst: 10},
			steps: slices.Concat(
				repeat(11, profileStep{at: 0, status: 200, headers: []string{}}),
				[]profileStep{
					{at: 0, status: 503, headers: []string{"Content-Type: text/html"}, body: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n" +
						"<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"},
					{at: 20 * ms, status: 200, headers: []string{}},
					{at: 20 * ms, status: 503},
				}),
		},
		{
			profile: ProfileNginx, policy: Policy{Limit: 2, Window: time.Second}, status: 429, // limit_req_status 429
			steps: []profileStep{
				{at: 0, status: 200}, // burst 0: one at once
				{at: 0, status: 429, body: "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n" +
					"<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"},
				{at: 500 * ms, status: 200},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				time.Sleep(tc.built)
				h, err := NewHandler(Config{Profile: tc.profile, RejectStatus: tc.status,
					Tiers: []Tier{{Name: "default", Rules: []Rule{{Policy: tc.policy}}}}})
				require.NoError(t, err)
				for i, st := range tc.steps {
					if d := time.Until(start.Add(st.at)); d > 0 {
						time.Sleep(d)
					}
					req := httptest.NewRequest("GET", "/x", nil)
					req.RemoteAddr = "192.0.2.1:1234"
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					assert.Equal(t, st.status, rec.Code, "step %d status", i)
					if st.headers != nil {
						assert.Equal(t, sortedStrings(st.headers), profileHeaders(rec), "step %d headers", i)
					}
					if st.body != "" {
						assert.Equal(t, st.body, rec.Body.String(), "step %d body", i)
					}
				}
			})
		})
	}
}

// profileHeaders lists rec's headers as "Name: value", sorted, without Date, Content-Length and a 200's
// Content-Type (which net/http or the next handler sets, not the limiter).
func profileHeaders(rec *httptest.ResponseRecorder) []string {
	out := []string{}
	for name, values := range rec.Header() {
		if name == "Date" || name == "Content-Length" || (rec.Code == http.StatusOK && name == "Content-Type") {
			continue
		}
		for _, v := range values {
			out = append(out, name+": "+v)
		}
	}
	slices.Sort(out)
	return out
}

// sortedStrings returns a sorted copy of s.
func sortedStrings(s []string) []string {
	out := slices.Clone(s)
	slices.SortFunc(out, strings.Compare)
	return out
}

// TestProfileConfigErrors checks that a profile refuses the fields it fixes, naming them.
func TestProfileConfigErrors(t *testing.T) {
	rules := func(r Rule) []Tier { return []Tier{{Name: "t", Rules: []Rule{r}}} }
	p := Policy{Limit: 5, Window: time.Second}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown", Config{Profile: "envoy"}, `Config.Profile: unknown profile "envoy" (allowed: httprate, ulule-limiter, throttled, tollbooth, redis-rate, nginx, github, openai, anthropic, stripe, shopify, discord)`},
		{"dialect", Config{Profile: ProfileThrottled, Dialect: DialectGitHub}, `Config.Dialect: profile "throttled" writes the "x-ratelimit" dialect (allowed: , x-ratelimit)`},
		{"retry-after", Config{Profile: ProfileUluleLimiter, RetryAfter: RetryAfterSeconds}, `Config.RetryAfter: profile "ulule-limiter" writes Retry-After as "none"`},
		{"render", Config{Profile: ProfileHTTPRate, Render: Rendering{Precision: PrecisionMillis}}, `Config.Render: profile "httprate" fixes it`},
		{"status", Config{Profile: ProfileThrottled, RejectStatus: 503}, `Config.RejectStatus: profile "throttled" rejects with [429] (allowed: 429)`},
		{"nginx-status", Config{Profile: ProfileNginx, RejectStatus: 403}, `(allowed: 503, 429)`},
		{"algorithm", Config{Profile: ProfileTollbooth, Tiers: rules(Rule{Algorithm: GCRA, Policy: p})}, `Config.Tiers[0].Rules[0].Algorithm: profile "tollbooth" runs token-bucket (allowed: , token-bucket)`},
		{"anchor", Config{Profile: ProfileHTTPRate, Tiers: rules(Rule{Anchor: AnchorEpoch, Policy: p})}, `Config.Tiers[0].Rules[0].Anchor: profile "httprate" fixes it`},
		{"burst", Config{Profile: ProfileUluleLimiter, Tiers: rules(Rule{Policy: Policy{Limit: 5, Window: time.Second, Burst: 2}})}, `profile "ulule-limiter" has no burst`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHandler(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	for _, name := range Profiles() {
		_, err := NewHandler(Config{Profile: name})
		assert.NoError(t, err, "profile %s with the default tier", name)
	}
}
