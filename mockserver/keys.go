package mockserver

import (
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// inProcessIP is the client IP of a request that did not come through a server (empty RemoteAddr).
const inProcessIP = "in-process"

// keySeparator joins the parts of a combined key ("api-key+route" keys look like "KEY|/search").
const keySeparator = "|"

// keyer finds the key of a request as Config.Key says.
type keyer struct {
	parts        []string // key kinds, in order
	principal    int      // index in parts of the first kind that is not "route"; -1 when there is none
	proxies      trustedProxies
	apiKeyHeader string
	userHeader   string
}

// newKeyer checks the key settings of cfg.
func newKeyer(cfg Config) (keyer, error) {
	k := keyer{apiKeyHeader: cfg.APIKeyHeader, userHeader: cfg.UserHeader, principal: -1}
	var err error
	if k.proxies, err = newTrustedProxies(cfg.TrustedProxyHops, cfg.TrustedProxies); err != nil {
		return k, err
	}
	if k.apiKeyHeader == "" {
		k.apiKeyHeader = defaultAPIKeyHeader
	}
	if !validHeaderName(k.apiKeyHeader) {
		return k, badField("APIKeyHeader", cfg.APIKeyHeader, "%q is not an HTTP header name", cfg.APIKeyHeader)
	}
	if k.userHeader == "" {
		k.userHeader = defaultUserHeader
	}
	if !validHeaderName(k.userHeader) {
		return k, badField("UserHeader", cfg.UserHeader, "%q is not an HTTP header name", cfg.UserHeader)
	}
	spec := cfg.Key
	if spec == "" {
		spec = KeyIP
	}
	kinds := []string{KeyIP, KeyAPIKey, KeyUser, KeyRoute}
	for _, part := range strings.Split(spec, "+") {
		if !slices.Contains(kinds, part) {
			return k, &ConfigError{Field: "Key", Value: cfg.Key,
				Reason:  "unknown key kind " + strconv.Quote(part) + " in " + strconv.Quote(cfg.Key),
				Allowed: append(kinds, "several joined by '+', e.g. api-key+route")}
		}
		if slices.Contains(k.parts, part) {
			return k, badField("Key", cfg.Key, "key kind %q appears twice in %q", part, cfg.Key)
		}
		if part != KeyRoute && k.principal < 0 {
			k.principal = len(k.parts)
		}
		k.parts = append(k.parts, part)
	}
	return k, nil
}

// requestKey is who a request is from, as far as rate limiting is concerned.
type requestKey struct {
	key       string // the store key
	principal string // what Tier.Keys lists: the first part that is not the route ("" when anonymous)
	anonymous bool   // a part Config.Key asks for is missing
	missing   string // the kind that is missing, for the 401 message
}

// identify finds the key of r; route is the route's label (its pattern, or "" when none matched).
func (k *keyer) identify(r *http.Request, route string) requestKey {
	if len(k.parts) == 1 { // the common case, without allocating
		v, ok := k.part(r, k.parts[0], route)
		if !ok {
			return k.anonymous(r, route, k.parts[0])
		}
		return requestKey{key: v, principal: v}
	}
	values := make([]string, len(k.parts))
	for i, kind := range k.parts {
		v, ok := k.part(r, kind, route)
		if !ok {
			return k.anonymous(r, route, kind)
		}
		values[i] = v
	}
	rk := requestKey{key: strings.Join(values, keySeparator)}
	if k.principal >= 0 {
		rk.principal = values[k.principal]
	} else {
		rk.principal = rk.key
	}
	return rk
}

// anonymous is the key of a request that lacks the kind missing: "anonymous:" + client IP, plus the route
// when the key has a route part.
func (k *keyer) anonymous(r *http.Request, route, missing string) requestKey {
	key := "anonymous:" + k.clientIP(r)
	if slices.Contains(k.parts, KeyRoute) {
		key += keySeparator + routeKey(r, route)
	}
	return requestKey{key: key, anonymous: true, missing: missing}
}

// part is the value of one key kind for r; false when the request does not carry it.
func (k *keyer) part(r *http.Request, kind, route string) (string, bool) {
	switch kind {
	case KeyIP:
		return k.clientIP(r), true
	case KeyAPIKey:
		if v := strings.TrimSpace(r.Header.Get(k.apiKeyHeader)); v != "" {
			return v, true
		}
		return bearerToken(r.Header.Get("Authorization"))
	case KeyUser:
		v := strings.TrimSpace(r.Header.Get(k.userHeader))
		return v, v != ""
	default: // KeyRoute
		return routeKey(r, route), true
	}
}

// routeKey is the route part of a key: the matched route's pattern, else the path.
func routeKey(r *http.Request, route string) string {
	if route != "" {
		return route
	}
	return r.URL.Path
}

// clientIP is the address of the client: the host of RemoteAddr, or the X-Forwarded-For entry that the
// trusted proxies say is the client's (see forwarded.go).
func (k *keyer) clientIP(r *http.Request) string {
	if r.RemoteAddr == "" {
		return inProcessIP
	}
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		host = h
	}
	if !k.proxies.trustsAny() {
		return host
	}
	return k.proxies.client(host, r.Header.Values("X-Forwarded-For"))
}

// bearerToken returns the token of an `Authorization: Bearer TOKEN` value (the scheme is case-insensitive).
func bearerToken(auth string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(auth), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
