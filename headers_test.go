package ratekit

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// t0 is the instant every vector is received at (Unix 1795456800).
var t0 = time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// sec is n seconds, for brevity in tables.
func sec(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

// q builds an expected quota; a zero reset means "not reported".
func q(policy, dim string, limit, remaining int64, window time.Duration, reset time.Time) Quota {
	return Quota{Policy: policy, Dimension: dim, Limit: limit, Remaining: remaining, Window: window, Reset: reset}
}

// hdr builds a header from "Name: value" lines through http.Header.Add, which canonicalises names as
// net/http does for received responses.
func hdr(lines ...string) http.Header {
	h := http.Header{}
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		h.Add(name, strings.TrimPrefix(value, " "))
	}
	return h
}

// rawHdr builds a header keeping names exactly as written (lowercase as HTTP/2 sends, or any case a
// hand-built header holds).
func rawHdr(lines ...string) http.Header {
	h := http.Header{}
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		h[name] = append(h[name], strings.TrimPrefix(value, " "))
	}
	return h
}

var none time.Time

// date is the Date header for a server whose clock reads t0 + skew when we receive its response.
func date(skew time.Duration) string { return "Date: " + t0.Add(skew).Format(http.TimeFormat) }

type vector struct {
	name    string // where the vector comes from
	h       http.Header
	format  ResetFormat
	retryAt time.Time
	quotas  []Quota
}

func runVectors(t *testing.T, vectors []vector) {
	t.Helper()
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			p := Parser{ResetFormat: v.format}
			got := p.Parse(v.h, t0)
			checkObservation(t, got, v.retryAt, v.quotas)
		})
	}
}

