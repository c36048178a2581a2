package mockserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Error codes of the JSON error bodies ("error" member).
const (
	errRateLimited         = "rate_limited"
	errCostExceedsCapacity = "cost_exceeds_capacity"
	errMissingKey          = "missing_key"
	errBadCost             = "bad_cost"
	errStoreUnavailable    = "store_unavailable"
	errInjectedFault       = "injected_fault"
)

// errorBody is the JSON body of every error response:
// {"error":"rate_limited","message":"...","retry_after":33}.
type errorBody struct {
	Error      string `json:"error"`
	Message    string `json:"message"`
	RetryAfter *int64 `json:"retry_after,omitempty"` // seconds, rounded up; absent when no retry can help
}

// endpointBody is the JSON body of the built-in endpoint: who the request was counted as, and what is left.
type endpointBody struct {
	Key       string `json:"key"`
	Tier      string `json:"tier"`
	Route     string `json:"route,omitempty"`
	Cost      int64  `json:"cost"`
	Remaining int64  `json:"remaining"`
}

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only the package's own plain structs are written: cannot happen
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal","message":"mockserver: cannot encode the response"}`)
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body) + 1)}
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeRejection answers a rejected request: status, Retry-After (unless it can never pass or the dialect
// is "none"), and a JSON error body naming the binding rule.
func (h *Handler) writeRejection(w http.ResponseWriter, x *exchange, bind int) {
	v := &x.view
	t := x.tier
	rule := v.rules[bind]
	wait := v.retryAfter()
	if rw := h.plan.reject; rw != nil { // a vendor profile's rejection writes its own headers and body
		if wait != never && h.plan.dialectName != DialectNone {
			if value, ok := v.retryAfterValue(h.plan.retryAfter, wait, bind); ok {
				setHeader(w.Header(), hdrRetryAfter, value)
			}
		}
		rw(w, x, h.plan.rejectStatus, wait, bind)
		return
	}
	if pb := h.plan.rejectBody; pb != nil { // a profile's own body: no message to format
		if wait != never && h.plan.dialectName != DialectNone {
			if value, ok := v.retryAfterValue(h.plan.retryAfter, wait, bind); ok {
				setHeader(w.Header(), hdrRetryAfter, value)
			}
		}
		pb.write(w, h.plan.rejectStatus)
		return
	}
	body := errorBody{Error: errRateLimited}
	switch {
	case wait == never:
		i := v.neverRule()
		r := v.rules[i]
		body.Error = errCostExceedsCapacity
		body.Message = fmt.Sprintf("this request costs %d %s, more than the capacity %d of rule %q of tier %q: it can never pass",
			v.costs[i], r.Dimension, v.capacity[i], r.Name, t.name)
	case rule.Algorithm == Concurrency && v.decisions[bind].RetryAfter == 0:
		body.Message = fmt.Sprintf("too many requests in flight: rule %q of tier %q allows %d at once",
			rule.Name, t.name, rule.Policy.Limit)
	default:
		if tb := h.rejections[x.tierIdx][x.tier.ruleIndex(bind)]; tb != nil { // bind indexes the route's rules // bind indexes the route's rules
			secs := ceilDiv(wait, time.Second)
			if h.plan.dialectName != DialectNone {
				if value, ok := v.retryAfterValue(h.plan.retryAfter, wait, bind); ok {
					setHeader(w.Header(), hdrRetryAfter, value)
				}
			}
			tb.write(w, h.plan.rejectStatus, secs)
			return
		}
		body.Message = rejectionMessage(t.name, rule, strconv.FormatInt(ceilDiv(wait, time.Second), 10))
	}
	if wait != never && h.plan.dialectName != DialectNone {
		secs := ceilDiv(wait, time.Second)
		body.RetryAfter = &secs
		if value, ok := v.retryAfterValue(h.plan.retryAfter, wait, bind); ok {
			setHeader(w.Header(), hdrRetryAfter, value)
		}
	}
	writeJSON(w, h.plan.rejectStatus, body)
}

// retryAfterValue formats the Retry-After of a rejection that waits wait, with rule bind binding, in format;
// false when the format sends none.
func (v *quotaView) retryAfterValue(format string, wait time.Duration, bind int) (string, bool) {
	r := v.render
	switch format {
	case RetryAfterHTTPDate:
		at := time.Unix(roundUnix(v.now.Add(v.skew).Add(wait), time.Second, r.epochRound), 0)
		return at.UTC().Format(http.TimeFormat), true
	case RetryAfterWindow:
		return strconv.FormatInt(int64(v.rules[bind].Policy.Window/time.Second), 10), true
	case RetryAfterFractional:
		return string(appendSeconds(nil, roundDiv(wait, time.Millisecond, r.delayRound), time.Millisecond)), true
	case RetryAfterNone:
		return "", false
	}
	return r.delaySeconds(wait), true
}

// plainBody is the body of rejections of a profile whose library writes its own: text, as http.Error writes
// it or as the library does.
type plainBody struct {
	text        string
	contentType string
	nosniff     bool // X-Content-Type-Options: nosniff, as http.Error sets

	// The header values and bytes of the above, built on first use and shared by every response (see
	// dateCache on why sharing header slices is safe).
	once                    sync.Once
	typeValue, nosniffValue []string
	bytes                   []byte
}

// httpErrorBody is the body http.Error(w, text, code) writes.
func httpErrorBody(text string) *plainBody {
	return &plainBody{text: text + "\n", contentType: "text/plain; charset=utf-8", nosniff: true}
}

// write writes the body with status.
func (b *plainBody) write(w http.ResponseWriter, status int) {
	b.once.Do(func() {
		b.typeValue, b.nosniffValue, b.bytes = []string{b.contentType}, []string{"nosniff"}, []byte(b.text)
	})
	h := w.Header()
	h["Content-Type"] = b.typeValue
	if b.nosniff {
		h["X-Content-Type-Options"] = b.nosniffValue
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.bytes)
}

// neverRule is the first rule that can never pass the request; -1 when there is none.
func (v *quotaView) neverRule() int {
	for i := range v.decisions {
		if v.wait(i) == never {
			return i
		}
	}
	return -1
}

// writeEndpoint is the built-in endpoint: 200 with who the request was counted as and what remains in
// its binding rule.
func writeEndpoint(w http.ResponseWriter, x *exchange, bind int) {
	writeJSON(w, http.StatusOK, endpointBody{Key: x.key.key, Tier: x.tier.name, Route: x.route,
		Cost: x.dimCost[0], Remaining: x.view.decisions[bind].Remaining})
}

// missingKeyMessage explains what a request without the needed key must send.
func (k *keyer) missingKeyMessage(kind string) string {
	switch kind {
	case KeyAPIKey:
		return fmt.Sprintf("this server limits by API key: send it in the %s header or as Authorization: Bearer TOKEN", k.apiKeyHeader)
	default: // KeyUser; "ip" and "route" are never missing
		return fmt.Sprintf("this server limits by user: send the %s header", k.userHeader)
	}
}
