package mockserver

import (
	"fmt"
	"slices"
	"time"
)

// Vendor profiles: public APIs that a Handler imitates, named by Config.Profile like the library profiles
// (Profiles). A vendor profile brings everything: its tiers (the vendor's plans, with the documented numbers),
// how clients are keyed, its routes and costs, its header dialect, Retry-After, status and rejection body.
// Config.DefaultTier picks the plan (Config{Profile: "openai", DefaultTier: "tier-3"}); every other field the
// profile sets must be left empty. Each follows the vendor's public rate-limit documentation, at the page
// named; where the documentation leaves something open (the algorithm, mostly), the choice is said.
const (
	// ProfileOpenAI is OpenAI's API (https://platform.openai.com/docs/guides/rate-limits, "Rate limits in
	// headers"; https://platform.openai.com/docs/guides/error-codes for the 429 body): requests and tokens
	// per minute per API key (Authorization: Bearer), each a token bucket that refills continuously. A
	// request's token cost is estimated from its JSON body as OpenAI estimates it before serving: max_tokens
	// (or max_completion_tokens) plus the body's text at 4 characters per token. Headers on every response:
	// x-ratelimit-limit-requests, -remaining-requests, -reset-requests (time until full, a Go duration to
	// the ms: "120ms", "6m0s") and the same for tokens; no Retry-After; a rejection is 429 with OpenAI's JSON
	// error body ({"error": {"message": "Rate limit reached for ... on tokens per min (TPM): Limit 200000,
	// Used 199000, Requested 1200. Please try again in 660ms. ...", "type": "tokens", "param": null, "code":
	// "rate_limit_exceeded"}}). Tiers (gpt-4o-mini's limits): "free" 3 RPM / 40,000 TPM, "tier-1" (the
	// default) 500 / 200,000, "tier-2" 5,000 / 2,000,000, "tier-3" 5,000 / 4,000,000, "tier-4" 10,000 /
	// 10,000,000, "tier-5" 30,000 / 150,000,000. (OpenAI publishes these per model on its models pages, not
	// in the rate-limit guide; checked on 2026-12-02 only against third-party copies that agree on tier-1's
	// 500 / 200,000, since the vendor's pages cannot be reached from here.)
	ProfileOpenAI = "openai"
	// ProfileAnthropic is Anthropic's Messages API (https://docs.claude.com/en/api/rate-limits, "Response
	// headers"; https://docs.claude.com/en/api/errors for the body): requests, input tokens and output tokens
	// per minute per API key (x-api-key), token buckets as the page says ("the token bucket algorithm"). A
	// request's input tokens are its JSON body's text at 4 characters per token, its output tokens its
	// max_tokens, as Anthropic counts output tokens against OTPM at admission. Headers on every response:
	// anthropic-ratelimit-{requests,input-tokens,output-tokens,tokens}-{limit,remaining,reset}, resets as
	// RFC 3339 instants of full replenishment; a rejection is 429 with retry-after (seconds, rounded up) and
	// {"type":"error","error":{"type":"rate_limit_error","message":"..."}}. Tiers (Claude Sonnet's limits):
	// "tier-1" (the default) 50 RPM / 30,000 ITPM / 8,000 OTPM, "tier-2" 1,000 / 450,000 / 90,000, "tier-3"
	// 2,000 / 800,000 / 160,000, "tier-4" 4,000 / 2,000,000 / 400,000. (Checked on 2026-12-02 against
	// third-party copies of the vendor's table, which agree on tiers 1, 2 and 4 for Sonnet 4.x; Anthropic has
	// since renamed its tiers Start, Build and Scale, with other numbers per model.)
	ProfileAnthropic = "anthropic"
	// ProfileStripe is Stripe's API (https://docs.stripe.com/rate-limits, "Rate limiter"; the 429 body of
	// https://docs.stripe.com/error-codes#rate-limit): requests per second per secret key (Authorization:
	// Bearer sk_...), a token bucket (Stripe describes its limiter as one in "Scaling your API with rate
	// limiters"). No quota headers at all and no Retry-After; a rejection is 429 with Stripe-Should-Retry:
	// true and {"error": {"code": "rate_limit", "doc_url": ..., "message": "Request rate limit exceeded. ...",
	// "type": "invalid_request_error"}}. Tiers: "live" (the default) 100 per second, "test" (sandbox) 25.
	ProfileStripe = "stripe"
	// ProfileShopify is Shopify's REST Admin API (https://shopify.dev/docs/api/usage/limits, "REST Admin API
	// rate limits"): a leaky bucket per access token (X-Shopify-Access-Token) of 40 requests draining at 2
	// per second. Every response carries X-Shopify-Shop-Api-Call-Limit: USED/40; a rejection is 429 with
	// Retry-After: 2.0 (the constant Shopify sends) and {"errors":"Exceeded 2 calls per second for api
	// client. Reduce request rates to resume uninterrupted service."}. Tiers: "standard" (the default) 40 at
	// 2/s, "plus" (Shopify Plus) 400 at 20/s.
	ProfileShopify = "shopify"
	// ProfileGitHub is GitHub's REST API (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api,
	// "Primary rate limits", "Secondary rate limits", "Checking the status of your rate limit"): per token
	// (Authorization: Bearer), one quota per resource, each a fixed window that opens at the first request
	// (GitHub's reset is an hour after it): "core" for every path but /search/ and /graphql, "search" (30 per
	// minute), "graphql"; requests without a token are limited per IP in the "unauthenticated" tier. Every
	// response carries x-ratelimit-limit, -remaining, -used, -reset (Unix seconds) and -resource of its
	// resource. Exhausting one is 403 (or 429 with RejectStatus) with remaining 0, no Retry-After and
	// GitHub's JSON message. Secondary limits (Rule.Secondary, not in the headers): 100 requests in flight and
	// 900 requests per minute (a token bucket; GitHub counts 5 points for writes, this profile 1 for every
	// request); exceeding one is 403 with Retry-After and the secondary-limit message, remaining possibly > 0.
	// Tiers: "token" (the default) core 5,000/h, search 30/min, graphql 5,000/h; "enterprise-cloud" 15,000/h,
	// 30/min, 10,000/h; "unauthenticated" (requests without a token, whatever the default) 60/h, 10/min, and
	// 60/h for GraphQL, which GitHub refuses without a token.
	ProfileGitHub = "github"
	// ProfileDiscord is Discord's HTTP API (https://discord.com/developers/docs/topics/rate-limits, "Header
	// Format", "Exceeding A Rate Limit", "Global Rate Limit"): per bot token (the whole Authorization header,
	// "Bot TOKEN"), one bucket per route, each a fixed window (aligned to the epoch: Discord's open at a
	// bucket's first request, which would make a reset reported to the ms 1 ns early), and a global
	// limit of 50 requests per second across routes (a token bucket, Rule.Secondary: the headers tell of the
	// route's bucket). Every response carries X-RateLimit-Bucket, -Limit, -Remaining, -Reset (Unix seconds
	// to the ms) and -Reset-After (seconds to the ms); a rejection is 429 with Retry-After (whole seconds,
	// rounded up), X-RateLimit-Scope ("user" for a route's bucket, "global"), X-RateLimit-Global: true for the
	// global limit, and {"message": "You are being rate limited.", "retry_after": 4.5, "global": false}.
	// Discord documents no per-route numbers ("should not be hard coded"): this profile gives
	// POST /channels/{channel_id}/messages 5 per 5 s and every other route 50 per second, and does not
	// split buckets by major parameter (channel, guild, webhook). Tiers: "bot" (the default).
	ProfileDiscord = "discord"
)