func checkObservation(t *testing.T, got Observation, retryAt time.Time, quotas []Quota) {
	t.Helper()
	assert.True(t, got.RetryAt.Equal(retryAt), "RetryAt = %v, want %v", fmtTime(got.RetryAt), fmtTime(retryAt))
	require.Len(t, got.Quotas, len(quotas), "\n got  %s\n want %s", fmtQuotas(got.Quotas), fmtQuotas(quotas))
	for i := range quotas {
		g, w := got.Quotas[i], quotas[i]
		same := g.Policy == w.Policy && g.Dimension == w.Dimension && g.Limit == w.Limit && g.Remaining == w.Remaining &&
			g.Window == w.Window && g.Reset.Equal(w.Reset)
		assert.True(t, same, "quota %d:\n got  %s\n want %s", i, fmtQuota(g), fmtQuota(w))
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return fmt.Sprintf("t0%+v", t.Sub(t0))
}

func fmtQuota(q Quota) string {
	return fmt.Sprintf("{policy %q dim %q limit %d remaining %d window %v reset %s}", q.Policy, q.Dimension, q.Limit, q.Remaining, q.Window, fmtTime(q.Reset))
}

func fmtQuotas(qs []Quota) string {
	var parts []string
	for _, q := range qs {
		parts = append(parts, fmtQuota(q))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

var vectorsNothing = []vector{
	{name: "empty header", h: http.Header{}},
	{name: "nil header", h: nil},
	{name: "typical response without limits", h: hdr("Content-Type: application/json", "Content-Length: 12",
		date(0), "Server: nginx", "Vary: Accept-Encoding", "X-Request-Id: abc", "Access-Control-Allow-Origin: *",
		"Cache-Control: no-cache", "Etag: \"x\"", "Retry: 5", "RateLimiter: x", "X-RateLimited: true")},
	{name: "Date alone is no signal", h: hdr(date(time.Hour))},
	{name: "field present but empty", h: hdr("Retry-After: ", "X-RateLimit-Remaining: ", "RateLimit: ")},
}

func TestParseHeadersNothing(t *testing.T) {
	runVectors(t, vectorsNothing)
	got := ParseHeaders(hdr("Content-Type: text/plain"), t0)
	assert.Nil(t, got.Quotas, "no headers")
	assert.True(t, got.Empty(), "no headers: got %+v, want the zero Observation", got)
}

var vectorsRetryAfter = []vector{
	{name: "RFC 9110 delay-seconds", h: hdr("Retry-After: 120"), retryAt: at(sec(120))},
	{name: "RFC 9110 IMF-fixdate", h: hdr(date(0), "Retry-After: Mon, 23 Nov 2026 18:01:30 GMT"), retryAt: at(sec(90))},
	{name: "RFC 9110 obsolete RFC 850 date", h: hdr(date(0), "Retry-After: Monday, 23-Nov-26 18:01:30 GMT"), retryAt: at(sec(90))},
	{name: "RFC 9110 obsolete asctime date", h: hdr(date(0), "Retry-After: Mon Nov 23 18:01:30 2026"), retryAt: at(sec(90))},
	{name: "RFC 9110 date without a Date header trusts our clock", h: hdr("Retry-After: Mon, 23 Nov 2026 18:00:45 GMT"), retryAt: at(sec(45))},
	{name: "skewed server clock: date is read relative to Date", h: hdr(date(-5*time.Minute), "Retry-After: Mon, 23 Nov 2026 17:56:00 GMT"), retryAt: at(sec(60))},
	{name: "wild: decimal 2.0", h: hdr("Retry-After: 2.0"), retryAt: at(sec(2))},
	{name: "wild: decimal 1.5", h: hdr("Retry-After: 1.5"), retryAt: at(sec(1.5))},
	{name: "wild: zero means now", h: hdr("Retry-After: 0"), retryAt: t0},
	{name: "wild: negative is invalid", h: hdr("Retry-After: -5")},
	{name: "wild: absurd 1000000 parses (policy caps it)", h: hdr("Retry-After: 1000000"), retryAt: at(sec(1000000))},
	{name: "trap: beyond 40 days is suspect", h: hdr("Retry-After: 99999999")},
	{name: "trap: 484289h is the sign of an unbounded wait", h: hdr("Retry-After: 1743440400")},
	{name: "wild: date in the past means now", h: hdr(date(0), "Retry-After: Sun, 06 Nov 1994 08:49:37 GMT"), retryAt: t0},
	{name: "trap: date beyond 40 days", h: hdr(date(0), "Retry-After: Sun, 06 Nov 2044 08:49:37 GMT")},
	{name: "proxy merged numbers: longest wins", h: hdr("Retry-After: 120, 60"), retryAt: at(sec(120))},
	{name: "two field lines: longest wins", h: hdr("Retry-After: 30", "Retry-After: 45"), retryAt: at(sec(45))},
	{name: "trap: HTTP-date commas are not a merge", h: hdr(date(0), "Retry-After: Mon, 23 Nov 2026 18:00:10 GMT"), retryAt: at(sec(10))},
	{name: "trap: a date merged with a number is unreadable", h: hdr("Retry-After: Mon, 23 Nov 2026 18:00:10 GMT, 60")},
	{name: "garbage: words", h: hdr("Retry-After: soon")},
	{name: "garbage: NaN", h: hdr("Retry-After: NaN")},
	{name: "garbage: Inf", h: hdr("Retry-After: +Inf")},
	{name: "garbage: exponent", h: hdr("Retry-After: 1e3")},
	{name: "garbage: hex", h: hdr("Retry-After: 0x10")},
	{name: "garbage: unit suffix", h: hdr("Retry-After: 5s")},
	{name: "garbage: lone dot", h: hdr("Retry-After: .")},
	{name: "garbage: whitespace around is tolerated", h: hdr("Retry-After: \t 7 "), retryAt: at(sec(7))},
	{name: "OpenAI SDK retry-after-ms preferred", h: hdr("Retry-After: 10", "Retry-After-Ms: 1500"), retryAt: at(sec(1.5))},
	{name: "Azure x-ms-retry-after-ms", h: hdr("X-Ms-Retry-After-Ms: 250"), retryAt: at(250 * time.Millisecond)},
	{name: "retry-after-ms garbage falls back to Retry-After", h: hdr("Retry-After: 10", "Retry-After-Ms: soon"), retryAt: at(sec(10))},
	{name: "HTTP/2 lowercase names", h: rawHdr("retry-after: 3"), retryAt: at(sec(3))},
}

func TestParseHeadersRetryAfter(t *testing.T) {
	runVectors(t, vectorsRetryAfter)
}

var vectorsIETF = []vector{
	{name: "draft-11 two policies", h: hdr(
		`RateLimit-Policy: "minute";q=60;w=60, "day";q=1000;w=86400`,
		`RateLimit: "minute";r=12;t=33, "day";r=900;t=3600`),
		quotas: []Quota{
			q("day", "requests", 1000, 900, 24*time.Hour, at(time.Hour)),
			q("minute", "requests", 60, 12, time.Minute, at(sec(33))),
		}},
	{name: "draft-11 lists split over several field lines", h: hdr(
		`RateLimit-Policy: "minute";q=60;w=60`, `RateLimit-Policy: "day";q=1000;w=86400`,
		`RateLimit: "day";r=900;t=3600`, `RateLimit: "minute";r=0;t=5`),
		quotas: []Quota{
			q("day", "requests", 1000, 900, 24*time.Hour, at(time.Hour)),
			q("minute", "requests", 60, 0, time.Minute, at(sec(5))),
		}},
	{name: "draft-11 joined by name, not by position", h: hdr(
		`RateLimit-Policy: "a";q=10;w=1, "b";q=20;w=2`, `RateLimit: "b";r=19;t=2, "a";r=9;t=1`),
		quotas: []Quota{q("a", "requests", 10, 9, sec(1), at(sec(1))), q("b", "requests", 20, 19, sec(2), at(sec(2)))}},
	{name: "draft-11 units and partition keys", h: hdr(
		`RateLimit-Policy: "bytes";q=65535;qu="content-bytes";w=10;pk=:dXNlcjE=:`,
		`RateLimit: "bytes";r=1000;t=4;pk=:dXNlcjE=:`),
		quotas: []Quota{q("bytes", "content-bytes", 65535, 1000, sec(10), at(sec(4)))}},
	{name: "draft-11 state without a policy", h: hdr(`RateLimit: "rl-5-in-1min";r=2;t=40`),
		quotas: []Quota{q("rl-5-in-1min", "requests", -1, 2, 0, at(sec(40)))}},
	{name: "draft-11 policy without state", h: hdr(`RateLimit-Policy: "hourly";q=100;w=3600`),
		quotas: []Quota{q("hourly", "requests", 100, -1, time.Hour, none)}},
	{name: "draft-11 member without the required r is ignored", h: hdr(`RateLimit: "p";t=40, "q";r=3`),
		quotas: []Quota{q("q", "requests", -1, 3, 0, none)}},
	{name: "draft-11 escaped quotes in a name", h: hdr(`RateLimit-Policy: "a\"b";q=5;w=1`, `RateLimit: "a\"b";r=4;t=1`),
		quotas: []Quota{q(`a"b`, "requests", 5, 4, sec(1), at(sec(1)))}},
	{name: "trap: malformed field is ignored whole", h: hdr(`RateLimit-Policy: "minute";q=60;w=60`, `RateLimit: "minute";r=12;t=33, day;r=`),
		quotas: []Quota{q("minute", "requests", 60, -1, time.Minute, none)}},
	{name: "trap: trailing comma makes the list malformed", h: hdr(`RateLimit: "minute";r=12,`)},
	{name: "trap: Retry-After takes precedence", h: hdr("Retry-After: 30", `RateLimit: "minute";r=0;t=10`),
		retryAt: at(sec(30)), quotas: []Quota{q("minute", "requests", -1, 0, 0, at(sec(10)))}},
	{name: "draft-08 tokens as names", h: hdr(`RateLimit-Policy: burst;q=100;w=60,daily;q=1000;w=86400`, `RateLimit: burst;r=50;t=30`),
		quotas: []Quota{
			q("burst", "requests", 100, 50, time.Minute, at(sec(30))),
			q("daily", "requests", 1000, -1, 24*time.Hour, none),
		}},
	{name: "draft-07 dictionary (express-rate-limit draft-7)", h: hdr(`RateLimit: limit=100, remaining=50, reset=5`, `RateLimit-Policy: 100;w=10`),
		quotas: []Quota{q("", "requests", 100, 50, sec(10), at(sec(5)))}},
	{name: "draft-07 dictionary with a second policy", h: hdr(`RateLimit: limit=10, remaining=1, reset=7`, `RateLimit-Policy: 10;w=1, 50;w=60`),
		quotas: []Quota{q("", "requests", 10, 1, sec(1), at(sec(7))), q("50;w=60", "requests", 50, -1, time.Minute, none)}},
	{name: "draft-06 separate fields, delay reset", h: hdr("RateLimit-Limit: 100", "RateLimit-Remaining: 50", "RateLimit-Reset: 5"),
		quotas: []Quota{q("", "requests", 100, 50, 0, at(sec(5)))}},
	{name: "draft-03 policies inside the limit", h: hdr("RateLimit-Limit: 10, 10;w=1, 50;w=60", "RateLimit-Remaining: 5", "RateLimit-Reset: 1"),
		quotas: []Quota{q("", "requests", 10, 5, sec(1), at(sec(1))), q("50;w=60", "requests", 50, -1, time.Minute, none)}},
	{name: "draft-03 window= form", h: hdr("RateLimit-Limit: 100, 100;window=60", "RateLimit-Remaining: 99", "RateLimit-Reset: 60"),
		quotas: []Quota{q("", "requests", 100, 99, time.Minute, at(time.Minute))}},
	{name: "Jira Beta- prefix", h: hdr(`Beta-RateLimit-Policy: "global-app";q=100;w=60`, `Beta-RateLimit: "global-app";r=90;t=30`),
		quotas: []Quota{q("global-app", "requests", 100, 90, time.Minute, at(sec(30)))}},
	{name: "express-rate-limit draft-7 and legacy headers merge into one quota", h: hdr(
		`RateLimit: limit=100, remaining=50, reset=5`, `RateLimit-Policy: 100;w=60`,
		"X-RateLimit-Limit: 100", "X-RateLimit-Remaining: 50", "X-RateLimit-Reset: 1795456805"),
		quotas: []Quota{q("", "requests", 100, 50, time.Minute, at(sec(5)))}},
	{name: "Cloudflare API draft-11 lowercase names over HTTP/2", h: rawHdr(
		`ratelimit-policy: "default";q=1200;w=300`, `ratelimit: "default";r=1199;t=300`),
		quotas: []Quota{q("default", "requests", 1200, 1199, 5*time.Minute, at(5*time.Minute))}},
	{name: "trap: remaining above the limit is clamped", h: hdr(`RateLimit-Policy: "p";q=10`, `RateLimit: "p";r=50`),
		quotas: []Quota{q("p", "requests", 10, 10, 0, none)}},
	{name: "trap: negative t is ignored", h: hdr(`RateLimit: "p";r=1;t=-5`), quotas: []Quota{q("p", "requests", -1, 1, 0, none)}},
}

func TestParseHeadersIETF(t *testing.T) {
	runVectors(t, vectorsIETF)
}

var vectorsXRateLimit = []vector{
	{name: "GitHub core", h: hdr(date(0), "X-RateLimit-Limit: 5000", "X-RateLimit-Remaining: 4999", "X-RateLimit-Used: 1",
		"X-RateLimit-Reset: 1795460400", "X-RateLimit-Resource: core"),
		quotas: []Quota{q("core", "requests", 5000, 4999, 0, at(time.Hour))}},
	{name: "GitHub search, server clock 30 s ahead", h: hdr(date(30*time.Second), "x-ratelimit-limit: 30", "x-ratelimit-remaining: 0",
		"x-ratelimit-used: 30", "x-ratelimit-reset: 1795456860", "x-ratelimit-resource: search"),
		quotas: []Quota{q("search", "requests", 30, 0, 0, at(sec(30)))}},
	{name: "GitHub secondary limit: 403 with retry-after and remaining left", h: hdr(date(0), "Retry-After: 60",
		"X-RateLimit-Limit: 5000", "X-RateLimit-Remaining: 4000", "X-RateLimit-Reset: 1795458000", "X-RateLimit-Resource: core"),
		retryAt: at(time.Minute), quotas: []Quota{q("core", "requests", 5000, 4000, 0, at(20*time.Minute))}},
	{name: "GitLab epoch reset despite the IETF names", h: hdr(date(0), "RateLimit-Limit: 600", "RateLimit-Remaining: 599",
		"RateLimit-Observed: 1", "RateLimit-Reset: 1795456860", "RateLimit-ResetTime: Mon, 23 Nov 2026 18:01:00 GMT",
		"RateLimit-Name: throttle_authenticated_api"),
		quotas: []Quota{q("throttle_authenticated_api", "requests", 600, 599, 0, at(time.Minute))}},
	{name: "GitLab ResetTime alone, observed gives remaining", h: hdr(date(0), "RateLimit-Limit: 600", "RateLimit-Observed: 20",
		"RateLimit-ResetTime: Mon, 23 Nov 2026 18:01:00 GMT"),
		quotas: []Quota{q("", "requests", 600, 580, 0, at(time.Minute))}},
	{name: "go-limiter: reset and Retry-After in Go's RFC 1123 with the zone UTC", h: hdr("X-Ratelimit-Limit: 50", "X-Ratelimit-Remaining: 0",
		"X-Ratelimit-Reset: Mon, 23 Nov 2026 18:00:01 UTC", "Retry-After: Mon, 23 Nov 2026 18:00:01 UTC"),
		retryAt: at(sec(1)), quotas: []Quota{q("", "requests", 50, 0, 0, at(sec(1)))}},
	{name: "Twitch Ratelimit-* epoch", h: hdr("Ratelimit-Limit: 800", "Ratelimit-Remaining: 799", "Ratelimit-Reset: 1795456801"),
		quotas: []Quota{q("", "requests", 800, 799, 0, at(sec(1)))}},
	{name: "X/Twitter x-rate-limit-*", h: rawHdr("x-rate-limit-limit: 900", "x-rate-limit-remaining: 899", "x-rate-limit-reset: 1795457700"),
		quotas: []Quota{q("", "requests", 900, 899, 0, at(15*time.Minute))}},
	{name: "Okta X-Rate-Limit-*", h: hdr(date(0), "X-Rate-Limit-Limit: 600", "X-Rate-Limit-Remaining: 0", "X-Rate-Limit-Reset: 1795456842"),
		quotas: []Quota{q("", "requests", 600, 0, 0, at(sec(42)))}},
	{name: "Discord prefers reset-after, bucket is the policy", h: hdr("X-RateLimit-Limit: 5", "X-RateLimit-Remaining: 4",
		"X-RateLimit-Reset: 1470173023.123", "X-RateLimit-Reset-After: 1.234", "X-RateLimit-Bucket: abcd1234"),
		quotas: []Quota{q("abcd1234", "requests", 5, 4, 0, at(sec(1.234)))}},
	{name: "Discord epoch reset with decimals", h: hdr(date(0), "X-RateLimit-Limit: 5", "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 1795456802.5"),
		quotas: []Quota{q("", "requests", 5, 0, 0, at(sec(2.5)))}},
	{name: "trap: Discord shared-scope 429 with remaining left", h: hdr("Retry-After: 3", "X-RateLimit-Limit: 10",
		"X-RateLimit-Remaining: 9", "X-RateLimit-Reset-After: 3", "X-RateLimit-Scope: shared"),
		retryAt: at(sec(3)), quotas: []Quota{q("", "requests", 10, 9, 0, at(sec(3)))}},
	{name: "Reddit used + remaining float, delay reset", h: rawHdr("x-ratelimit-used: 4", "x-ratelimit-remaining: 596.0", "x-ratelimit-reset: 296"),
		quotas: []Quota{q("", "requests", 600, 596, 0, at(sec(296)))}},
	{name: "Reddit remaining with a fraction is floored", h: rawHdr("x-ratelimit-used: 10", "x-ratelimit-remaining: 589.5", "x-ratelimit-reset: 30"),
		quotas: []Quota{q("", "requests", 599, 589, 0, at(sec(30)))}},
	{name: "Mastodon ISO 8601 with microseconds", h: hdr(date(0), "X-RateLimit-Limit: 300", "X-RateLimit-Remaining: 299",
		"X-RateLimit-Reset: 2026-11-23T18:05:00.123456Z"),
		quotas: []Quota{q("", "requests", 300, 299, 0, at(5*time.Minute+123456*time.Microsecond))}},
	{name: "Mastodon reset with an offset", h: hdr(date(0), "X-RateLimit-Limit: 300", "X-RateLimit-Remaining: 0",
		"X-RateLimit-Reset: 2026-11-23T19:05:00.000+01:00"),
		quotas: []Quota{q("", "requests", 300, 0, 0, at(5*time.Minute))}},
	{name: "Jira ISO with minute precision", h: hdr(date(0), "X-RateLimit-Reset: 2026-11-23T18:10Z", "X-RateLimit-Remaining: 0"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(10*time.Minute))}},
	{name: "OpenRouter epoch milliseconds", h: hdr(date(0), "X-RateLimit-Limit: 20", "X-RateLimit-Remaining: 19", "X-RateLimit-Reset: 1795456830500"),
		quotas: []Quota{q("", "requests", 20, 19, 0, at(sec(30.5)))}},
	{name: "LaunchDarkly epoch milliseconds", h: hdr("X-Ratelimit-Reset: 1795456801000", "X-Ratelimit-Route-Remaining: 9"),
		quotas: []Quota{q("", "requests", -1, -1, 0, at(sec(1)))}},
	{name: "Shopify REST call limit", h: hdr("X-Shopify-Shop-Api-Call-Limit: 32/40"), quotas: []Quota{q("", "requests", 40, 8, 0, none)}},
	{name: "trap: Shopify over-full bucket", h: hdr("X-Shopify-Shop-Api-Call-Limit: 41/40"), quotas: []Quota{q("", "requests", 40, 0, 0, none)}},
	{name: "Heroku remaining only", h: hdr("RateLimit-Remaining: 4500"), quotas: []Quota{q("", "requests", -1, 4500, 0, none)}},
	{name: "small APIs: delay seconds", h: hdr("X-RateLimit-Limit: 100", "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 17"),
		quotas: []Quota{q("", "requests", 100, 0, 0, at(sec(17)))}},
	{name: "JavaScript Date.toString", h: hdr(date(0), "X-RateLimit-Remaining: 0",
		"X-RateLimit-Reset: Mon Nov 23 2026 19:02:42 GMT+0100 (Central European Standard Time)"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(2*time.Minute+42*time.Second))}},
	{name: "HTTP-date reset is not split on its comma", h: hdr(date(0), "X-RateLimit-Remaining: 1", "X-RateLimit-Reset: Mon, 23 Nov 2026 18:01:00 GMT"),
		quotas: []Quota{q("", "requests", -1, 1, 0, at(time.Minute))}},
	{name: "server clock in 2000 (a synctest bubble): epoch seconds below 1e9", h: hdr("Date: Sat, 01 Jan 2000 00:00:00 GMT",
		"X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 946684830"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(sec(30)))}},
	{name: "server clock in 2000: epoch milliseconds below 1e12", h: hdr("Date: Sat, 01 Jan 2000 00:00:00 GMT",
		"X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 946684830500"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(sec(30.5)))}},
	{name: "trap: a delay of more than 40 days is read as an epoch, here 1970: suspect", h: hdr(date(0), "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 3456001"),
		quotas: []Quota{q("", "requests", -1, 0, 0, none)}},
	{name: "trap: merged numeric singletons, min remaining and max reset", h: hdr("X-RateLimit-Limit: 10, 10",
		"X-RateLimit-Remaining: 5, 3", "X-RateLimit-Reset: 10, 20"),
		quotas: []Quota{q("", "requests", 10, 3, 0, at(sec(20)))}},
	{name: "trap: repeated field lines, min remaining", h: hdr("X-RateLimit-Remaining: 7", "X-RateLimit-Remaining: 2"),
		quotas: []Quota{q("", "requests", -1, 2, 0, none)}},
	{name: "trap: epoch reset ten years ahead is suspect", h: hdr(date(0), "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 2110000000"),
		quotas: []Quota{q("", "requests", -1, 0, 0, none)}},
	{name: "trap: reset two minutes past is suspect", h: hdr(date(0), "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 1795456680"),
		quotas: []Quota{q("", "requests", -1, 0, 0, none)}},
	{name: "trap: reset a few seconds past is clamped to now", h: hdr(date(0), "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 1795456795"),
		quotas: []Quota{q("", "requests", -1, 0, 0, t0)}},
	{name: "trap: a Date 39 days behind is a broken Date, not a clock: the epoch reset reads on our clock (was a 936 h wait)",
		h:      hdr(date(-39*24*time.Hour), "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 1795456860"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(sec(60)))}},
	{name: "trap: a Date two hours ahead (a time zone written as GMT) is not believed either",
		h:      hdr(date(2*time.Hour), "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 1795456860"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(sec(60)))}},
	{name: "skewed server clock within maxClockSkew: an epoch reset is read relative to Date",
		h:      hdr(date(-10*time.Minute), "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 1795456260"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(sec(60)))}},
	{name: "trap: remaining above limit is clamped", h: hdr("X-RateLimit-Limit: 10", "X-RateLimit-Remaining: 99"),
		quotas: []Quota{q("", "requests", 10, 10, 0, none)}},
	{name: "trap: Azure-style -1 is unknown", h: hdr("X-RateLimit-Limit: -1", "X-RateLimit-Remaining: -1", "X-RateLimit-Reset: 5"),
		quotas: []Quota{q("", "requests", -1, -1, 0, at(sec(5)))}},
	{name: "trap: numbers too large for int64", h: hdr("X-RateLimit-Limit: 99999999999999999999999", "X-RateLimit-Remaining: 5"),
		quotas: []Quota{q("", "requests", -1, 5, 0, none)}},
	{name: "trap: garbage everywhere", h: hdr("X-RateLimit-Limit: lots", "X-RateLimit-Remaining: NaN", "X-RateLimit-Reset: tomorrow")},
}

