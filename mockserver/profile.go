package mockserver

import (
	"fmt"
	"slices"
)

// Profiles: public limiter libraries that a Handler imitates exactly, named by Config.Profile. A profile takes
// the numbers of every rule (Limit, Window, Burst) and fixes what the library fixes: the algorithm, the window
// anchor, whether rejections count, the dialect, the rendering of every value, Retry-After, and the status and
// body of rejections. Each was modelled from the library's source at the version named.
const (
	// ProfileHTTPRate is github.com/go-chi/httprate v0.16.1 with its local counter (limiter.go,
	// local_counter.go): a sliding-window counter whose windows align to the instant the limiter was built
	// (AnchorStart; NewRateLimiter's windowOffset), which admits a request iff round(estimate) + 1 <= limit
	// (calculateRate's estimate, math.Round in OnLimit: RoundEstimate), and rejections do not count. Headers
	// on every response: X-Ratelimit-Limit (the limit), X-Ratelimit-Remaining (limit - round(estimate), minus
	// 1 when allowed), X-Ratelimit-Reset (the current window's end, Unix seconds floored: .Unix()); a
	// rejection adds Retry-After: the window in whole seconds (int(windowLength.Seconds())) and is answered
	// by http.Error(w, "Too Many Requests", 429). Burst must be 0.
	//
	//	Config{Profile: "httprate"} = Config{Dialect: DialectXRateLimit, RetryAfter: RetryAfterWindow,
	//		Render: Rendering{EpochRounding: RoundDown, Reset: ResetWindowEnd, ResetAs: "epoch"}}
	//		with every rule {Algorithm: SlidingWindowCounter, Anchor: AnchorStart, RoundEstimate: true}
	ProfileHTTPRate = "httprate"
	// ProfileUluleLimiter is github.com/ulule/limiter/v3 v3.11.2 with its memory store and stdlib middleware
	// (drivers/store/memory/cache.go, drivers/store/common/context.go, drivers/middleware/stdlib/middleware.go):
	// a fixed window that opens at a key's first request and lasts until now > start + period
	// (AnchorFirstRequest), counting every request, rejected or not (Cache.Increment: CountRejected).
	// Headers: X-Ratelimit-Limit, X-Ratelimit-Remaining (limit - count, 0 once reached), X-Ratelimit-Reset
	// (the window's end, Unix seconds floored: expiration.Unix()); no Retry-After; a rejection is
	// http.Error(w, "Limit exceeded", 429). Burst must be 0.
	//
	//	Config{Profile: "ulule-limiter"} = Config{Dialect: DialectXRateLimit, RetryAfter: RetryAfterNone,
	//		Render: Rendering{EpochRounding: RoundDown, ResetAs: "epoch"}}
	//		with every rule {Algorithm: FixedWindow, Anchor: AnchorFirstRequest, CountRejected: true}
	ProfileUluleLimiter = "ulule-limiter"
	// ProfileThrottled is github.com/throttled/throttled/v2 v2.15.0, GCRARateLimiterCtx over memstore with
	// HTTPRateLimiterCtx (rate.go, http.go): GCRA with emission interval Window / Limit and a tolerance of
	// Burst intervals, so that Burst requests pass at once (throttled's MaxBurst is Burst - 1; its limit is
	// MaxBurst + 1). Headers: X-Ratelimit-Limit (the burst), X-Ratelimit-Remaining, X-Ratelimit-Reset
	// (seconds until the bucket is full, math.Ceil); a rejection adds Retry-After (math.Ceil of the wait) and
	// is http.Error(w, "limit exceeded", 429). throttled's interval is Window / Limit truncated to the ns:
	// choose policies where it divides exactly.
	//
	//	Config{Profile: "throttled"} = Config{Dialect: DialectXRateLimit, Render: Rendering{Limit: LimitBurst}}
	//		with every rule {Algorithm: GCRA}
	ProfileThrottled = "throttled"
	// ProfileTollbooth is github.com/didip/tollbooth/v7 v7.0.2 (tollbooth.go, limiter/limiter.go) over
	// golang.org/x/time/rate: a token bucket of Burst tokens filling at Limit / Window per second, created
	// full at a key's first request. Headers on every response: X-Rate-Limit-Limit (the rate per second,
	// "%.2f"), X-Rate-Limit-Duration: 1, X-Rate-Limit-Request-Remote-Addr (and -Forwarded-For), then
	// RateLimit-Limit (the rate, rounded), RateLimit-Remaining (the whole tokens left; 0 on a rejection),
	// RateLimit-Reset: 1 (a constant); no Retry-After; a rejection is 429 with Content-Type
	// "text/plain; charset=utf-8" and "You have reached maximum request limit." (no newline). x/time/rate
	// computes tokens in float64 seconds; this profile computes them exactly, so near a refill instant the
	// library may admit up to about 1 ns early.
	//
	//	Config{Profile: "tollbooth"} = Config{Dialect: DialectTollbooth, RetryAfter: RetryAfterNone,
	//		Render: Rendering{Limit: LimitRate, Reset: ResetConstant, ResetConstant: time.Second}}
	//		with every rule {Algorithm: TokenBucket}
	ProfileTollbooth = "tollbooth"
	// ProfileRedisRate is github.com/go-redis/redis_rate/v10 v10.0.1 (lua.go's allowN: GCRA with burst
	// offset Burst emission intervals), with the headers its users write from a Result as its README's
	// example suggests: RateLimit-Limit (limit.Rate), RateLimit-Remaining (res.Remaining; 0 on a
	// rejection), RateLimit-Reset (math.Ceil of res.ResetAfter in seconds), and on a rejection Retry-After
	// (math.Ceil of res.RetryAfter). redis_rate has no HTTP layer: the rejection keeps this package's JSON
	// body and 429. Its script computes in float64 seconds since 2017 from Redis's clock; this profile is
	// exact.
	//
	//	Config{Profile: "redis-rate"} = Config{Dialect: DialectIETFLegacy} with every rule {Algorithm: GCRA}
	ProfileRedisRate = "redis-rate"
	// ProfileNginx is nginx's limit_req with burst=Burst nodelay (src/http/modules/ngx_http_limit_req_module.c,
	// ngx_http_limit_req_lookup): a leaky bucket draining at Limit / Window whose excess may reach Burst, so
	// that Burst + 1 requests pass at once (a new key's first request sets excess to 0, each further one
	// adds 1); rejections do not count; no rate-limit headers at all; a rejection is 503
	// (limit_req_status's default; RejectStatus 429 for limit_req_status 429) with nginx's HTML error page
	// (server_tokens off). Its excess, max(0, excess - drained + 1) per request, is this leaky bucket's level
	// minus 1; but nginx counts in whole milliseconds and milli-requests, and stores the rate as
	// rate * 1000 / 60 truncated for r/m (10 r/m drains 0.166/s, not 1/6): choose per-second policies, or
	// expect nginx to be up to 1 ms and 0.4% slower.
	//
	//	Config{Profile: "nginx"} = Config{Dialect: DialectNone, RejectStatus: 503}
	//		with every rule {Algorithm: LeakyBucket, Burst: Burst + 1}
	ProfileNginx = "nginx"
)

