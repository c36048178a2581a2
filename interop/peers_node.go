package interop

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
)

const expressRateLimitVersion = "8.7.5" // peers/node/package-lock.json

// ExpressModes are the header modes of express-rate-limit: its legacy X-RateLimit-* headers and the IETF
// drafts it implements.
var ExpressModes = []string{"legacy", "draft-6", "draft-7", "draft-8"}

// NodePeers are express-rate-limit's memory store in every header mode at 50 per 1 s window, and in the
// draft-7 mode at 10 per 1 s.
func NodePeers() []Peer {
	var ps []Peer
	for _, m := range ExpressModes {
		ps = append(ps, ExpressRateLimit(PerSecond50, m))
	}
	return append(ps, ExpressRateLimit(PerSecond10, "draft-7"))
}

// ExpressRateLimit is Node's express-rate-limit (a fixed window per client starting at its first request;
// rejected requests count too) in Express, as a child process on loopback. mode is one of ExpressModes.
func ExpressRateLimit(p Policy, mode string) Peer {
	return Peer{Library: "express-rate-limit", Variant: mode, Version: expressRateLimitVersion, Policy: p, Algorithm: FixedWindowFirstRequest,
		Start: func(ctx context.Context) (*Target, error) {
			cfg := map[string]any{"routes": []map[string]any{{
				"path": "/erl", "limit": p.Limit, "windowMs": p.Window.Milliseconds(), "headers": mode,
			}}}
			return startNode(ctx, "server.js", []string{"express-rate-limit"}, cfg, "/erl")
		}}
}

// startNode starts peers/node/script on a free loopback port with the JSON of cfg as its second argument,
// once node and every one of the packages (in peers/node/node_modules) are there, and waits until its
// /__ready answers the process's pid. The target's URL is the server's path.
func startNode(ctx context.Context, script string, packages []string, cfg any, path string) (*Target, error) {
	bin, err := lookPath("node", "install Node.js 20", RequireInteropEnv)
	if err != nil {
		return nil, err
	}
	src := filepath.Join(sourceDir(), "peers", "node")
	for _, pkg := range packages {
		if _, err := os.Stat(filepath.Join(src, "node_modules", filepath.FromSlash(pkg))); err != nil {
			return nil, &MissingError{What: pkg, Hint: "run npm ci in " + src, Env: RequireInteropEnv}
		}
	}
	arg, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return startScript(ctx, "node "+script, "node", bin, src, script, arg, path)
}
