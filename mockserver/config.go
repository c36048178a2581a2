package mockserver

import (
	"log/slog"
	"net/netip"
	"time"
)

// Header dialects: how a Handler tells clients about their quota. docs/HEADERS.md describes the real
// servers each one imitates.
const (
	// DialectIETF writes draft-ietf-httpapi-ratelimit-headers-11 structured fields, one list member per rule:
	// `RateLimit-Policy: "minute";q=60;w=60` and `RateLimit: "minute";r=59;t=60`.
	DialectIETF = "ietf"
	// DialectIETFLegacy writes RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (delta seconds) for the
	// binding rule, as drafts up to -06 did.
	DialectIETFLegacy = "ietf-legacy"
	// DialectXRateLimit writes X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (delta seconds)
	// for the binding rule, as many small APIs do.
	DialectXRateLimit = "x-ratelimit"
	// DialectGitHub writes x-ratelimit-limit, -remaining, -used, -reset (Unix epoch seconds) and -resource
	// (the binding rule's name) for the binding rule, as GitHub does.
	DialectGitHub = "github"
	// DialectOpenAI writes x-ratelimit-{limit,remaining,reset}-{DIMENSION} for the binding rule of every
	// dimension ("requests", "tokens"), with resets as Go durations ("1s", "6m0s", "59.5s"), as OpenAI does.
	DialectOpenAI = "openai"
	// DialectTollbooth writes didip/tollbooth's headers for the binding rule: X-Rate-Limit-Limit (the rate
	// per second, "50.00"), X-Rate-Limit-Duration ("1"), X-Rate-Limit-Request-Remote-Addr (and
	// -Forwarded-For) echoing the request, and RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset.
	DialectTollbooth = "tollbooth"
	// DialectNone writes no rate-limit headers at all, not even Retry-After: only the status code says that a
	// request was limited, as many servers do.
	DialectNone = "none"
)

// Dialects returns the names of every header dialect, in a fixed order.
func Dialects() []string {
	return []string{DialectIETF, DialectIETFLegacy, DialectXRateLimit, DialectGitHub, DialectOpenAI, DialectTollbooth, DialectAnthropic, DialectShopify, DialectDiscord, DialectNone}
}

// Key kinds: what identifies a client. Config.Key is one of them or several joined by "+" ("api-key+route").
const (
	// KeyIP keys a request by the client's IP address: the host of Request.RemoteAddr, or the first address
	// of X-Forwarded-For written by a trusted proxy (Config.TrustedProxyHops, Config.TrustedProxies).
	KeyIP = "ip"
	// KeyAPIKey keys a request by its API key: the Config.APIKeyHeader header, else an
	// `Authorization: Bearer` token.
	KeyAPIKey = "api-key"
	// KeyUser keys a request by the Config.UserHeader header.
	KeyUser = "user"
	// KeyRoute keys a request by its route: the pattern of the Config.Routes entry it matches, else its path.
	KeyRoute = "route"
)

// Store failure modes: what a Handler does when Store.Allow returns an error.
const (
	// FailOpen serves the request without rate-limit headers, and counts the failure. The built-in
	// endpoint reports "remaining": -1 (unknown).
	FailOpen = "fail-open"
	// FailClosed answers 503 Service Unavailable with Retry-After: 1 (none in the "none" dialect) and a
	// store_unavailable JSON body, and counts the failure.
	FailClosed = "fail-closed"
)

// Retry-After formats (RFC 9110 section 10.2.3).
const (
	// RetryAfterSeconds writes Retry-After as delay seconds, rounded up (by Rendering.DelayRounding, to
	// Rendering.Precision): "Retry-After: 33".
	RetryAfterSeconds = "seconds"
	// RetryAfterHTTPDate writes Retry-After as an IMF-fixdate, rounded up to the next whole second (by
	// Rendering.EpochRounding): "Retry-After: Sat, 01 Jan 2000 00:00:33 GMT".
	RetryAfterHTTPDate = "http-date"
	// RetryAfterWindow writes the binding rule's whole window in seconds, truncated ("Retry-After: 60"),
	// whatever the wait, as go-chi/httprate does.
	RetryAfterWindow = "window"
	// RetryAfterFractional writes the wait in seconds with three decimals, rounded to the millisecond by
	// Rendering.DelayRounding: "Retry-After: 0.981".
	RetryAfterFractional = "fractional"
	// RetryAfterNone writes no Retry-After, as ulule/limiter and didip/tollbooth do.
	RetryAfterNone = "none"
)