// VendorProfiles returns the names of every vendor profile, in a fixed order.
func VendorProfiles() []string {
	return []string{ProfileGitHub, ProfileOpenAI, ProfileAnthropic, ProfileStripe, ProfileShopify, ProfileDiscord}
}

// vendorProfile is what a vendor profile sets.
type vendorProfile struct {
	tiers        []Tier
	defaultTier  string
	anonymous    string // Config.AnonymousTier
	key          string
	apiKeyHeader string
	routes       []Route
	bodyCosts    map[string]BodyCost
	dialect      string
	retryAfter   string
	render       Rendering
	status       int
	statuses     []int // the statuses RejectStatus may choose; nil: status only
	reject       rejection
}

// perMinute is a token bucket of limit units per minute, full at limit, counting dim.
func perMinute(name, dim string, limit int64) Rule {
	return Rule{Name: name, Algorithm: TokenBucket, Dimension: dim, Policy: Policy{Limit: limit, Window: time.Minute}}
}

// vendorNamed returns the vendor profile called name.
func vendorNamed(name string) (vendorProfile, bool) {
	switch name {
	case ProfileGitHub:
		tier := func(name string, core, search, graphql int64) Tier {
			window := func(name string, limit int64, w time.Duration, route string) Rule {
				return Rule{Name: name, Algorithm: FixedWindow, Anchor: AnchorFirstRequest,
					Policy: Policy{Limit: limit, Window: w}, Routes: []string{route}}
			}
			return Tier{Name: name, Rules: []Rule{window("core", core, time.Hour, otherRoute),
				window("search", search, time.Minute, "/search/"), window("graphql", graphql, time.Hour, "/graphql"),
				{Name: "secondary-concurrency", Algorithm: Concurrency, Policy: Policy{Limit: 100}, Secondary: true},
				{Name: "secondary-rate", Algorithm: TokenBucket, Policy: Policy{Limit: 900, Window: time.Minute}, Secondary: true}}}
		}
		return vendorProfile{
			tiers: []Tier{tier("token", 5_000, 30, 5_000), tier("enterprise-cloud", 15_000, 30, 10_000),
				tier("unauthenticated", 60, 10, 60)},
			defaultTier: "token", anonymous: "unauthenticated", key: KeyAPIKey,
			routes:  []Route{{Pattern: "/search/"}, {Pattern: "/graphql"}},
			dialect: DialectGitHub, retryAfter: RetryAfterNone, status: 403, statuses: []int{403, 429}, reject: gitHubRejection,
		}, true
	case ProfileDiscord:
		const messages = "POST /channels/{channel_id}/messages"
		bucket := func(name string, limit int64, w time.Duration, route string) Rule {
			return Rule{Name: name, Algorithm: FixedWindow, Policy: Policy{Limit: limit, Window: w}, Routes: []string{route}}
		}
		return vendorProfile{
			tiers: []Tier{{Name: "bot", Rules: []Rule{
				bucket("80c17d2f203122d936070c88c8d10f33", 5, 5*time.Second, messages),
				bucket("41f9cd5d28af77da04563bcb1d67fdfd", 50, time.Second, otherRoute),
				{Name: "global", Algorithm: TokenBucket, Policy: Policy{Limit: 50, Window: time.Second}, Secondary: true}}}},
			defaultTier: "bot", key: KeyAPIKey, apiKeyHeader: "Authorization", routes: []Route{{Pattern: messages}},
			dialect: DialectDiscord, retryAfter: RetryAfterNone, render: Rendering{Precision: PrecisionMillis},
			status: 429, reject: discordRejection,
		}, true
	case ProfileOpenAI:
		tier := func(name string, rpm, tpm int64) Tier {
			return Tier{Name: name, Rules: []Rule{perMinute("requests", DimensionRequests, rpm), perMinute("tokens", "tokens", tpm)}}
		}
		return vendorProfile{
			tiers: []Tier{tier("free", 3, 40_000), tier("tier-1", 500, 200_000), tier("tier-2", 5_000, 2_000_000),
				tier("tier-3", 5_000, 4_000_000), tier("tier-4", 10_000, 10_000_000), tier("tier-5", 30_000, 150_000_000)},
			defaultTier: "tier-1", key: KeyAPIKey,
			bodyCosts: map[string]BodyCost{"tokens": {Members: []string{"max_tokens", "max_completion_tokens"}, CharsPerUnit: 4}},
			dialect:   DialectOpenAI, retryAfter: RetryAfterNone, status: 429, reject: openAIRejection,
		}, true
	case ProfileAnthropic:
		tier := func(name string, rpm, itpm, otpm int64) Tier {
			return Tier{Name: name, Rules: []Rule{perMinute("requests", DimensionRequests, rpm),
				perMinute("input-tokens", "input-tokens", itpm), perMinute("output-tokens", "output-tokens", otpm)}}
		}
		return vendorProfile{
			tiers: []Tier{tier("tier-1", 50, 30_000, 8_000), tier("tier-2", 1_000, 450_000, 90_000),
				tier("tier-3", 2_000, 800_000, 160_000), tier("tier-4", 4_000, 2_000_000, 400_000)},
			defaultTier: "tier-1", key: KeyAPIKey, apiKeyHeader: "X-Api-Key",
			bodyCosts: map[string]BodyCost{"input-tokens": {CharsPerUnit: 4}, "output-tokens": {Members: []string{"max_tokens"}}},
			dialect:   DialectAnthropic, retryAfter: RetryAfterSeconds, status: 429, reject: anthropicRejection,
		}, true
	case ProfileStripe:
		tier := func(name string, perSecond int64) Tier {
			return Tier{Name: name, Rules: []Rule{{Name: "rate", Algorithm: TokenBucket, Policy: Policy{Limit: perSecond, Window: time.Second}}}}
		}
		return vendorProfile{tiers: []Tier{tier("live", 100), tier("test", 25)}, defaultTier: "live", key: KeyAPIKey,
			dialect: DialectNone, retryAfter: RetryAfterNone, status: 429, reject: stripeRejection}, true
	case ProfileShopify:
		tier := func(name string, size, perSecond int64) Tier {
			return Tier{Name: name, Rules: []Rule{{Name: "bucket", Algorithm: LeakyBucket,
				Policy: Policy{Limit: perSecond, Window: time.Second, Burst: size}}}}
		}
		return vendorProfile{tiers: []Tier{tier("standard", 40, 2), tier("plus", 400, 20)}, defaultTier: "standard",
			key: KeyAPIKey, apiKeyHeader: "X-Shopify-Access-Token",
			dialect: DialectShopify, retryAfter: RetryAfterNone, status: 429, reject: shopifyRejection}, true
	}
	return vendorProfile{}, false
}

