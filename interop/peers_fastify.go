package interop

import "context"

// The versions peers/node/package-lock.json pins (versions_test.go checks them).
const (
	fastifyRateLimitVersion = "11.2.0"
	fastifyVersion          = "5.12.8"
)

// FastifyModes are the header modes of @fastify/rate-limit: "default", its x-ratelimit-limit, -remaining,
// -reset and retry-after, and "draft-spec", enableDraftSpec's ratelimit-limit, -remaining, -reset and
// retry-after. In both, reset and retry-after are the seconds left in the window, rounded up.
var FastifyModes = []string{"default", "draft-spec"}

// FastifyPeers are @fastify/rate-limit's LocalStore in both header modes at 50 and at 10 per 1 s window.
func FastifyPeers() []Peer {
	var ps []Peer
	for _, p := range []Policy{PerSecond50, PerSecond10} {
		for _, m := range FastifyModes {
			ps = append(ps, FastifyRateLimit(p, m))
		}
	}
	return ps
}

// FastifyRateLimit is Node's @fastify/rate-limit with its LocalStore (a fixed window per client IP starting
// at its first request; rejected requests count but do not move the window, continueExceeding being off)
// on fastify, as a child process on loopback. mode is one of FastifyModes.
func FastifyRateLimit(p Policy, mode string) Peer {
	return Peer{Library: "fastify-rate-limit", Variant: mode, Version: fastifyRateLimitVersion, Policy: p, Algorithm: FixedWindowFirstRequest,
		Start: func(ctx context.Context) (*Target, error) {
			cfg := map[string]any{"routes": []map[string]any{{
				"path": "/frl", "limit": p.Limit, "windowMs": p.Window.Milliseconds(), "headers": mode,
			}}}
			return startNode(ctx, "fastify.js", []string{"fastify", "@fastify/rate-limit"}, cfg, "/frl")
		}}
}