func TestParseHeadersXRateLimit(t *testing.T) {
	runVectors(t, vectorsXRateLimit)
}

var vectorsResetFormatPinned = []vector{
	{name: "delay milliseconds (no rule can tell)", format: ResetDelayMilliseconds, h: hdr("X-RateLimit-Reset: 1500", "X-RateLimit-Remaining: 0"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(sec(1.5)))}},
	{name: "same value read by the auto rule", h: hdr("X-RateLimit-Reset: 1500", "X-RateLimit-Remaining: 0"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(sec(1500)))}},
	{name: "delay seconds pinned: an epoch value becomes suspect", format: ResetDelaySeconds, h: hdr("X-RateLimit-Reset: 1795456860", "X-RateLimit-Remaining: 0"),
		quotas: []Quota{q("", "requests", -1, 0, 0, none)}},
	{name: "epoch seconds pinned: a small value is 1970, suspect", format: ResetEpochSeconds, h: hdr("X-RateLimit-Reset: 60", "X-RateLimit-Remaining: 0"),
		quotas: []Quota{q("", "requests", -1, 0, 0, none)}},
	{name: "epoch seconds pinned", format: ResetEpochSeconds, h: hdr(date(0), "RateLimit-Reset: 1795456860", "RateLimit-Remaining: 0"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(time.Minute))}},
	{name: "epoch milliseconds pinned", format: ResetEpochMilliseconds, h: hdr(date(0), "X-RateLimit-Reset: 1795456830500", "X-RateLimit-Remaining: 3"),
		quotas: []Quota{q("", "requests", -1, 3, 0, at(sec(30.5)))}},
	{name: "date pinned: numbers ignored", format: ResetDate, h: hdr("X-RateLimit-Reset: 60", "X-RateLimit-Remaining: 3"),
		quotas: []Quota{q("", "requests", -1, 3, 0, none)}},
	{name: "pin does not touch defined units (IETF t, Retry-After)", format: ResetDelayMilliseconds, h: hdr("Retry-After: 2", `RateLimit: "p";r=0;t=3`),
		retryAt: at(sec(2)), quotas: []Quota{q("p", "requests", -1, 0, 0, at(sec(3)))}},
}

