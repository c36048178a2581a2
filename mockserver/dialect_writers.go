package mockserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names in net/http's canonical form, so that http.Header.Get finds them without canonicalising and
// a response handed over in memory (httptest.ResponseRecorder) reads the same as one read off the wire.
// Field names are case-insensitive (RFC 9110); on HTTP/2 they travel in lowercase, as GitHub and OpenAI send them.
const (
	hdrRateLimitPolicy    = "Ratelimit-Policy"
	hdrRateLimit          = "Ratelimit"
	hdrRateLimitLimit     = "Ratelimit-Limit"
	hdrRateLimitRemaining = "Ratelimit-Remaining"
	hdrRateLimitReset     = "Ratelimit-Reset"
	hdrXLimit             = "X-Ratelimit-Limit"
	hdrXRemaining         = "X-Ratelimit-Remaining"
	hdrXReset             = "X-Ratelimit-Reset"
	hdrXUsed              = "X-Ratelimit-Used"
	hdrXResource          = "X-Ratelimit-Resource"
	hdrRetryAfter         = "Retry-After"
	hdrDashLimit          = "X-Rate-Limit-Limit"
	hdrDashDuration       = "X-Rate-Limit-Duration"
	hdrDashForwardedFor   = "X-Rate-Limit-Request-Forwarded-For"
	hdrDashRemoteAddr     = "X-Rate-Limit-Request-Remote-Addr"
	hdrDate               = "Date"
)

// setHeader stores one value under a canonical name without canonicalising it again.
func setHeader(h http.Header, name, value string) { h[name] = []string{value} }

// writeIETF writes draft-11's RateLimit-Policy and RateLimit structured-field lists, one member per rule:
//
//	RateLimit-Policy: "minute";q=60;w=60, "day";q=1000;w=86400
//	RateLimit: "minute";r=12;t=33, "day";r=950;t=40000
//
// q is the rule's limit and w its window in seconds; qu is added for units other than requests
// (qu="concurrent-requests" for a concurrency rule, which has no window; the dimension's name otherwise).
// r is what remains and t the seconds until the quota is restored, rounded up.
func writeIETF(h http.Header, v *quotaView) {
	policy := make([]byte, 0, 32*len(v.rules))
	state := make([]byte, 0, 32*len(v.rules))
	for i, r := range v.rules {
		if i > 0 {
			policy = append(policy, ", "...)
			state = append(state, ", "...)
		}
		policy = append(append(append(policy, '"'), r.Name...), `";q=`...)
		policy = strconv.AppendInt(policy, r.Policy.Limit, 10)
		switch {
		case r.Algorithm == Concurrency:
			policy = append(policy, `;qu="concurrent-requests"`...)
		default:
			if r.Dimension != DimensionRequests {
				policy = append(append(append(policy, `;qu="`...), r.Dimension...), '"')
			}
			policy = append(policy, ";w="...)
			policy = strconv.AppendInt(policy, max(1, ceilDiv(r.Policy.Window, time.Second)), 10)
		}
		state = append(append(append(state, '"'), r.Name...), `";r=`...)
		state = strconv.AppendInt(state, v.decisions[i].Remaining, 10)
		if r.Algorithm != Concurrency {
			state = append(state, ";t="...)
			state = append(state, v.resetValue(i, "delta")...)
		}
	}
	setHeader(h, hdrRateLimitPolicy, string(policy))
	setHeader(h, hdrRateLimit, string(state))
}

// writeIETFLegacy writes the binding rule as drafts up to -06 did: RateLimit-Limit, RateLimit-Remaining,
// RateLimit-Reset (delta seconds).
func writeIETFLegacy(h http.Header, v *quotaView) {
	i := v.reportedBinding(-1)
	setHeader(h, hdrRateLimitLimit, v.limitValue(i))
	setHeader(h, hdrRateLimitRemaining, strconv.FormatInt(v.decisions[i].Remaining, 10))
	setHeader(h, hdrRateLimitReset, v.resetValue(i, "delta"))
}

