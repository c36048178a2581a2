package ratekit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// KeyByHost keys requests by scheme and host ("https://api.github.com"): one quota per server, the default.
func KeyByHost(req *http.Request) string {
	var buf [128]byte
	return string(appendHostKey(buf[:0], req))
}

// appendHostKey appends KeyByHost's key for req to b, host lowercased. It runs on every request of the
// default key, so it copies the host whole and lowercases the copy in place: appending byte by byte checks
// the capacity at each byte and cost twice as much.
func appendHostKey(b []byte, req *http.Request) []byte {
	b = append(b, req.URL.Scheme...)
	b = append(b, "://"...)
	start := len(b)
	b = append(b, req.URL.Host...)
	host := b[start:]
	for i, c := range host {
		if 'A' <= c && c <= 'Z' {
			host[i] = c + 'a' - 'A'
		}
	}
	return b
}

// KeyByHeader keys requests by host and the value of a header (a tenant, an account, a user), for servers
// that count per credential. The value is hashed, so keys (which appear in snapshots, errors and hooks) never
// carry a secret. Requests without the header share the host's key.
func KeyByHeader(name string) func(*http.Request) string {
	name = http.CanonicalHeaderKey(name)
	return func(req *http.Request) string {
		return withSecret(KeyByHost(req), req.Header.Get(name))
	}
}

// KeyByAPIKey keys requests by host and API key: the Authorization header (a Bearer token or any other
// scheme), else X-API-Key, hashed as KeyByHeader does. It is the key for fleets of clients that each have
// their own key on one server.
func KeyByAPIKey(req *http.Request) string {
	secret := req.Header.Get("Authorization")
	if secret == "" {
		secret = req.Header.Get("X-Api-Key")
	}
	return withSecret(KeyByHost(req), secret)
}

// KeyByContextValue keys requests by host and a value the caller put in the request's context under ctxKey
// (a user or tenant ID, say), for servers that count per user of a shared credential. The value is
// formatted with fmt.Sprint and hashed as KeyByHeader does. Requests without it share the host's key.
func KeyByContextValue(ctxKey any) func(*http.Request) string {
	return func(req *http.Request) string {
		v := req.Context().Value(ctxKey)
		if v == nil {
			return KeyByHost(req)
		}
		return withSecret(KeyByHost(req), fmt.Sprint(v))
	}
}

// KeyByRoute keys requests by host and route group, for servers with separate quotas per group of
// endpoints (GitHub's search and core). groups maps a path prefix to its group's name; the longest matching
// prefix wins; other paths share the host's key.
//
//	ratekit.KeyByRoute(map[string]string{"/search/": "search", "/graphql": "graphql"})
func KeyByRoute(groups map[string]string) func(*http.Request) string {
	prefixes := make([]string, 0, len(groups))
	for p := range groups {
		prefixes = append(prefixes, p)
	}
	return func(req *http.Request) string {
		host := KeyByHost(req)
		best := ""
		for _, p := range prefixes {
			if strings.HasPrefix(req.URL.Path, p) && len(p) > len(best) {
				best = p
			}
		}
		if best == "" {
			return host
		}
		return host + " " + groups[best]
	}
}

// KeyJoin combines key functions: a request's key is the keys of all of them, joined. Use it for quotas
// per API key and route group, for example.
func KeyJoin(fns ...func(*http.Request) string) func(*http.Request) string {
	return func(req *http.Request) string {
		parts := make([]string, len(fns))
		for i, fn := range fns {
			parts[i] = fn(req)
		}
		return strings.Join(parts, " | ")
	}
}

// withSecret appends a short hash of secret to a key; an empty secret leaves the key as it is.
func withSecret(key, secret string) string {
	if secret == "" {
		return key
	}
	sum := sha256.Sum256([]byte(secret))
	return key + " #" + hex.EncodeToString(sum[:6])
}