// Profiles returns the names of every profile, in a fixed order.
func Profiles() []string {
	return []string{ProfileHTTPRate, ProfileUluleLimiter, ProfileThrottled, ProfileTollbooth, ProfileRedisRate, ProfileNginx}
}

// profile is what a profile fixes.
type profile struct {
	algorithm     string
	anchor        string
	countRejected bool
	roundEstimate bool
	burstPlusOne  bool // nginx: Policy.Burst is the excess allowed beyond the first request
	noBurst       bool // the library has no burst: Burst must be 0
	dialect       string
	retryAfter    string
	render        Rendering
	status        int
	statuses      []int // the statuses RejectStatus may choose; nil: status only
	body          *plainBody
}

// nginxErrorPage is nginx's built-in error page for status (ngx_http_special_response.c, server_tokens off).
func nginxErrorPage(status int) *plainBody {
	title := "503 Service Temporarily Unavailable"
	if status == 429 {
		title = "429 Too Many Requests"
	}
	return &plainBody{contentType: "text/html", text: "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n" +
		"<center><h1>" + title + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"}
}

// profileNamed returns the profile called name.
func profileNamed(name string) (profile, bool) {
	switch name {
	case ProfileHTTPRate:
		return profile{algorithm: SlidingWindowCounter, anchor: AnchorStart, roundEstimate: true, noBurst: true,
			dialect: DialectXRateLimit, retryAfter: RetryAfterWindow,
			render: Rendering{EpochRounding: RoundDown, Reset: ResetWindowEnd, ResetAs: "epoch"},
			status: 429, body: httpErrorBody("Too Many Requests")}, true
	case ProfileUluleLimiter:
		return profile{algorithm: FixedWindow, anchor: AnchorFirstRequest, countRejected: true, noBurst: true,
			dialect: DialectXRateLimit, retryAfter: RetryAfterNone,
			render: Rendering{EpochRounding: RoundDown, ResetAs: "epoch"},
			status: 429, body: httpErrorBody("Limit exceeded")}, true
	case ProfileThrottled:
		return profile{algorithm: GCRA, dialect: DialectXRateLimit, retryAfter: RetryAfterSeconds,
			render: Rendering{Limit: LimitBurst}, status: 429, body: httpErrorBody("limit exceeded")}, true
	case ProfileTollbooth:
		return profile{algorithm: TokenBucket, dialect: DialectTollbooth, retryAfter: RetryAfterNone,
			render: Rendering{Limit: LimitRate, Reset: ResetConstant},
			status: 429, body: &plainBody{text: "You have reached maximum request limit.", contentType: "text/plain; charset=utf-8"}}, true
	case ProfileRedisRate:
		return profile{algorithm: GCRA, dialect: DialectIETFLegacy, retryAfter: RetryAfterSeconds, status: 429}, true
	case ProfileNginx:
		return profile{algorithm: LeakyBucket, burstPlusOne: true, dialect: DialectNone, retryAfter: RetryAfterNone,
			status: 503, statuses: []int{503, 429}}, true
	}
	return profile{}, false
}

// applyProfile returns cfg with its profile's settings filled in, or cfg itself when it names none. A field the
// profile fixes that cfg sets otherwise is an error naming it.
func applyProfile(cfg Config) (Config, error) {
	if cfg.Profile == "" {
		return cfg, nil
	}
	if vp, ok := vendorNamed(cfg.Profile); ok {
		return applyVendor(cfg, vp)
	}
	pr, ok := profileNamed(cfg.Profile)
	if !ok {
		return cfg, badValue("Profile", cfg.Profile, "profile", append(Profiles(), VendorProfiles()...))
	}
	fixed := func(field, value string) error {
		return badField(field, value, "profile %q fixes it: leave it empty", cfg.Profile)
	}
	switch {
	case cfg.Dialect != "" && cfg.Dialect != pr.dialect:
		return cfg, &ConfigError{Field: "Dialect", Value: cfg.Dialect, Allowed: []string{"", pr.dialect},
			Reason: fmt.Sprintf("profile %q writes the %q dialect", cfg.Profile, pr.dialect)}
	case cfg.RetryAfter != "" && cfg.RetryAfter != pr.retryAfter:
		return cfg, &ConfigError{Field: "RetryAfter", Value: cfg.RetryAfter, Allowed: []string{"", pr.retryAfter},
			Reason: fmt.Sprintf("profile %q writes Retry-After as %q", cfg.Profile, pr.retryAfter)}
	case cfg.Render != Rendering{}:
		return cfg, fixed("Render", fmt.Sprintf("%+v", cfg.Render))
	}
	statuses := pr.statuses
	if statuses == nil {
		statuses = []int{pr.status}
	}
	switch {
	case cfg.RejectStatus == 0:
		cfg.RejectStatus = pr.status
	case !slices.Contains(statuses, cfg.RejectStatus):
		allowed := make([]string, len(statuses))
		for i, s := range statuses {
			allowed[i] = fmt.Sprint(s)
		}
		return cfg, &ConfigError{Field: "RejectStatus", Value: fmt.Sprint(cfg.RejectStatus), Allowed: allowed,
			Reason: fmt.Sprintf("profile %q rejects with %v", cfg.Profile, statuses)}
	}
	cfg.Dialect, cfg.RetryAfter, cfg.Render = pr.dialect, pr.retryAfter, pr.render
	tiers := cfg.Tiers
	if len(tiers) == 0 {
		tiers = defaultTiers()
		tiers[0].Rules[0].Algorithm = ""
	}
	out := make([]Tier, len(tiers))
	for i, t := range tiers {
		out[i] = t
		out[i].Rules = make([]Rule, len(t.Rules))
		for j, r := range t.Rules {
			rf := fmt.Sprintf("Tiers[%d].Rules[%d]", i, j)
			switch {
			case r.Algorithm != "" && r.Algorithm != pr.algorithm:
				return cfg, &ConfigError{Field: rf + ".Algorithm", Value: r.Algorithm, Allowed: []string{"", pr.algorithm},
					Reason: fmt.Sprintf("profile %q runs %s", cfg.Profile, pr.algorithm)}
			case r.Anchor != "":
				return cfg, fixed(rf+".Anchor", r.Anchor)
			case r.AnchorOffset != 0:
				return cfg, fixed(rf+".AnchorOffset", r.AnchorOffset.String())
			case r.CountRejected:
				return cfg, fixed(rf+".CountRejected", "true")
			case r.RoundEstimate:
				return cfg, fixed(rf+".RoundEstimate", "true")
			case pr.noBurst && r.Policy.Burst != 0:
				return cfg, badField(rf+".Policy", fmt.Sprintf("%+v", r.Policy), "profile %q has no burst: want burst 0", cfg.Profile)
			}
			r.Algorithm, r.Anchor, r.CountRejected, r.RoundEstimate = pr.algorithm, pr.anchor, pr.countRejected, pr.roundEstimate
			if pr.burstPlusOne && r.Policy.Burst >= 0 {
				r.Policy.Burst++
			}
			out[i].Rules[j] = r
		}
	}
	cfg.Tiers = out
	return cfg, nil
}

// profileBody returns the rejection body of cfg's profile (nil: the JSON body); cfg has been through
// applyProfile.
func profileBody(cfg Config) *plainBody {
	pr, ok := profileNamed(cfg.Profile)
	if !ok {
		return nil
	}
	if cfg.Profile == ProfileNginx {
		return nginxErrorPage(cfg.RejectStatus)
	}
	return pr.body
}

// ResolveProfile returns the Config that cfg's profile stands for: every rule with the profile's algorithm and
// options (nginx's burst plus one), and the profile's dialect, rendering, Retry-After and status, as NewHandler
// applies them; cfg itself when it names no profile. Profile stays set (it also picks the rejection body).
// A field the profile fixes that cfg sets otherwise is a *ConfigError naming it. Rules anchored with
// AnchorStart keep it: NewHandler resolves it to the instant it runs.
func ResolveProfile(cfg Config) (Config, error) {
	return applyProfile(cfg)
}
