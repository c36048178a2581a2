package ratekit

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ConfigError reports a configuration value that ratekit cannot use: which field, what it was, and what is
// allowed instead. A Transport returns it from its first RoundTrip (and every one after) when a field is
// out of range, e.g. Transport{QuotaLowThreshold: 7}:
//
//	ratekit: Transport.QuotaLowThreshold is 7; set it to 0 (the default, 0.8) or a fraction in (0, 1]
type ConfigError struct {
	Field   string   // the field or option, e.g. "Transport.QuotaLowThreshold"
	Value   string   // the value given, as text (a string quoted)
	Allowed []string // the allowed values, or a description of the allowed range
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("ratekit: " + e.Field + " is " + e.Value + "; set it to ")
	for i, a := range e.Allowed {
		switch {
		case i == 0:
		case i == len(e.Allowed)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(a)
	}
	return b.String()
}

// Reasons ratekit returns a response without retrying it. GiveUpReason reports them for a response.
var (
	// ErrBodyNotReplayable: the request has a body but no GetBody, so it cannot be sent again. Requests made
	// with http.NewRequest from a *bytes.Buffer, *bytes.Reader or *strings.Reader have GetBody.
	ErrBodyNotReplayable = errors.New("ratekit: not retried: the request body cannot be replayed (no GetBody)")
	// ErrNotIdempotent: the server may have processed the request (a 5xx or a network error) and its method
	// is not idempotent and it has no Idempotency-Key header, so sending it again could repeat its effect.
	ErrNotIdempotent = errors.New("ratekit: not retried: the request is not idempotent and the server may have processed it")
	// ErrRetriesExhausted: MaxRetries retries were made.
	ErrRetriesExhausted = errors.New("ratekit: not retried: the retries allowed were made; raise Transport.MaxRetries (after rate limits) or MaxErrorRetries (after errors) to retry more")
	// ErrRetryBudgetExhausted: the key's retry budget is spent (too many retries for the requests made).
	ErrRetryBudgetExhausted = errors.New("ratekit: not retried: the key's retry budget is spent; raise Transport.RetryBudget to retry more")
)

// ErrWaitTooLong is the cause of a *RateLimitError when the wait would exceed Transport.MaxWait.
var ErrWaitTooLong = errors.New("ratekit: the wait is longer than Transport.MaxWait")

// RateLimitError is returned when ratekit refuses to wait: the wait the server (or the pacing) asks for
// would pass the request's context deadline or Transport.MaxWait. Nothing was sent for the wait it refused.
// errors.Is(err, context.DeadlineExceeded) holds when the deadline is the reason; errors.Is(err,
// ErrWaitTooLong) when MaxWait is.
type RateLimitError struct {
	Key     string        // the rate-limit key of the request
	RetryAt time.Time     // when the request may be sent
	Wait    time.Duration // how long ratekit would have had to wait
	Reason  WaitReason    // what the wait was for: WaitServerPause, WaitQuota, WaitRejectionBackoff, ...
	Quota   string        // for WaitQuota, the quota that paces: "policy/dimension", or the dimension
	// StatusCode is the status of the response that asked for the wait (429, 503, 403), or 0 when the wait
	// came from pacing before any response.
	StatusCode int
	cause      error
}

func (e *RateLimitError) Error() string {
	var b strings.Builder
	b.WriteString("ratekit: rate limited")
	if e.Key != "" {
		b.WriteString(" on " + e.Key)
	}
	if e.StatusCode != 0 {
		b.WriteString(" (status " + strconv.Itoa(e.StatusCode) + ")")
	}
	b.WriteString(": " + e.Reason.String())
	if e.Quota != "" {
		b.WriteString(" (" + e.Quota + ")")
	}
	b.WriteString(" for " + e.Wait.Round(time.Millisecond).String())
	if !e.RetryAt.IsZero() {
		b.WriteString(", until " + e.RetryAt.UTC().Format(time.RFC3339))
	}
	switch {
	case errors.Is(e.cause, context.DeadlineExceeded):
		b.WriteString(", which passes the request's deadline; give the request a later deadline to accept it, or send it again after RetryAt")
	case errors.Is(e.cause, ErrWaitTooLong):
		b.WriteString(", longer than Transport.MaxWait; raise MaxWait to accept it, or send the request again after RetryAt")
	}
	return b.String()
}

// Unwrap returns context.DeadlineExceeded or ErrWaitTooLong.
func (e *RateLimitError) Unwrap() error { return e.cause }
