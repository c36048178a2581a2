package ratekit

import (
	"net/http"
	"time"
)

// isRateLimited reports whether an answer refuses the request for its rate limit: a 429; a 503 that says
// when to come back; a 403 that says when to come back or reports an exhausted quota (GitHub).
func isRateLimited(status int, obs Observation) bool {
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		return !obs.RetryAt.IsZero()
	case http.StatusForbidden:
		if !obs.RetryAt.IsZero() {
			return true
		}
		for _, q := range obs.Quotas {
			if q.Exhausted() {
				return true
			}
		}
	}
	return false
}

// overloaded reports whether an answer that is no rate-limit refusal still says the server is overloaded:
// a 503 without Retry-After.
func overloaded(status int, obs Observation) bool {
	return status == http.StatusServiceUnavailable && obs.RetryAt.IsZero()
}

// waitsForReset reports whether a rejection asks to wait until the quota's reset (a fixed window) rather
// than less (a sliding window, whose capacity comes back before the reset): retryAt, when set, is within a
// tenth of the wait, or 1.5 s of rounding, of the reset.
func waitsForReset(retryAt, reset, now time.Time) bool {
	if retryAt.IsZero() || reset.IsZero() {
		return true
	}
	slack := max(reset.Sub(now)/10, 1500*time.Millisecond)
	return !retryAt.Before(reset.Add(-slack))
}

// resetInMilliseconds reports whether a rejection's Retry-After shows that the quota's reset, read as
// seconds, was milliseconds: it is about a thousand times longer than the wait the server asked for.
func (k *keyState) resetInMilliseconds(retryAt, reset, now time.Time) bool {
	if retryAt.IsZero() || reset.IsZero() || ResetFormat(k.resetFormat.Load()) != ResetAuto {
		return false
	}
	wait, until := retryAt.Sub(now), reset.Sub(now)
	return wait > 0 && until > 300*wait && until < 3000*wait
}

// parser reads the key's responses: with the reset format the user pinned for the host, else the one the
// key learned. It takes no lock.
func (k *keyState) parser(s *settings) Parser {
	if f, ok := s.resetFormats[k.host]; ok {
		return Parser{ResetFormat: f}
	}
	return Parser{ResetFormat: ResetFormat(k.resetFormat.Load())}
}