// RetryAfterFormats returns every Retry-After format, in a fixed order.
func RetryAfterFormats() []string {
	return []string{RetryAfterSeconds, RetryAfterHTTPDate, RetryAfterWindow, RetryAfterFractional, RetryAfterNone}
}

// DimensionRequests is the dimension a Rule counts when its Dimension is empty: one unit per request, times
// the route's cost.
const DimensionRequests = "requests"

// Config configures a Handler. The zero value is usable: every client IP gets 60 requests per minute
// (fixed-window) in the ietf dialect, from a new memory store.
type Config struct {
	// Store holds the rate-limit state of every key. nil: a new NewMemoryStore.
	Store Store

	// Tiers are the rate-limit plans. A request is checked against every rule of its key's tier and passes
	// only if all of them pass. nil: one tier named "default" with one fixed-window rule of 60 requests per
	// minute.
	Tiers []Tier
	// DefaultTier names the tier of every key that no Tier.Keys lists. "": the first tier.
	DefaultTier string
	// AnonymousTier names the tier of requests that lack the key Key asks for (no API key, no user header).
	// Such requests are then keyed "anonymous:" + client IP, one bucket per address, as GitHub limits
	// unauthenticated clients. "": they get 401 Unauthorized with a JSON error body.
	AnonymousTier string

	// Key says what identifies a client: KeyIP, KeyAPIKey, KeyUser, KeyRoute, or several of them joined by
	// "+" (for example "api-key+route": one bucket per API key and route). A request's tier is found from
	// the first part that is not "route". "": "ip".
	// A request that did not come through a server (Request.RemoteAddr empty, as when a test calls
	// ServeHTTP from an in-memory http.RoundTripper) has the IP "in-process".
	Key string
	// TrustedProxyHops is how many proxies of your own stand in front of the server (a load balancer, then
	// nginx: 2). KeyIP then takes the client's address from X-Forwarded-For, from the right, as nginx's
	// real_ip module does with real_ip_recursive on: the connecting address and the next hops-1 entries
	// to its left are your proxies; the entry after them is the client. The entries further left were
	// written by the client and are never read. 0: X-Forwarded-For is ignored unless TrustedProxies says
	// otherwise (a client can forge it). See ExampleConfig_trustedProxies.
	TrustedProxyHops int
	// TrustedProxies are the networks of your proxies (netip.MustParsePrefix("10.0.0.0/8")). Walking from
	// the connecting address leftwards through X-Forwarded-For, every address inside one of them (or
	// among the first TrustedProxyHops) is a proxy, and the first one that is not is the client. A request
	// whose connecting address is not trusted is keyed by that address: X-Forwarded-For is ignored. nil:
	// only TrustedProxyHops counts.
	TrustedProxies []netip.Prefix
	// APIKeyHeader names the header carrying the API key for KeyAPIKey. "": "X-API-Key".
	// An `Authorization: Bearer TOKEN` header is accepted too when this header is absent.
	APIKeyHeader string
	// UserHeader names the header carrying the user for KeyUser. "": "X-User-ID".
	UserHeader string

	// Routes give some requests a cost other than 1 in the "requests" dimension. The first route whose
	// pattern matches (by http.ServeMux rules: the most specific pattern wins) sets the cost. Routes also
	// label metrics; requests matching none are labelled "other".
	Routes []Route
	// CostHeaders maps a dimension to the request header that carries a request's cost in it:
	// {"tokens": "X-Token-Count"} lets an openai-dialect server limit requests and tokens at once. A
	// "requests" entry overrides the route's cost when the header is present. A request without the header
	// costs the route's cost in "requests" and 1 in other dimensions; a header that is not a whole number
	// >= 1 gets 400 Bad Request. Every Rule.Dimension other than "requests" needs an entry. nil: none.
	CostHeaders map[string]string
	// BodyCosts maps a dimension to the estimate of a request's cost in it from its JSON body, as AI APIs
	// count tokens before serving: {"tokens": {Members: []string{"max_tokens"}, CharsPerUnit: 4}}. A
	// dimension may have a cost header or a body cost, not both; a rule's dimension needs one of them
	// ("requests" excepted). nil: none.
	BodyCosts map[string]BodyCost

	// Dialect is the header dialect: DialectIETF, DialectIETFLegacy, DialectXRateLimit, DialectGitHub,
	// DialectOpenAI or DialectNone. "": DialectIETF. Headers are written on every response that went
	// through the store, allowed or rejected, from the same decisions and the same instant.
	// The dialects that report one quota (per dimension, for openai) report the binding rule: a rule that
	// rejected the request (the one with the longest wait, a request that can never pass counting as the
	// longest); else the rule with the least remaining fraction of its capacity; among equals, the one that
	// resets last, then the first. Delays and resets are rounded up, so a client never comes back early.
	Dialect string
	// RejectStatus is the status of a rejected request: 429 (Too Many Requests), 403 (Forbidden, as GitHub
	// does) or 503 (Service Unavailable). 0: 429.
	RejectStatus int
	// RetryAfter is the Retry-After format of rejections: RetryAfterSeconds, RetryAfterHTTPDate,
	// RetryAfterWindow, RetryAfterFractional or RetryAfterNone. "": RetryAfterSeconds. A request that can
	// never pass (it costs more than a rule's capacity) gets no Retry-After, whatever the format.
	RetryAfter string
	// Render says how header values are written: rounding of delays and epochs, what Reset and Limit mean.
	// The zero value keeps every value rounded up to whole seconds, Reset until full and Limit the quota.
	Render Rendering
	// Profile names a public limiter library to imitate exactly (one of Profiles(): "httprate", "throttled",
	// ...). It takes the numbers (Limit, Window, Burst) of every rule and fixes what the library fixes: the
	// algorithm, the anchor, counting of rejections, the dialect, the rendering, Retry-After, the status
	// and the body of rejections. Setting one of those fields as well is an error naming it. "": none.
	// A vendor profile (one of VendorProfiles(): "github", "openai", ...) brings its tiers, keys, routes and
	// costs too: leave those empty, and pick the plan with DefaultTier.
	Profile string
	// FailureMode is what happens when the store fails: FailOpen or FailClosed. "": FailOpen.
	FailureMode string

	// Faults injects misbehaviour for testing clients under stress. The zero value injects nothing.
	Faults Faults

	// Logger receives one line per rejected request (key, tier, route, rule, retry_after) at level Info,
	// and one per store failure at level Warn. nil: nothing is logged.
	Logger *slog.Logger
	// LogLinesPerSecond bounds the lines written to Logger (rejections and store failures together), so
	// that a flood cannot fill a disk: past the budget of a second, lines are counted instead of written,
	// and the next line written says how many were left out (lines_dropped). 0: 10; -1: no bound.
	LogLinesPerSecond int

	// MetricsPath serves Prometheus metrics (GET). "": "/metrics"; "-": not served.
	MetricsPath string
	// StatsPath serves per-key statistics as JSON (GET, ?key= for one key). "": "/_stats"; "-": not served.
	StatsPath string
	// ResetPath forgets the state of every key, or of ?key= (POST). "": "/_reset"; "-": not served.
	ResetPath string
	// AdminToken guards the reserved paths (MetricsPath, StatsPath, ResetPath): when set, they answer only
	// requests carrying `Authorization: Bearer ADMINTOKEN` (compared in constant time), and 401 to the
	// others, under ServeHTTP and Wrap alike. Under Wrap, the reserved paths are served only when
	// AdminToken is set: without it they are ordinary paths of the wrapped handler, rate limited like any
	// other, so that no client of a protected API can read other clients' statistics, reset its own
	// quota or scrape metrics. To serve them on a listener of their own instead (an admin port on
	// loopback), mount MetricsHandler, StatsHandler and ResetHandler there. "": ServeHTTP (the mock API
	// of tests) serves them to anyone; Wrap does not serve them.
	AdminToken string
	// KeyHashSecret keys the hash that names clients wherever a key leaves the request: in /_stats, in log
	// lines, in metrics and in the Store (Redis key names). A key is named "k_" and 24 hexadecimal digits
	// of HMAC-SHA256(KeyHashSecret, key): stable for a given secret, so Handlers that share a RedisStore
	// must share the secret. nil: a secret built into this package, which hides keys from readers of
	// Redis and logs but lets anyone who has the code test a guess (an IP address is easily guessed):
	// set a secret of your own in production.
	KeyHashSecret []byte
	// RawKeys names clients by their raw key instead (API keys, IP addresses), for tests and the mock
	// API of tests: never in front of a real API. Keys longer than 256 bytes are hashed even then, so
	// that a client cannot make the server store a key of the size of its header limit.
	RawKeys bool

	// StatsMaxKeys bounds how many keys the statistics remember; the least recently seen key is dropped
	// first. 0: 10000.
	StatsMaxKeys int
}

