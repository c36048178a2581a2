// Package ratekit makes Go HTTP clients good citizens of rate-limited APIs.
//
// A Transport paces requests before they leave, learns the server's quota from its response headers, waits
// exactly as long as the server asks (within the request's deadline), and retries only what is safe:
//
//	client := ratekit.NewClient(&ratekit.Transport{MaxWait: time.Minute}) // nil: the defaults
//	resp, err := client.Get("https://api.github.com/users/octocat")
//	var rl *ratekit.RateLimitError
//	if errors.As(err, &rl) {
//		// the wait the server asked for would pass the deadline or MaxWait: come back at rl.RetryAt
//	}
//
// Each rate-limit key (by default a scheme and host; see KeyByAPIKey, KeyByRoute and KeyJoin) holds one
// bucket per quota the server reports: the units the server says remain, less the requests in flight,
// coming back at the rate its reset implies, or all at once at the reset for a fixed window (which the first
// rejection reveals). A 429, a 503 with Retry-After or a 403 with an exhausted quota pauses the whole key;
// one probe then learns the new budget before the others follow. Servers that send no headers at all get an
// adaptive rate, which a bare 503 after requests that passed slows as a refusal does (a proxy's limiter, or
// an overloaded server), and which probes a server that stays closed just after the clock's second, minute
// or hour turns, sending a window found reopened there its count at its start, and which keeps within
// the rates a token bucket fits the answers at, while one does and no window on the clock fits them as
// well (nginx's limit_req with no burst passes one request per interval); the 503 itself is retried
// only for idempotent requests. Transport.Limiter shares paces and pauses with other processes (package redisquota).
// The hooks (OnWait, OnRetry, OnQuota, OnQuotaLow) report what a Transport does; LogHooks turns them into
// log/slog records.
//
// ParseHeaders reads every rate-limit dialect into one Observation, in local time:
//
//	obs := ratekit.ParseHeaders(resp.Header, time.Now())
//	for _, q := range obs.Quotas {
//		log.Printf("%s", q) // core/requests 4990/5000 reset 2026-11-23T18:30:00Z
//	}
//	wait := obs.Wait(time.Now()) // Retry-After, else the reset of an exhausted quota, else 0
//
// Garbage never panics and never produces a negative or absurd wait: malformed fields are ignored, and
// times more than a minute in the past or more than 40 days ahead are dropped as implausible. A server
// whose reset unit no rule can classify is pinned with a Parser, or Transport.ResetFormats.
//
// RetryablehttpCheckRetry and RetryablehttpBackoff give go-retryablehttp the same judgement (Transport.Backoff,
// unrelated, is the Transport's own backoff policy). Package mockserver is a rate-limited server with every
// algorithm and header dialect, to test clients against.
package ratekit
