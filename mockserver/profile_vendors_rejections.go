package mockserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rejection writes a profile's own answer to a rejected request x: its status, the headers the vendor adds to
// rejections, and its body. wait is the request's wait (never when it can never pass) and bind the binding
// rule; the rate-limit headers of the dialect, and Retry-After when the profile's format sends one, are
// already set.
type rejection func(w http.ResponseWriter, x *exchange, status int, wait time.Duration, bind int)

// writeBody writes body with status and contentType.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{contentType}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// marshalIndent is json.MarshalIndent with a final newline, for bodies of plain structs (it cannot fail).
func marshalIndent(v any, indent string) []byte {
	b, _ := json.MarshalIndent(v, "", indent)
	return append(b, '\n')
}

// thousands writes n with commas between groups of three digits: 30,000.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// waitText is a wait as a Go duration rounded up to the millisecond ("660ms", "1.2s", "6m0s").
func waitText(wait time.Duration) string {
	return (time.Duration(ceilDiv(wait, time.Millisecond)) * time.Millisecond).String()
}

// openAIError is OpenAI's error body.
type openAIError struct {
	Error openAIErrorDetail `json:"error"`
}

// openAIErrorDetail is the "error" member of OpenAI's error body.
type openAIErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

// openAIRejection writes OpenAI's 429: the JSON body of its error codes guide, indented by 4 spaces as the
// API writes it, naming the binding dimension: "Rate limit reached for gpt-4o-mini in organization org-mock
// on tokens per min (TPM): Limit 200000, Used 199500, Requested 1200. Please try again in 210ms. Visit
// https://platform.openai.com/account/rate-limits to learn more."
func openAIRejection(w http.ResponseWriter, x *exchange, status int, wait time.Duration, bind int) {
	v := &x.view
	if wait == never {
		bind = v.neverRule()
	}
	r, d := v.rules[bind], v.decisions[bind]
	unit := "requests per min (RPM)"
	if r.Dimension != DimensionRequests {
		unit = r.Dimension + " per min (TPM)"
	}
	var msg string
	if wait == never {
		msg = fmt.Sprintf("Request too large for gpt-4o-mini in organization org-mock on %s: Limit %d, Requested %d. "+
			"The input or output tokens must be reduced in order to run successfully. "+
			"Visit https://platform.openai.com/account/rate-limits to learn more.", unit, d.Limit, v.costs[bind])
	} else {
		msg = fmt.Sprintf("Rate limit reached for gpt-4o-mini in organization org-mock on %s: Limit %d, Used %d, Requested %d. "+
			"Please try again in %s. Visit https://platform.openai.com/account/rate-limits to learn more.",
			unit, d.Limit, max(0, d.Limit-d.Remaining), v.costs[bind], waitText(wait))
	}
	body := openAIError{Error: openAIErrorDetail{Message: msg, Type: r.Dimension, Code: "rate_limit_exceeded"}}
	writeBody(w, status, "application/json; charset=utf-8", marshalIndent(body, "    "))
}

// anthropicError is Anthropic's error body.
type anthropicError struct {
	Type  string               `json:"type"`
	Error anthropicErrorDetail `json:"error"`
}

// anthropicErrorDetail is the "error" member of Anthropic's error body.
type anthropicErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// anthropicRejection writes Anthropic's 429: {"type":"error","error":{"type":"rate_limit_error","message":
// "This request would exceed the rate limit for your organization of 8,000 output tokens per minute. ..."}}.
func anthropicRejection(w http.ResponseWriter, x *exchange, status int, wait time.Duration, bind int) {
	v := &x.view
	if wait == never {
		bind = v.neverRule()
	}
	r := v.rules[bind]
	unit := "requests"
	if r.Dimension != DimensionRequests {
		unit = strings.ReplaceAll(r.Dimension, "-", " ") // "input-tokens" -> "input tokens"
	}
	msg := fmt.Sprintf("This request would exceed the rate limit for your organization of %s %s per minute. "+
		"For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. "+
		"Please reduce the prompt length or the maximum tokens requested, or try again later.", thousands(r.Policy.Limit), unit)
	b, _ := json.Marshal(anthropicError{Type: "error", Error: anthropicErrorDetail{Type: "rate_limit_error", Message: msg}})
	writeBody(w, status, "application/json", b)
}

