package ratekit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// retryDecision is what to do with the answer to one attempt.
type retryDecision struct {
	done        bool  // return the response (or the error) now
	giveUp      error // why a response that could have been retried is returned; nil when nothing to retry
	serverTimed bool  // retry after the key's pause, which the server set; otherwise after backoff
}

// retryState is one request's retries so far.
type retryState struct {
	attempts    int             // retries decided so far
	rateLimited int             // of which after rate-limit answers (MaxRetries)
	errors      int             // of which after 5xx answers and network errors (MaxErrorRetries)
	backoff     backoff.BackOff // the request's backoff after errors, made at the first
}

// retryable decides whether to retry an attempt and how the retry is timed, and counts the retry:
//   - a rate-limit answer (429, and 403 or 503 that say so) is retried after the pause the server asked for,
//     up to MaxRetries times; a 429 or 403 for any method, since the server refused the request without
//     processing it, a 503 only for idempotent requests;
//   - 500, 502, 503 and 504, and network errors, only for idempotent requests, after backoff, within the
//     retry budget, up to MaxErrorRetries times;
//   - never when the context has ended or the body cannot be replayed.
func (s *settings) retryable(req *http.Request, resp *http.Response, err error, out outcome, r *retryState, k *keyState) retryDecision {
	if err != nil {
		switch {
		case req.Context().Err() != nil, !retryableError(req, err), !idempotent(req), !replayable(req), r.errors >= s.maxErrorRetries:
			return retryDecision{done: true}
		case !k.spendRetry():
			return retryDecision{done: true}
		}
		r.attempts++
		r.errors++
		return retryDecision{}
	}
	var d retryDecision
	switch {
	case out.rateLimited:
		d.serverTimed = true
		if resp.StatusCode == http.StatusServiceUnavailable && !idempotent(req) {
			return retryDecision{done: true, giveUp: ErrNotIdempotent}
		}
	case retryableStatus(resp.StatusCode):
		if !idempotent(req) {
			return retryDecision{done: true, giveUp: ErrNotIdempotent}
		}
	default:
		return retryDecision{done: true}
	}
	switch {
	case req.Context().Err() != nil:
		return retryDecision{done: true, giveUp: req.Context().Err()}
	case !replayable(req):
		return retryDecision{done: true, giveUp: ErrBodyNotReplayable}
	case d.serverTimed && r.rateLimited >= s.maxRetries, !d.serverTimed && r.errors >= s.maxErrorRetries:
		return retryDecision{done: true, giveUp: ErrRetriesExhausted}
	case !d.serverTimed && !k.spendRetry():
		return retryDecision{done: true, giveUp: ErrRetryBudgetExhausted}
	}
	r.attempts++
	if d.serverTimed {
		r.rateLimited++
	} else {
		r.errors++
	}
	return d
}

// errorBackoff is the wait before a retry after an error (a 5xx answer or a network error) at now, or why
// there is none: the backoff stopped, or the wait would pass the request's deadline.
func (r *retryState) errorBackoff(s *settings, ctx context.Context, now time.Time) (time.Duration, error) {
	if r.backoff == nil {
		r.backoff = s.newBackoff()
	}
	d := r.backoff.NextBackOff()
	if d == backoff.Stop {
		return 0, ErrRetriesExhausted
	}
	if deadline, ok := ctx.Deadline(); ok && now.Add(d).After(deadline) {
		return 0, context.DeadlineExceeded
	}
	return d, nil
}

// retryableStatus reports the statuses that say "try again later" without a rate limit.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// idempotent reports whether sending req twice has the effect of sending it once: its method is idempotent
// (RFC 9110 §9.2.2), or it carries an Idempotency-Key (or X-Idempotency-Key), as net/http also accepts.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	if _, ok := req.Header["Idempotency-Key"]; ok {
		return true
	}
	_, ok := req.Header["X-Idempotency-Key"]
	return ok
}

// replayable reports whether req's body can be sent again: it has none, or GetBody makes a new one.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// retryableError reports whether a network error may go away on its own. Certificate errors and schemes
// the transport cannot speak do not.
func retryableError(req *http.Request, err error) bool {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return false
	}
	var verify *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &verify), errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &invalid):
		return false
	}
	return true
}

// replay makes the request for another attempt: a clone with a fresh body from GetBody.
func replay(req *http.Request, ctx context.Context) (*http.Request, error) {
	r := req.Clone(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, errors.Join(errors.New("ratekit: replaying the request body"), err)
		}
		r.Body = body
	}
	return r, nil
}

// retryBudget allows retries after errors at ratio per request on average, with a reserve of
// retryBudgetBurst: each request deposits ratio, each retry withdraws 1. Guarded by its key's mu.
type retryBudget struct {
	tokens, ratio float64
}

const retryBudgetBurst = 10

func newRetryBudget(ratio float64) retryBudget {
	return retryBudget{tokens: retryBudgetBurst, ratio: ratio}
}

// deposit adds a new request's share of retries.
func (b *retryBudget) deposit() { b.tokens = min(b.tokens+b.ratio, retryBudgetBurst) }

// spendRetry takes a retry from the budget, reporting whether there was one.
func (k *keyState) spendRetry() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.budget.ratio < 0 {
		return true
	}
	if k.budget.tokens < 1 {
		return false
	}
	k.budget.tokens--
	return true
}

type giveUpKey struct{}

// withGiveUpReason records on resp why ratekit returned it without retrying, for GiveUpReason.
func withGiveUpReason(resp *http.Response, req *http.Request, reason error) *http.Response {
	r := resp.Request
	if r == nil {
		r = req
	}
	resp.Request = r.WithContext(context.WithValue(r.Context(), giveUpKey{}, reason))
	return resp
}

// GiveUpReason reports why ratekit returned resp although it asked for a retry (a 429, a 503, ...): one of
// ErrBodyNotReplayable, ErrNotIdempotent, ErrRetriesExhausted, ErrRetryBudgetExhausted, or the context's
// error. It returns nil for a response ratekit had no reason to retry, or that did not come from ratekit.
func GiveUpReason(resp *http.Response) error {
	if resp == nil || resp.Request == nil {
		return nil
	}
	err, _ := resp.Request.Context().Value(giveUpKey{}).(error)
	return err
}