func TestParseHeadersResetFormatPinned(t *testing.T) {
	runVectors(t, vectorsResetFormatPinned)
}

var vectorsAI = []vector{
	{name: "OpenAI requests and tokens", h: hdr("X-Ratelimit-Limit-Requests: 500", "X-Ratelimit-Limit-Tokens: 30000",
		"X-Ratelimit-Remaining-Requests: 499", "X-Ratelimit-Remaining-Tokens: 29000",
		"X-Ratelimit-Reset-Requests: 120ms", "X-Ratelimit-Reset-Tokens: 2m59.56s"),
		quotas: []Quota{
			q("", "requests", 500, 499, 0, at(120*time.Millisecond)),
			q("", "tokens", 30000, 29000, 0, at(2*time.Minute+59560*time.Millisecond)),
		}},
	{name: "OpenAI over HTTP/2, 6m0s", h: rawHdr("x-ratelimit-limit-requests: 10000", "x-ratelimit-remaining-requests: 0", "x-ratelimit-reset-requests: 6m0s"),
		quotas: []Quota{q("", "requests", 10000, 0, 0, at(6*time.Minute))}},
	{name: "Groq open-ended suffix", h: rawHdr("x-ratelimit-limit-tokens_usage_based: 100000", "x-ratelimit-remaining-tokens_usage_based: 99000",
		"x-ratelimit-reset-tokens_usage_based: 7.66s", "x-ratelimit-limit-requests: 14400", "x-ratelimit-remaining-requests: 14370",
		"x-ratelimit-reset-requests: 2m59.56s"),
		quotas: []Quota{
			q("", "requests", 14400, 14370, 0, at(2*time.Minute+59560*time.Millisecond)),
			q("", "tokens_usage_based", 100000, 99000, 0, at(7660*time.Millisecond)),
		}},
	{name: "Azure sentinels: -1 and a bare 0 limit are unknown", h: hdr("X-Ratelimit-Limit-Requests: 0", "X-Ratelimit-Remaining-Requests: -1",
		"X-Ratelimit-Limit-Tokens: -1", "X-Ratelimit-Remaining-Tokens: 9000", "X-Ratelimit-Reset-Tokens: 0s"),
		quotas: []Quota{q("", "tokens", -1, 9000, 0, t0)}},
	{name: "Cerebras day and minute", h: rawHdr("x-ratelimit-limit-requests-day: 14400", "x-ratelimit-remaining-requests-day: 14399",
		"x-ratelimit-reset-requests-day: 33011.382867", "x-ratelimit-limit-tokens-minute: 60000",
		"x-ratelimit-remaining-tokens-minute: 59000", "x-ratelimit-reset-tokens-minute: 11.5"),
		quotas: []Quota{
			q("day", "requests", 14400, 14399, 24*time.Hour, at(time.Duration(33011.382867*float64(time.Second)))),
			q("minute", "tokens", 60000, 59000, time.Minute, at(sec(11.5))),
		}},
	{name: "Anthropic four dimensions with RFC 3339 resets", h: rawHdr("date: "+t0.Format(http.TimeFormat), "retry-after: 20",
		"anthropic-ratelimit-requests-limit: 50", "anthropic-ratelimit-requests-remaining: 0", "anthropic-ratelimit-requests-reset: 2026-11-23T18:00:20Z",
		"anthropic-ratelimit-tokens-limit: 90000", "anthropic-ratelimit-tokens-remaining: 80000", "anthropic-ratelimit-tokens-reset: 2026-11-23T18:00:05Z",
		"anthropic-ratelimit-input-tokens-limit: 40000", "anthropic-ratelimit-input-tokens-remaining: 39000", "anthropic-ratelimit-input-tokens-reset: 2026-11-23T18:00:02Z",
		"anthropic-ratelimit-output-tokens-limit: 8000", "anthropic-ratelimit-output-tokens-remaining: 7000", "anthropic-ratelimit-output-tokens-reset: 2026-11-23T18:00:09Z"),
		retryAt: at(sec(20)),
		quotas: []Quota{
			q("", "input-tokens", 40000, 39000, 0, at(sec(2))),
			q("", "output-tokens", 8000, 7000, 0, at(sec(9))),
			q("", "requests", 50, 0, 0, at(sec(20))),
			q("", "tokens", 90000, 80000, 0, at(sec(5))),
		}},
	{name: "trap: Anthropic reset a second before Date is clamped", h: hdr(date(0), "Anthropic-Ratelimit-Requests-Limit: 50",
		"Anthropic-Ratelimit-Requests-Remaining: 49", "Anthropic-Ratelimit-Requests-Reset: 2026-11-23T17:59:59Z"),
		quotas: []Quota{q("", "requests", 50, 49, 0, t0)}},
	{name: "Anthropic priority tier is a policy of its own", h: hdr(date(0), "Anthropic-Priority-Input-Tokens-Limit: 10000",
		"Anthropic-Priority-Input-Tokens-Remaining: 5000", "Anthropic-Priority-Input-Tokens-Reset: 2026-11-23T18:01:00Z",
		"Anthropic-Ratelimit-Input-Tokens-Limit: 40000", "Anthropic-Ratelimit-Input-Tokens-Remaining: 40000"),
		quotas: []Quota{q("", "input-tokens", 40000, 40000, 0, none), q("priority", "input-tokens", 10000, 5000, 0, at(time.Minute))}},
	{name: "trap: negative duration reset is ignored", h: hdr("X-Ratelimit-Remaining-Tokens: 5", "X-Ratelimit-Reset-Tokens: -3s"),
		quotas: []Quota{q("", "tokens", -1, 5, 0, none)}},
}

