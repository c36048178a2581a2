package mockserver

import (
	"net/http"
	"strconv"
	"time"
)

// Dialects of the vendor profiles (VendorProfiles), usable on their own.
const (
	// DialectAnthropic writes, for every dimension that a rule counts, its binding rule as Anthropic's API
	// does: anthropic-ratelimit-{DIMENSION}-limit, -remaining and -reset (an RFC 3339 instant, rounded by
	// Rendering.EpochRounding, by the server's possibly skewed clock), and anthropic-ratelimit-tokens-* for
	// the most binding rule of the dimensions other than "requests" (Anthropic's "most restrictive limit
	// currently in effect"). Name the dimensions "requests", "input-tokens", "output-tokens".
	DialectAnthropic = "anthropic"
	// DialectShopify writes the binding rule as Shopify's REST Admin API does: X-Shopify-Shop-Api-Call-Limit:
	// USED/CAPACITY ("32/40"), USED being the capacity less what remains. No reset is sent.
	DialectShopify = "shopify"
	// DialectDiscord writes the binding rule (secondary rules aside) as Discord does: X-RateLimit-Bucket (the
	// rule's name: name the rules as Discord names its buckets), X-RateLimit-Limit, -Remaining, -Reset (Unix
	// seconds) and -Reset-After (seconds), the last two in the rendering's precision (Discord: ms, "1.234").
	DialectDiscord = "discord"
)

// Header names of the vendor dialects, in canonical form.
const (
	hdrShopifyCallLimit = "X-Shopify-Shop-Api-Call-Limit"
	hdrXBucket          = "X-Ratelimit-Bucket"
	hdrXResetAfter      = "X-Ratelimit-Reset-After"
	anthropicPrefix     = "Anthropic-Ratelimit-"
)

// writeAnthropic writes the anthropic dialect (DialectAnthropic).
func writeAnthropic(h http.Header, v *quotaView) {
	tokens := -1
	for dim := range v.dims {
		i := v.reportedBinding(dim)
		if i < 0 {
			continue
		}
		writeAnthropicQuota(h, v, v.dims[dim].name, i)
		if dim > 0 && (tokens < 0 || v.binds(i, tokens)) {
			tokens = i
		}
	}
	if tokens >= 0 {
		writeAnthropicQuota(h, v, "tokens", tokens)
	}
}

// writeAnthropicQuota writes anthropic-ratelimit-NAME-limit, -remaining and -reset for rule i.
func writeAnthropicQuota(h http.Header, v *quotaView, name string, i int) {
	prefix := anthropicPrefix + http.CanonicalHeaderKey(name) + "-"
	setHeader(h, prefix+"Limit", v.limitValue(i))
	setHeader(h, prefix+"Remaining", strconv.FormatInt(v.decisions[i].Remaining, 10))
	at := v.now.Add(v.skew).Add(v.resetDelay(i))
	setHeader(h, prefix+"Reset", time.Unix(roundUnix(at, time.Second, v.render.epochRound), 0).UTC().Format(time.RFC3339))
}

// writeShopify writes the shopify dialect (DialectShopify).
func writeShopify(h http.Header, v *quotaView) {
	i := v.reportedBinding(-1)
	capacity := v.capacity[i]
	used := max(0, capacity-v.decisions[i].Remaining)
	setHeader(h, hdrShopifyCallLimit, strconv.FormatInt(used, 10)+"/"+strconv.FormatInt(capacity, 10))
}

// writeDiscord writes the discord dialect (DialectDiscord).
func writeDiscord(h http.Header, v *quotaView) {
	i := v.reportedBinding(-1)
	setHeader(h, hdrXBucket, v.rules[i].Name)
	setHeader(h, hdrXLimit, v.limitValue(i))
	setHeader(h, hdrXRemaining, strconv.FormatInt(v.decisions[i].Remaining, 10))
	setHeader(h, hdrXReset, v.resetValue(i, "epoch"))
	setHeader(h, hdrXResetAfter, v.resetValue(i, "delta"))
}