// writeXRateLimit writes the binding rule as X-RateLimit-Limit, -Remaining, -Reset (delta seconds).
func writeXRateLimit(h http.Header, v *quotaView) {
	i := v.reportedBinding(-1)
	setHeader(h, hdrXLimit, v.limitValue(i))
	setHeader(h, hdrXRemaining, strconv.FormatInt(v.decisions[i].Remaining, 10))
	setHeader(h, hdrXReset, v.resetValue(i, "delta"))
}

// writeGitHub writes the binding rule as GitHub does: x-ratelimit-limit, -remaining, -used (limit minus
// remaining), -reset (Unix epoch seconds, by the server's possibly skewed clock) and -resource (the rule's
// name: call a rule "core" or "search" to look like GitHub).
func writeGitHub(h http.Header, v *quotaView) {
	i := v.reportedBinding(-1)
	d := v.decisions[i]
	setHeader(h, hdrXLimit, v.limitValue(i))
	setHeader(h, hdrXRemaining, strconv.FormatInt(d.Remaining, 10))
	setHeader(h, hdrXUsed, strconv.FormatInt(max(0, d.Limit-d.Remaining), 10))
	setHeader(h, hdrXReset, v.resetValue(i, "epoch"))
	setHeader(h, hdrXResource, v.rules[i].Name)
}

// openAINames are the openai dialect's header names for one dimension, in canonical form.
type openAINames struct {
	limit, remaining, reset string
}

// newOpenAINames names the openai headers of a dimension: x-ratelimit-limit-tokens and so on.
func newOpenAINames(dim string) openAINames {
	return openAINames{
		limit:     http.CanonicalHeaderKey("x-ratelimit-limit-" + dim),
		remaining: http.CanonicalHeaderKey("x-ratelimit-remaining-" + dim),
		reset:     http.CanonicalHeaderKey("x-ratelimit-reset-" + dim),
	}
}

// writeOpenAI writes, for every dimension that a rule counts, its binding rule as OpenAI does:
// x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests ("6m0s"), and the
// same for tokens.
func writeOpenAI(h http.Header, v *quotaView) {
	for dim := range v.dims {
		i := v.reportedBinding(dim)
		if i < 0 {
			continue
		}
		names := v.dims[dim].openai
		setHeader(h, names.limit, v.limitValue(i))
		setHeader(h, names.remaining, strconv.FormatInt(v.decisions[i].Remaining, 10))
		setHeader(h, names.reset, v.resetValue(i, "duration"))
	}
}

// writeTollbooth writes the headers of didip/tollbooth v7 (tollbooth.go, setResponseHeaders and
// setRateLimitResponseHeaders) for the binding rule:
//
//	X-Rate-Limit-Limit: 50.00                  the rate per second, two decimals
//	X-Rate-Limit-Duration: 1                   always
//	X-Rate-Limit-Request-Forwarded-For: ...    the request's X-Forwarded-For, when it is not blank
//	X-Rate-Limit-Request-Remote-Addr: ...      the request's RemoteAddr
//	RateLimit-Limit: 50                        as Rendering.Limit says (tollbooth: the rate, rounded)
//	RateLimit-Remaining: 9
//	RateLimit-Reset: 1                         as Rendering.Reset says (tollbooth: the constant 1)
func writeTollbooth(h http.Header, v *quotaView) {
	i := v.reportedBinding(-1)
	p := v.rules[i].Policy
	rate := float64(p.Limit)
	if p.Window > 0 {
		rate /= p.Window.Seconds()
	}
	setHeader(h, hdrDashLimit, strconv.FormatFloat(rate, 'f', 2, 64))
	setHeader(h, hdrDashDuration, "1")
	if strings.TrimSpace(v.forwardedFor) != "" {
		setHeader(h, hdrDashForwardedFor, v.forwardedFor)
	}
	setHeader(h, hdrDashRemoteAddr, v.remoteAddr)
	setHeader(h, hdrRateLimitLimit, v.limitValue(i))
	setHeader(h, hdrRateLimitRemaining, strconv.FormatInt(v.decisions[i].Remaining, 10))
	setHeader(h, hdrRateLimitReset, v.resetValue(i, "delta"))
}