// applyVendor returns cfg with vendor profile vp's settings filled in. A field the profile sets that cfg sets
// too is an error naming it (Dialect and RetryAfter may repeat the profile's own).
func applyVendor(cfg Config, vp vendorProfile) (Config, error) {
	fixed := func(field, value string) error {
		return badField(field, value, "profile %q sets it: leave it empty", cfg.Profile)
	}
	switch {
	case len(cfg.Tiers) > 0:
		names := make([]string, len(vp.tiers))
		for i, t := range vp.tiers {
			names[i] = t.Name
		}
		return cfg, &ConfigError{Field: "Tiers", Value: fmt.Sprintf("%d tiers", len(cfg.Tiers)), Allowed: names,
			Reason: fmt.Sprintf("profile %q brings its tiers: leave Tiers empty and pick one with DefaultTier", cfg.Profile)}
	case cfg.Key != "":
		return cfg, fixed("Key", cfg.Key)
	case cfg.APIKeyHeader != "":
		return cfg, fixed("APIKeyHeader", cfg.APIKeyHeader)
	case len(cfg.Routes) > 0:
		return cfg, fixed("Routes", fmt.Sprintf("%d routes", len(cfg.Routes)))
	case len(cfg.CostHeaders) > 0:
		return cfg, fixed("CostHeaders", fmt.Sprint(cfg.CostHeaders))
	case len(cfg.BodyCosts) > 0:
		return cfg, fixed("BodyCosts", fmt.Sprint(cfg.BodyCosts))
	case cfg.AnonymousTier != "":
		return cfg, fixed("AnonymousTier", cfg.AnonymousTier)
	case cfg.Dialect != "" && cfg.Dialect != vp.dialect:
		return cfg, &ConfigError{Field: "Dialect", Value: cfg.Dialect, Allowed: []string{"", vp.dialect},
			Reason: fmt.Sprintf("profile %q writes the %q dialect", cfg.Profile, vp.dialect)}
	case cfg.RetryAfter != "" && cfg.RetryAfter != vp.retryAfter:
		return cfg, &ConfigError{Field: "RetryAfter", Value: cfg.RetryAfter, Allowed: []string{"", vp.retryAfter},
			Reason: fmt.Sprintf("profile %q writes Retry-After as %q", cfg.Profile, vp.retryAfter)}
	case cfg.Render != Rendering{}:
		return cfg, fixed("Render", fmt.Sprintf("%+v", cfg.Render))
	}
	statuses := vp.statuses
	if statuses == nil {
		statuses = []int{vp.status}
	}
	switch {
	case cfg.RejectStatus == 0:
		cfg.RejectStatus = vp.status
	case !slices.Contains(statuses, cfg.RejectStatus):
		allowed := make([]string, len(statuses))
		for i, s := range statuses {
			allowed[i] = fmt.Sprint(s)
		}
		return cfg, &ConfigError{Field: "RejectStatus", Value: fmt.Sprint(cfg.RejectStatus), Allowed: allowed,
			Reason: fmt.Sprintf("profile %q rejects with %v", cfg.Profile, statuses)}
	}
	cfg.Tiers = make([]Tier, len(vp.tiers))
	for i, t := range vp.tiers {
		cfg.Tiers[i] = Tier{Name: t.Name, Rules: slices.Clone(t.Rules)}
		for j := range cfg.Tiers[i].Rules {
			cfg.Tiers[i].Rules[j].Routes = slices.Clone(t.Rules[j].Routes)
		}
	}
	if cfg.DefaultTier == "" {
		cfg.DefaultTier = vp.defaultTier
	}
	cfg.Key, cfg.APIKeyHeader, cfg.Routes = vp.key, vp.apiKeyHeader, slices.Clone(vp.routes)
	cfg.AnonymousTier = vp.anonymous
	cfg.BodyCosts = vp.bodyCosts
	cfg.Dialect, cfg.RetryAfter, cfg.Render = vp.dialect, vp.retryAfter, vp.render
	return cfg, nil
}

// vendorRejection returns the rejection writer of cfg's vendor profile; nil when cfg names none.
func vendorRejection(cfg Config) rejection {
	vp, ok := vendorNamed(cfg.Profile)
	if !ok {
		return nil
	}
	return vp.reject
}