// stripeError is Stripe's error body.
type stripeError struct {
	Error stripeErrorDetail `json:"error"`
}

// stripeErrorDetail is the "error" member of Stripe's error body, its members in Stripe's (alphabetical) order.
type stripeErrorDetail struct {
	Code    string `json:"code"`
	DocURL  string `json:"doc_url"`
	Message string `json:"message"`
	Type    string `json:"type"`
}

// stripeRejection writes Stripe's 429: Stripe-Should-Retry: true and its rate_limit error, indented by 2
// spaces as the API writes it.
func stripeRejection(w http.ResponseWriter, _ *exchange, status int, _ time.Duration, _ int) {
	setHeader(w.Header(), "Stripe-Should-Retry", "true")
	body := stripeError{Error: stripeErrorDetail{Code: "rate_limit", DocURL: "https://stripe.com/docs/error-codes/rate-limit",
		Message: "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
		Type:    "invalid_request_error"}}
	writeBody(w, status, "application/json", marshalIndent(body, "  "))
}

// shopifyRejection writes Shopify's 429: Retry-After: 2.0 (the constant of Shopify's documentation) and
// {"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."},
// the rate being the binding rule's.
func shopifyRejection(w http.ResponseWriter, x *exchange, status int, _ time.Duration, bind int) {
	v := &x.view
	setHeader(w.Header(), hdrRetryAfter, "2.0")
	p := v.rules[bind].Policy
	rate := strconv.FormatFloat(float64(p.Limit)/p.Window.Seconds(), 'f', -1, 64)
	body := `{"errors":"Exceeded ` + rate + ` calls per second for api client. Reduce request rates to resume uninterrupted service."}`
	writeBody(w, status, "application/json; charset=utf-8", []byte(body))
}

// gitHubError is GitHub's error body.
type gitHubError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
}

// gitHubRejection writes GitHub's answer to a rejection (the status is 403 or 429): for a primary quota its
// message ("API rate limit exceeded for user ID 1.", or for the client's IP with GitHub's invitation to
// authenticate), no Retry-After (x-ratelimit-reset says when); for a secondary limit (Rule.Secondary)
// Retry-After in seconds, rounded up, and the secondary-limit message.
func gitHubRejection(w http.ResponseWriter, x *exchange, status int, wait time.Duration, bind int) {
	body := gitHubError{DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}
	switch {
	case x.view.rules[bind].Secondary:
		if wait != never {
			setHeader(w.Header(), hdrRetryAfter, strconv.FormatInt(ceilDiv(wait, time.Second), 10))
		}
		body.Message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
		body.DocumentationURL += "#about-secondary-rate-limits"
	case x.key.anonymous:
		body.Message = "API rate limit exceeded for " + strings.TrimPrefix(x.key.key, "anonymous:") +
			". (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)"
	default:
		body.Message = "API rate limit exceeded for user ID 1."
	}
	b, _ := json.Marshal(body)
	writeBody(w, status, "application/json; charset=utf-8", b)
}

// discordRejection writes Discord's 429: X-RateLimit-Scope ("global" and X-RateLimit-Global: true when the
// secondary global limit rejected, else "user") and {"message": "You are being rate limited.", "retry_after":
// SECONDS, "global": BOOL}, the wait rounded up to the ms, with Retry-After in whole seconds, rounded up.
func discordRejection(w http.ResponseWriter, x *exchange, status int, wait time.Duration, bind int) {
	global := x.view.rules[bind].Secondary
	if global {
		setHeader(w.Header(), "X-Ratelimit-Global", "true")
		setHeader(w.Header(), "X-Ratelimit-Scope", "global")
	} else {
		setHeader(w.Header(), "X-Ratelimit-Scope", "user")
	}
	retry := "null"
	if wait != never {
		setHeader(w.Header(), hdrRetryAfter, strconv.FormatInt(ceilDiv(wait, time.Second), 10))
		retry = strconv.FormatFloat(float64(ceilDiv(wait, time.Millisecond))/1000, 'f', -1, 64)
	}
	body := `{"message": "You are being rate limited.", "retry_after": ` + retry + `, "global": ` + strconv.FormatBool(global) + "}"
	writeBody(w, status, "application/json", []byte(body))
}
