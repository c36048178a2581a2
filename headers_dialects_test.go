package ratekit

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vectors of the dialects added for issue 12. Each name says where the headers come from: the sender's
// documentation or recorded traffic.
var vectorsDialects = []vector{
	// RFC 9110 §5.3: a proxy may merge repeated field lines; HTTP-dates hold commas.
	{name: "RFC 9110 proxy-merged Retry-After of two past HTTP-dates (issue 12) means now", h: hdr(date(0),
		"Retry-After: Fri, 31 Dec 1999 23:59:59 GMT, Fri, 31 Dec 1999 23:59:59 GMT"), retryAt: t0},
	{name: "RFC 9110 proxy-merged HTTP-dates: the latest wins", h: hdr(date(0),
		"Retry-After: Mon, 23 Nov 2026 18:00:30 GMT, Mon, 23 Nov 2026 18:01:00 GMT"), retryAt: at(time.Minute)},
	{name: "RFC 9110 proxy-merged RFC 850 and IMF-fixdate", h: hdr(date(0),
		"Retry-After: Monday, 23-Nov-26 18:01:30 GMT, Mon, 23 Nov 2026 18:00:10 GMT"), retryAt: at(sec(90))},
	{name: "trap: merged date and garbage is unreadable", h: hdr(date(0), "Retry-After: Mon, 23 Nov 2026 18:00:10 GMT, soon")},
	{name: "trap: merged dates with a trailing comma are unreadable", h: hdr(date(0), "Retry-After: Mon Nov 23 18:00:10 2026,")},

	// developer.whoop.com/docs/developing/rate-limiting (draft-polli-ratelimit-headers-00 style).
	{name: "WHOOP X-RateLimit-Limit with windows (developer.whoop.com)", h: hdr(
		"X-RateLimit-Limit: 100, 100;window=60, 10000;window=86400", "X-RateLimit-Remaining: 98", "X-RateLimit-Reset: 3"),
		quotas: []Quota{q("", "requests", 100, 98, time.Minute, at(sec(3))), q("10000;w=86400", "requests", 10000, -1, 24*time.Hour, none)}},
	// envoyproxy.io rate_limit filter, enable_x_ratelimit_headers: DRAFT_VERSION_03.
	{name: "Envoy x-ratelimit draft-03 headers (envoyproxy.io)", h: rawHdr("x-ratelimit-limit: 10, 10;w=60",
		"x-ratelimit-remaining: 0", "x-ratelimit-reset: 42", "x-envoy-ratelimited: true"),
		quotas: []Quota{q("", "requests", 10, 0, time.Minute, at(sec(42)))}},

	// express-rate-limit 8.7.5, standardHeaders: 'draft-6' (interop's peer, as recorded): the separate fields
	// of draft 6 beside the policy list that describes them.
	{name: "express-rate-limit draft-6: RateLimit-Policy gives the separate RateLimit-Limit its window", h: hdr(
		"RateLimit-Policy: 50;w=1", "RateLimit-Limit: 50", "RateLimit-Remaining: 49", "RateLimit-Reset: 1"),
		quotas: []Quota{q("", "requests", 50, 49, time.Second, at(sec(1)))}},
	{name: "draft 6: a policy of another limit stays a quota of its own", h: hdr(
		"RateLimit-Policy: 50;w=1, 1000;w=3600", "RateLimit-Limit: 50", "RateLimit-Remaining: 49", "RateLimit-Reset: 1"),
		quotas: []Quota{q("", "requests", 50, 49, time.Second, at(sec(1))), q("1000;w=3600", "requests", 1000, -1, time.Hour, none)}},

	// docs.x.com x-api/fundamentals/rate-limits; plhery/node-twitter-api-v2 issues 495 and 553.
	{name: "X API v2 15-minute, app 24-hour and user 24-hour limits (docs.x.com)", h: rawHdr(date(0),
		"x-rate-limit-limit: 900", "x-rate-limit-remaining: 899", "x-rate-limit-reset: 1795457700",
		"x-app-limit-24hour-limit: 10000", "x-app-limit-24hour-remaining: 9990", "x-app-limit-24hour-reset: 1795500000",
		"x-user-limit-24hour-limit: 100", "x-user-limit-24hour-remaining: 0", "x-user-limit-24hour-reset: 1795464000"),
		quotas: []Quota{
			q("", "requests", 900, 899, 0, at(15*time.Minute)),
			q("app-24hour", "requests", 10000, 9990, 24*time.Hour, at(12*time.Hour)),
			q("user-24hour", "requests", 100, 0, 24*time.Hour, at(2*time.Hour)),
		}},
	{name: "X API v2 canonical names (net/http)", h: hdr(date(0), "X-App-Limit-24hour-Limit: 10000",
		"X-App-Limit-24hour-Remaining: 0", "X-App-Limit-24hour-Reset: 1795460400"),
		quotas: []Quota{q("app-24hour", "requests", 10000, 0, 24*time.Hour, at(time.Hour))}},

	// didip/tollbooth v6 tollbooth.go setResponseHeaders; api.publicapis.org traffic.
	{name: "tollbooth X-Rate-Limit-Duration in seconds (didip/tollbooth)", h: hdr("X-Rate-Limit-Limit: 50.00", "X-Rate-Limit-Duration: 1"),
		quotas: []Quota{q("", "requests", 50, -1, time.Second, none)}},
	{name: "tollbooth as api.publicapis.org sent it", h: hdr("X-Rate-Limit-Duration: 1", "X-Rate-Limit-Limit: 10.00",
		"X-Rate-Limit-Request-Forwarded-For: 180.150.38.46", "X-Rate-Limit-Request-Remote-Addr: 172.17.0.1:57590"),
		quotas: []Quota{q("", "requests", 10, -1, time.Second, none)}},
	{name: "tollbooth duration as a Go duration", h: hdr("X-Rate-Limit-Limit: 10", "X-Rate-Limit-Duration: 1m0s"),
		quotas: []Quota{q("", "requests", 10, -1, time.Minute, none)}},

	// developer.zendesk.com/documentation/api-basics/best-practices/best-practices-for-avoiding-rate-limiting.
	{name: "Zendesk account and tickets-index limits (developer.zendesk.com)", h: rawHdr("x-rate-limit: 700",
		"ratelimit-limit: 700", "x-rate-limit-remaining: 699", "ratelimit-remaining: 699", "ratelimit-reset: 41",
		"zendesk-ratelimit-tickets-index: total=100; remaining=99; resets=41"),
		quotas: []Quota{q("", "requests", 700, 699, 0, at(sec(41))), q("tickets-index", "requests", 100, 99, 0, at(sec(41)))}},

	// developers.hubspot.com changelog 2018-11-06 and api-usage/usage-details.
	{name: "HubSpot daily, secondly and interval limits (developers.hubspot.com)", h: hdr(
		"X-HubSpot-RateLimit-Daily: 250000", "X-HubSpot-RateLimit-Daily-Remaining: 249990",
		"X-HubSpot-RateLimit-Interval-Milliseconds: 10000", "X-HubSpot-RateLimit-Max: 100", "X-HubSpot-RateLimit-Remaining: 97",
		"X-HubSpot-RateLimit-Secondly: 10", "X-HubSpot-RateLimit-Secondly-Remaining: 9"),
		quotas: []Quota{
			q("", "requests", 100, 97, 10*time.Second, none),
			q("day", "requests", 250000, 249990, 24*time.Hour, none),
			q("second", "requests", 10, 9, time.Second, none),
		}},
	// marketplace.gohighlevel.com/docs/other/rate-limits: the period before and after the field word.
	{name: "HighLevel daily and burst limits, period in either order (marketplace.gohighlevel.com)", h: hdr(
		"X-RateLimit-Limit-Daily: 200000", "X-RateLimit-Daily-Remaining: 199990", "X-RateLimit-Interval-Milliseconds: 10000",
		"X-RateLimit-Max: 100", "X-RateLimit-Remaining: 99"),
		quotas: []Quota{q("", "requests", 100, 99, 10*time.Second, none), q("day", "requests", 200000, 199990, 24*time.Hour, none)}},

	// developer.konghq.com/plugins/rate-limiting and response-ratelimiting.
	{name: "Kong rate-limiting per period and RateLimit-* (developer.konghq.com)", h: hdr("X-RateLimit-Limit-Minute: 10",
		"X-RateLimit-Remaining-Minute: 9", "X-RateLimit-Limit-Hour: 1000", "X-RateLimit-Remaining-Hour: 990",
		"RateLimit-Limit: 10", "RateLimit-Remaining: 9", "RateLimit-Reset: 42"),
		quotas: []Quota{
			q("", "requests", 10, 9, 0, at(sec(42))),
			q("hour", "requests", 1000, 990, time.Hour, none),
			q("minute", "requests", 10, 9, time.Minute, none),
		}},
	{name: "Kong response-ratelimiting custom limit", h: hdr("X-RateLimit-Limit-Videos-Minute: 10", "X-RateLimit-Remaining-Videos-Minute: 9"),
		quotas: []Quota{q("minute", "videos", 10, 9, time.Minute, none)}},

	// learn.microsoft.com azure-resource-manager/management/request-limits-and-throttling; az CLI --debug.
	{name: "Azure Resource Manager remaining per scope and per resource (learn.microsoft.com)", h: rawHdr(
		"x-ms-ratelimit-remaining-subscription-reads: 11999",
		"x-ms-ratelimit-remaining-resource: Microsoft.Compute/GetVMScaleSet3Min;197,Microsoft.Compute/GetVMScaleSet30Min;1297"),
		quotas: []Quota{
			q("Microsoft.Compute/GetVMScaleSet30Min", "requests", -1, 1297, 0, none),
			q("Microsoft.Compute/GetVMScaleSet3Min", "requests", -1, 197, 0, none),
			q("subscription-reads", "requests", -1, 11999, 0, none),
		}},
	{name: "Azure Resource Manager writes, canonical names", h: hdr("X-Ms-Ratelimit-Remaining-Subscription-Writes: 1199",
		"X-Ms-Ratelimit-Remaining-Tenant-Reads: 0"),
		quotas: []Quota{q("subscription-writes", "requests", -1, 1199, 0, none), q("tenant-reads", "requests", -1, 0, 0, none)}},

	// developer.xero.com/documentation/guides/oauth2/limits; XeroAPI/xero-node issue 634.
	{name: "Xero day, minute and app-minute limits, period glued to the limit word (developer.xero.com)", h: hdr(
		"X-DayLimit-Remaining: 4990", "X-MinLimit-Remaining: 59", "X-AppMinLimit-Remaining: 9990", "X-Rate-Limit-Problem: minute"),
		quotas: []Quota{
			q("app-minute", "requests", -1, 9990, time.Minute, none),
			q("day", "requests", -1, 4990, 24*time.Hour, none),
			q("minute", "requests", -1, 59, time.Minute, none),
		}},

	// developer.salesforce.com api_rest headers_api_usage.
	{name: "Salesforce Sforce-Limit-Info api-usage and per-app usage (developer.salesforce.com)", h: hdr(
		"Sforce-Limit-Info: api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)"),
		quotas: []Quota{q("api-usage", "requests", 5000, 4975, 0, none), q("per-app-api-usage", "requests", 250, 233, 0, none)}},
	// The same page's first example: api-usage alone, read as the org's daily API requests (used 25 of
	// 5000), not as any other quota (a misread was reported); lowercase as HTTP/2 sends it.
	{name: "Salesforce Sforce-Limit-Info api-usage alone (developer.salesforce.com)", h: hdr("Sforce-Limit-Info: api-usage=25/5000"),
		quotas: []Quota{q("api-usage", "requests", 5000, 4975, 0, none)}},
	// A connected app's name is free text: spaces and a semicolon inside the parentheses are part of it.
	{name: "Salesforce per-app usage of an app named with spaces and a semicolon", h: hdr(
		"Sforce-Limit-Info: api-usage=18/5000;per-app-api-usage=17/250(appName=My Sample App; EU)"),
		quotas: []Quota{q("api-usage", "requests", 5000, 4982, 0, none), q("per-app-api-usage", "requests", 250, 233, 0, none)}},
	{name: "Salesforce sforce-limit-info in lowercase (HTTP/2)", h: rawHdr("sforce-limit-info: api-usage=25/5000"),
		quotas: []Quota{q("api-usage", "requests", 5000, 4975, 0, none)}},

	// developer.atlassian.com/cloud/jira/platform/rate-limiting.
	{name: "Jira Cloud 429 with NearLimit and RateLimit-Reason (developer.atlassian.com)", h: hdr(date(0), "Retry-After: 30",
		"X-RateLimit-Limit: 100", "X-RateLimit-Remaining: 0", "X-RateLimit-Reset: 2026-11-23T18:01Z",
		"X-RateLimit-NearLimit: true", "RateLimit-Reason: jira-burst-based"),
		retryAt: at(sec(30)), quotas: []Quota{q("", "requests", 100, 0, 0, at(time.Minute))}},
	// confluence.atlassian.com Data Center rate limiting HTTP headers: a token bucket.
	{name: "trap: Confluence DC fill rate: the interval is not the limit's window (confluence.atlassian.com)", h: hdr(
		"X-RateLimit-Limit: 20", "X-RateLimit-Remaining: 19", "X-RateLimit-Interval-Seconds: 1", "X-RateLimit-FillRate: 10", "Retry-After: 0"),
		retryAt: t0, quotas: []Quota{q("", "requests", 20, 19, 0, none)}},

	// traefik/traefik pkg/middlewares/ratelimiter/rate_limiter.go serveDelayError; vulcand/oxy ratelimit.
	{name: "Traefik X-Retry-In is exact, Retry-After rounded up (traefik/traefik)", h: hdr("Retry-After: 2", "X-Retry-In: 1.5s"),
		retryAt: at(sec(1.5))},
	{name: "trap: X-Retry-In garbage falls back to Retry-After", h: hdr("Retry-After: 2", "X-Retry-In: soon"), retryAt: at(sec(2))},

	// developers-classic.mailerlite.com/docs/api-rate-limits.
	{name: "MailerLite X-RateLimit-Retry-After in seconds (developers-classic.mailerlite.com)", h: hdr("X-RateLimit-Limit: 60",
		"X-RateLimit-Remaining: 0", "X-RateLimit-Retry-After: 17"),
		quotas: []Quota{q("", "requests", 60, 0, 0, at(sec(17)))}},
	// uber-go/ratelimit issue 103: an API's headers pasted by a user.
	{name: "window as a period word (uber-go/ratelimit issue 103)", h: hdr(date(0), "X-Rate-Limit-Scope: 192.168.2.70",
		"X-Rate-Limit-Action: search", "X-Rate-Limit-Window: minute", "X-Rate-Limit-Limit: 30", "X-Rate-Limit-Remaining: 24",
		"X-Rate-Limit-Reset-After: 30"),
		quotas: []Quota{q("", "requests", 30, 24, time.Minute, at(sec(30)))}},

	// The structural recogniser on names no table lists.
	{name: "structure: dimension before the field word, reset in milliseconds named in the field", h: hdr(
		"X-Acme-Ratelimit-Requests-Limit: 100", "X-Acme-Ratelimit-Requests-Remaining: 7", "X-Acme-Ratelimit-Requests-Reset-Ms: 1500"),
		quotas: []Quota{q("", "requests", 100, 7, 0, at(sec(1.5)))}},
	{name: "structure: field, dimension and period, reset as a duration", h: hdr(
		"X-Acme-Ratelimit-Limit-Tokens-Day: 1000000", "X-Acme-Ratelimit-Remaining-Tokens-Day: 999000", "X-Acme-Ratelimit-Reset-Tokens-Day: 3600s"),
		quotas: []Quota{q("day", "tokens", 1000000, 999000, 24*time.Hour, at(time.Hour))}},
	{name: "structure: window in seconds named in the field, epoch reset", h: hdr(date(0), "Acme-Rate-Limit-Limit: 5",
		"Acme-Rate-Limit-Remaining: 0", "Acme-Rate-Limit-Window-Seconds: 60", "Acme-Rate-Limit-Reset: 1795456860"),
		quotas: []Quota{q("", "requests", 5, 0, time.Minute, at(time.Minute))}},
	{name: "trap: structure: a bare small reset of unknown unit is left out", h: hdr("X-Acme-Ratelimit-Remaining: 0", "X-Acme-Ratelimit-Reset: 17"),
		quotas: []Quota{q("", "requests", -1, 0, 0, none)}},
	{name: "trap: structure: a bare window of unknown unit is left out", h: hdr("X-Acme-Ratelimit-Limit: 5", "X-Acme-Ratelimit-Window: 60"),
		quotas: []Quota{q("", "requests", 5, -1, 0, none)}},
	{name: "trap: structure: a pinned format reads the bare reset", format: ResetDelayMilliseconds,
		h: hdr("X-Acme-Ratelimit-Remaining: 0", "X-Acme-Ratelimit-Reset: 1500"), quotas: []Quota{q("", "requests", -1, 0, 0, at(sec(1.5)))}},
	{name: "trap: structure: names that only look like limits", h: hdr("X-Ratelimited: true", "X-Envoy-Ratelimited: true",
		"X-Speed-Limiter: on", "Ratelimit-Reason: jira-burst-based", "X-Limit-Mode: strict", "X-Ratelimit-Nearlimit: true")},
	{name: "trap: structure: two reset names of one quota in different units (found by FuzzParseHeaders)", h: hdr(
		"Acme-Ratelimit-Remaining: 0", "Acme-Ratelimit-Reset: 2", "Acme-Ratelimit-Reset-After: 5"),
		quotas: []Quota{q("", "requests", -1, 0, 0, at(sec(5)))}},
	{name: "trap: structure: a bare limit word counts requests only with a scope, period or dimension", h: hdr(
		"X-Upload-Limit-Remaining: 500", "X-Storage-Limit: 1024", "X-Body-Limit-Max: 10485760")},
}