func TestParseHeadersAI(t *testing.T) {
	runVectors(t, vectorsAI)
}

// allVectors is every table above: the fuzz target's seed corpus.
var allVectors = slices.Concat(vectorsNothing, vectorsRetryAfter, vectorsIETF, vectorsXRateLimit, vectorsResetFormatPinned, vectorsAI,
	vectorsDialects)

func TestParserSuspectHook(t *testing.T) {
	var got []string
	p := Parser{Suspect: func(field, value string) { got = append(got, field+"="+value) }}
	p.Parse(hdr("Retry-After: soon", "X-RateLimit-Reset: 2110000000", "X-RateLimit-Remaining: 1"), t0)
	want := []string{"Retry-After=soon", "X-RateLimit-Reset=2110000000"}
	assert.Equal(t, want, got, "what Suspect saw")
}

func TestResetFormatNames(t *testing.T) {
	for f := ResetAuto; f <= ResetDate; f++ {
		back, err := ParseResetFormat(f.String())
		if assert.NoError(t, err, f.String()) {
			assert.Equal(t, f, back)
		}
	}
	_, err := ParseResetFormat("seconds")
	assert.EqualError(t, err, `ratekit: ResetFormat is "seconds"; set it to auto, delay-seconds, delay-milliseconds, epoch-seconds, epoch-milliseconds or date`)
	var ce *ConfigError
	if assert.ErrorAs(t, err, &ce) {
		assert.Equal(t, "ResetFormat", ce.Field)
	}
	assert.Equal(t, "ResetFormat(42)", ResetFormat(42).String(), "an unknown format")
}