// Tier is a rate-limit plan: the rules that every request of its keys must pass ("free": 60 per minute;
// "enterprise": 6000 per minute and 100000 per day).
type Tier struct {
	// Name identifies the tier in Config.DefaultTier, Config.AnonymousTier, metrics, logs and /_stats.
	// Letters, digits, '.', '_' and '-' only.
	Name string
	// Keys are the clients on this plan: API keys, users or IP addresses, whatever Config.Key identifies
	// them by (its first part that is not "route"). A key belongs to at most one tier.
	Keys []string
	// Rules must all pass for a request to pass; a rejection consumes nothing in any of them. A rule with
	// an empty Name is named after its window ("second", "minute", "hour", "day", else the duration such as
	// "10s"), prefixed by its dimension when that is not "requests" ("tokens-minute"); a concurrency rule is
	// named "concurrency".
	Rules []Rule
}

// Route gives the requests matching Pattern a cost in the "requests" dimension.
type Route struct {
	// Pattern is an http.ServeMux pattern: "/search" matches that path only, "/export/" every path below
	// it, "POST /v1/chat/completions" one method, "/items/{id}" a wildcard, "api.example.com/" one host.
	Pattern string
	// Cost is what one matching request costs in the "requests" dimension. 0: 1.
	Cost int64
}

