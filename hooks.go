package ratekit

import (
	"net/http"
	"time"
)

// WaitEvent tells Transport.OnWait that a request is about to wait before it is sent.
type WaitEvent struct {
	Key    string        // the request's rate-limit key
	Wait   time.Duration // how long, at least
	Reason WaitReason    // why: WaitServerPause, WaitQuota, WaitRejectionBackoff, WaitErrorBackoff, ...
	Quota  string        // for WaitQuota, the quota that paces: "policy/dimension" ("core/requests"), or the dimension
	// StatusCode is the status of the answer that caused the wait (a pause, a backoff after a 5xx), or 0.
	StatusCode int
	Request    *http.Request // the caller's request; do not modify it
}

// RetryEvent tells Transport.OnRetry that a request is about to be sent again.
type RetryEvent struct {
	Key      string
	Attempt  int            // 1 for the first retry
	Wait     time.Duration  // the wait before it, as known now (a pause may be extended by other answers)
	Response *http.Response // the answer being retried, or nil after a network error; its body is about to be discarded
	Err      error          // the network error, when there was no answer
	Request  *http.Request
}

// QuotaEvent tells Transport.OnQuota and Transport.OnQuotaLow about a key's quotas, as ratekit sees them
// after a response: what the server said, adjusted for requests in flight.
type QuotaEvent struct {
	Key     string
	Quotas  []Quota // for OnQuotaLow, the one quota that crossed the threshold
	Request *http.Request
}