func TestParseHeadersDialects(t *testing.T) {
	runVectors(t, vectorsDialects)
}

// TestParseHeadersXDailyUserLimitBinds is the bug of issue 12: an exhausted 24-hour user limit beside a
// 15-minute limit with room left must make the client wait for the daily reset.
func TestParseHeadersXDailyUserLimitBinds(t *testing.T) {
	obs := ParseHeaders(rawHdr("x-rate-limit-limit: 900", "x-rate-limit-remaining: 899", "x-rate-limit-reset: 1795457700",
		"x-user-limit-24hour-limit: 100", "x-user-limit-24hour-remaining: 0", "x-user-limit-24hour-reset: 1795464000"), t0)
	require.Len(t, obs.Quotas, 2)
	binding, ok := obs.Binding()
	require.True(t, ok)
	assert.Equal(t, "user-24hour", binding.Policy)
	assert.Equal(t, 2*time.Hour, obs.Wait(t0))
}

// TestStructuralNamesAllocateNothingForKnownNames checks that the policies and dimensions the structure
// yields for the dialects above come from the table of known names, not fresh strings.
func TestStructuralNamesAllocateNothingForKnownNames(t *testing.T) {
	h := http.Header{"X-App-Limit-24hour-Remaining": {"5"}, "X-Ms-Ratelimit-Remaining-Subscription-Reads": {"9"}}
	var f fields
	var g groups
	allocs := testing.AllocsPerRun(100, func() {
		f, g = fields{}, groups{}
		for name, lines := range h {
			f.add(&g, name, lines)
		}
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 2, g.n)
}