// Faults makes a Handler misbehave on purpose, deterministically: the same Seed and the same sequence of
// requests give the same faults. The zero value injects nothing. Faults apply to rate-limited requests,
// never to the reserved paths (/metrics, /_stats, /_reset).
type Faults struct {
	// Seed seeds the fault dice.
	Seed uint64
	// ErrorRate is the fraction (0 to 1) of allowed requests answered with ErrorStatus instead of being
	// served. They still count against the quota, as when a server fails after admitting a request.
	ErrorRate float64
	// ErrorStatus is the status of injected errors, 500 to 599. 0: 500.
	ErrorStatus int
	// DropRate is the fraction (0 to 1) of allowed requests whose connection is dropped without a
	// response (the handler panics with http.ErrAbortHandler, which net/http turns into a closed
	// connection or a reset HTTP/2 stream).
	DropRate float64
	// Latency is added before every response (allowed, rejected, 401, 400, store failure), after the
	// decision: the decision's instant, and so the headers, are those of the request's arrival.
	Latency time.Duration
	// LatencyJitter adds a further uniformly random delay in [0, LatencyJitter).
	LatencyJitter time.Duration
	// ClockSkew makes the server's clock lie by this much: the Date header and every absolute time it
	// sends (github's reset epoch, an HTTP-date Retry-After) are shifted by it. Delays are not.
	ClockSkew time.Duration
	// ResetAs writes every reset value in the wrong form: "delta" (delay seconds), "delta-ms" (delay
	// milliseconds), "epoch" (Unix seconds) or "epoch-ms" (Unix milliseconds), whatever the dialect says;
	// openai resets become bare numbers. Retry-After is not affected. "": the dialect's own form.
	ResetAs string
}

// ResetAs values.
var resetForms = []string{"delta", "delta-ms", "epoch", "epoch-ms"}

// Defaults of Config's zero values.
const (
	defaultAPIKeyHeader = "X-API-Key"
	defaultUserHeader   = "X-User-ID"
	defaultMetricsPath  = "/metrics"
	defaultStatsPath    = "/_stats"
	defaultResetPath    = "/_reset"
	defaultStatsMaxKeys = 10000
	defaultErrorStatus  = 500
	disabledPath        = "-"
)

// defaultTiers is the tier set of a Config without tiers.
func defaultTiers() []Tier {
	return []Tier{{
		Name:  "default",
		Rules: []Rule{{Algorithm: FixedWindow, Policy: Policy{Limit: 60, Window: time.Minute}}},
	}}
}
