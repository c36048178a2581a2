// Package mockserver is a rate-limited HTTP server for testing clients of rate-limited APIs: ratekit's own,
// and anyone's. It implements every server-side algorithm of docs/ALGORITHMS.md (fixed-window,
// sliding-window-log, sliding-window-counter, token-bucket, leaky-bucket, leaky-bucket-queue, gcra,
// concurrency) and speaks every header dialect real servers speak (ietf, ietf-legacy, x-ratelimit, github,
// openai, tollbooth, anthropic, shopify, discord, none), with tiers, per-route and per-request costs (from a
// header, or estimated from the JSON body), rules scoped to routes, secondary limits, deterministic faults,
// Prometheus metrics and per-key statistics.
//
// # Like real servers
//
// Real limiters round, anchor and report differently (REALWORLD.md). Config.Render chooses how values are
// written (delays and epochs rounded up, down or to the nearest second or millisecond; Reset until full, until
// the next unit, at the window's end or a constant; Limit as the quota, the burst or the rate, as an integer
// or "50.00"), Config.RetryAfter its format (the wait, the whole window, a fraction, an HTTP-date or none),
// and each Rule its window anchor (the epoch plus an offset, the key's first request, the Handler's start),
// whether rejections count and whether a sliding estimate is rounded. Config.Profile imitates a public library
// exactly (Profiles: httprate, ulule-limiter, throttled, tollbooth, redis-rate, nginx), taking only the
// numbers from the rules:
//
//	mockserver.NewHandler(mockserver.Config{Profile: mockserver.ProfileThrottled,
//		Tiers: []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{
//			{Policy: mockserver.Policy{Limit: 50, Window: time.Second, Burst: 10}},
//		}}}})
//
// It also imitates the APIs users call (VendorProfiles: github, openai, anthropic, stripe, shopify, discord), each
// bringing the vendor's documented plans as tiers, its keys, routes, costs (OpenAI's and Anthropic's tokens
// estimated from the JSON body, Config.BodyCosts), headers and rejection bodies; Config.DefaultTier picks the
// plan:
//
//	mockserver.NewHandler(mockserver.Config{Profile: mockserver.ProfileGitHub, DefaultTier: "enterprise-cloud"})
//
// # Two ways to use it
//
// As a stand-alone mock API, in a test with httptest or as the ratemock command: every path that is not
// reserved answers 200 with a small JSON body, or a rejection.
//
//	h, err := mockserver.NewHandler(mockserver.Config{
//		Key:     mockserver.KeyAPIKey,
//		Dialect: mockserver.DialectGitHub,
//		Tiers: []mockserver.Tier{
//			{Name: "free", Rules: []mockserver.Rule{
//				{Name: "core", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 60, Window: time.Hour}},
//			}},
//			{Name: "pro", Keys: []string{"key-pro"}, Rules: []mockserver.Rule{
//				{Name: "core", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 5000, Window: time.Hour}},
//			}},
//		},
//		Routes: []mockserver.Route{{Pattern: "/search", Cost: 5}},
//	})
//	if err != nil {
//		log.Fatal(err) // names the bad field and the allowed values
//	}
//	srv := httptest.NewServer(h)
//
// As middleware in front of your own API (the handler's Wrap):
//
//	http.ListenAndServe(addr, h.Wrap(myAPI))
//
// # What a request goes through
//
// The Handler reads the clock once per request and passes that instant down, so the decision, the headers and
// the Date field always agree. It finds the request's key (IP, API key, user, route, or a combination), the
// key's tier, the request's cost in every dimension (route costs, cost headers such as a token count), asks the
// Store for all the tier's rules at once (check all, then commit: a rejection consumes nothing), writes the
// headers of the configured dialect, and then serves the request (after holding it for its queue delay under
// leaky-bucket-queue) or rejects it with 429 (or 403, 503), Retry-After, and a JSON error body (a profile's
// library's own body instead).
//
// The Handler starts no goroutines: it runs unchanged inside a testing/synctest bubble, where a 60-second
// Retry-After passes in microseconds. A test can call ServeHTTP from an in-memory http.RoundTripper and drive
// a client against it with no socket at all.
//
// # Reserved paths
//
// /metrics (Prometheus, one registry per Handler), /_stats (per-key counts and state, GET) and /_reset
// (forget every key or ?key=, POST) are never rate limited. Config.MetricsPath, StatsPath and ResetPath move
// them, or turn them off with "-". ServeHTTP (the mock API of tests) serves them to anyone unless
// Config.AdminToken is set; Wrap (in front of a real API) serves them only with Config.AdminToken, and then
// only to requests carrying it. MetricsHandler, StatsHandler and ResetHandler mount them on a listener of
// your own instead. Keys appear in /_stats, logs, metrics and store key names as keyed hashes
// (Config.KeyHashSecret), unless Config.RawKeys.
//
// # Stores
//
// The state of every key lives in a Store. Config.Store nil means a new MemoryStore: sharded, safe for
// concurrent use, bounded by the keys in use (a key whose state is as good as new is dropped) and by a
// capacity (DefaultMemoryStoreCapacity states; the least recently used go first). Servers
// that run as several replicas share a RedisStore (NewRedisStore): every algorithm in one Lua script per
// decision, with `now` passed in, keys hash-tagged so one client's keys share a slot on Redis Cluster, and
// TTLs so idle keys expire. Both pass one test suite, and replaying one random trace through both gives
// identical decisions. When the store fails, Config.FailureMode says whether requests are served
// (fail-open, the default) or refused with 503 and Retry-After (fail-closed); /metrics counts both.
package mockserver
