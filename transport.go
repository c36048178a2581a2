package ratekit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/time/rate"

	"github.com/ratekit/ratekit/internal/ctxsleep"
)

// Transport is an http.RoundTripper that keeps a client within the rate limits of the servers it calls.
// For each request it:
//
//  1. finds the request's rate-limit key (KeyFunc: by default scheme and host);
//  2. waits until the key may send: past any pause the server imposed (Retry-After, an exhausted quota),
//     and within the pace of the quotas the server reported, counting requests in flight; it fails at once
//     with a *RateLimitError when that wait would pass the request's deadline or MaxWait;
//  3. sends the request through Base, unchanged;
//  4. reads every rate-limit header of the response (ParseHeaders) to update the key's quotas;
//  5. retries when that is safe: after a 429 (and a 403 or 503 that says it is a rate limit) for any method,
//     pausing the whole key for as long as the server asks; after other 5xx and network errors for idempotent
//     requests only, with jittered exponential backoff.
//
// The first request of a new key, and the first after a pause or a window's reset, goes alone: the others
// wait for its response (one round trip) and follow at the pace it reports, instead of all meeting the
// server's limit at once.
//
// The zero value is ready to use: every field's zero value is documented and means a sensible default.
// A Transport is safe for concurrent use by many goroutines and should be reused; its fields must not change
// after its first request.
type Transport struct {
	// Base sends the requests. Nil: http.DefaultTransport.
	Base http.RoundTripper

	// KeyFunc names the rate limit a request counts against. Nil: KeyByHost (scheme and host). See
	// KeyByAPIKey, KeyByHeader, KeyByContextValue (a user), KeyByRoute and KeyJoin for other keys.
	KeyFunc func(*http.Request) string

	// CostFunc is what a request costs in a dimension the server reports ("requests", "tokens",
	// "input-tokens", ...). Nil: DefaultCost, which is 0 in "tokens" and the like, so a quota of tokens holds
	// requests back only when the server says it is exhausted.
	CostFunc func(req *http.Request, dimension string) int64

	// Limit and Burst set a local ceiling per key, for users who know their limit: at most Limit requests a
	// second, in bursts of up to Burst (0: 1). Zero Limit: no ceiling; ratekit paces from what the server
	// says.
	Limit rate.Limit
	Burst int

	// MaxRetries is how many times a request is retried. Zero: 10 (a server that says nothing may take a
	// few probes to find the end of a window). Negative: never.
	MaxRetries int

	// MaxWait is the longest single wait ratekit accepts before a request, whether the server asked for it
	// or the pace requires it: a longer wait fails at once with a *RateLimitError carrying RetryAt. Zero:
	// 2 minutes (enough for per-minute quotas; raise it for hourly ones). Negative: no limit but the request's
	// context.
	MaxWait time.Duration

	// Backoff makes the backoff policy for retries that the server did not time: after a 5xx or a network
	// error (per request), and after a rejection that does not say when to come back (per key). Nil:
	// exponential from 500 ms, doubling, up to 30 s with ±50% jitter per request, up to 10 s with ±20% per
	// key.
	Backoff func() backoff.BackOff

	// RetryBudget caps retries after errors (5xx and network errors) at this many per request, on average,
	// per key, so an outage does not turn into a retry storm; a burst of 10 retries is always allowed.
	// Retries the server timed (after a rate-limit answer) are not counted. Zero: 0.2. Negative: no budget.
	RetryBudget float64

	// ResetFormats pins how reset fields of undefined unit are read, by host (req.URL.Host), for servers
	// no rule can classify (see ResetFormat). Nil: ResetAuto everywhere, except that a key whose rejections'
	// Retry-After show its resets to be milliseconds reads them so from then on.
	ResetFormats map[string]ResetFormat

	// Limiter shares each key's pace with other Transports: other processes using the same API key, through
	// Redis (package redisquota), or other Transports in this process (NewLocalLimiter). Every request then
	// also waits for the shared pace, and what this Transport learns (a pause, the pace a server's headers
	// allow) is published with its next request. Nil: the Transport paces alone.
	Limiter Limiter

	// IdleTimeout is how long a key that nothing uses is remembered. Keys in use, waiting or paused are
	// never forgotten. Zero: 10 minutes.
	IdleTimeout time.Duration

	// OnWait is called before a request waits, with how long and why. Nil: not called.
	OnWait func(WaitEvent)
	// OnRetry is called before a request is retried. Nil: not called.
	OnRetry func(RetryEvent)
	// OnQuota is called after each response that reported quotas, with the key's view of them.
	// Nil: not called.
	OnQuota func(QuotaEvent)
	// OnQuotaLow is called when a quota's used fraction reaches QuotaLowThreshold, once until it falls
	// below it again (a new window). Nil: not called.
	OnQuotaLow func(QuotaEvent)
	// QuotaLowThreshold is the used fraction at which OnQuotaLow fires. Zero: 0.8.
	QuotaLowThreshold float64

	keys registry
}

var _ http.RoundTripper = (*Transport)(nil)

// errEvicted makes admit look the key up again: it was forgotten while the request waited for the lock.
var errEvicted = errors.New("ratekit: key evicted")

// RoundTrip sends req within the rate limits of its key, retrying as the Transport's doc describes. As
// http.RoundTripper requires, it returns a response with a nil error whenever it has one (also the last
// 429 when retries run out: GiveUpReason says why it was not retried), never modifies req, and always
// closes req's body.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("ratekit: request has no URL")
	}
	ctx := req.Context()
	name := "" // KeyFunc's name for the request; "" for the default, which lookup builds without allocating
	if t.KeyFunc != nil {
		name = t.KeyFunc(req)
	}
	var reqBackoff backoff.BackOff
	at := placeNew
	for attempt := 0; ; attempt++ {
		sent := req
		if attempt > 0 {
			var err error
			if sent, err = replay(req, ctx); err != nil {
				return nil, err
			}
		}
		k, tk, err := t.admit(ctx, name, req, at)
		if err != nil {
			closeBody(sent)
			return nil, err
		}
		name = k.name
		resp, err := t.base().RoundTrip(sent)
		now := time.Now()
		var obs Observation
		quotas := getQuotaBuf() // the response's quotas, in a pooled buffer: no allocation per request
		if resp != nil {
			p := k.parser(t)
			obs.RetryAt, obs.Quotas = p.parseInto(quotas, resp.Header, now)
		}
		out := k.complete(t, &tk, resp, err, obs, now)
		putQuotaBuf(quotas) // complete keeps copies, not obs.Quotas
		t.report(name, req, out)
		if t.Limiter != nil && out.rateLimited {
			// A pause is news for the whole fleet now, not at this process's next request. If it cannot be
			// published, it stays pending for the next request's reservation.
			learned := k.takePending()
			if _, err := t.Limiter.Reserve(ctx, name, 0, learned, now); err != nil {
				k.restorePending(learned)
			}
		}

		retry := t.retryable(req, resp, err, out, attempt, k)
		if retry.done {
			if resp != nil && retry.giveUp != nil {
				return withGiveUpReason(resp, req, retry.giveUp), nil
			}
			return resp, err
		}
		if !retry.serverTimed {
			if reqBackoff == nil {
				reqBackoff = t.newBackoff()
			}
			d := reqBackoff.NextBackOff()
			if d == backoff.Stop {
				if resp != nil {
					return withGiveUpReason(resp, req, ErrRetriesExhausted), nil
				}
				return nil, err
			}
			if deadline, ok := ctx.Deadline(); ok && now.Add(d).After(deadline) {
				if resp != nil {
					return withGiveUpReason(resp, req, context.DeadlineExceeded), nil
				}
				return nil, err
			}
			if t.OnRetry != nil {
				t.OnRetry(RetryEvent{Key: name, Attempt: attempt + 1, Wait: d, Response: resp, Err: err, Request: req})
			}
			discard(resp)
			if err := ctxsleep.Sleep(ctx, d); err != nil {
				return nil, err
			}
			at = placeFront
			continue
		}
		at = placeBack
		if t.OnRetry != nil {
			t.OnRetry(RetryEvent{Key: name, Attempt: attempt + 1, Wait: max(out.resumeAt.Sub(now), 0), Response: resp, Err: err, Request: req})
		}
		discard(resp)
	}
}

// admit waits for the key's turn, looking the key up again if it was forgotten meanwhile.
func (t *Transport) admit(ctx context.Context, name string, req *http.Request, at place) (*keyState, ticket, error) {
	for {
		now := time.Now()
		k := t.lookup(name, req, now)
		if t.Limiter != nil {
			if err := t.reserveShared(ctx, k, req, now); err != nil {
				return k, ticket{}, err
			}
			now = time.Now()
		}
		tk, err := k.admit(ctx, t, req, at, now)
		if err != errEvicted {
			return k, tk, err
		}
	}
}

// lookup finds the state of the request's key: name, or for the default KeyByHost (name ""), the key it
// would build, without building it unless the key is new.
func (t *Transport) lookup(name string, req *http.Request, now time.Time) *keyState {
	if name != "" {
		return t.keys.get(t, name, req.URL.Host, now)
	}
	var buf [128]byte
	key := appendHostKey(buf[:0], req)
	return t.keys.getBytes(t, key, req.URL.Host, now)
}

// reserveShared waits for the key's shared pace (Transport.Limiter), publishing what the key learned since
// its last request. If the shared state cannot be reached, the request goes on with the local pace alone.
func (t *Transport) reserveShared(ctx context.Context, k *keyState, req *http.Request, now time.Time) error {
	cost := t.cost(req, "requests")
	var reported time.Duration
	for {
		learned := k.takePending()
		wait, err := t.Limiter.Reserve(ctx, k.name, cost, learned, now)
		if err != nil {
			k.restorePending(learned)
			return ctx.Err()
		}
		if wait <= 0 {
			return nil
		}
		a := admission{wait: wait, reason: "the fleet's shared pace"}
		if e := k.tooLong(ctx, t, a, now); e != nil {
			return e
		}
		if t.OnWait != nil && wait > reported+time.Millisecond {
			reported = wait
			t.OnWait(WaitEvent{Key: k.name, Wait: wait, Reason: a.reason, Request: req})
		}
		if err := ctxsleep.Sleep(ctx, wait); err != nil {
			return err
		}
		now = time.Now()
	}
}

// report calls the quota hooks for an outcome.
func (t *Transport) report(name string, req *http.Request, out outcome) {
	if t.OnQuota != nil && out.quotas != nil {
		t.OnQuota(QuotaEvent{Key: name, Quotas: out.quotas, Request: req})
	}
	if t.OnQuotaLow != nil {
		for _, q := range out.low {
			t.OnQuotaLow(QuotaEvent{Key: name, Quotas: []Quota{q}, Request: req})
		}
	}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) cost(req *http.Request, dimension string) int64 {
	if t.CostFunc != nil {
		return max(t.CostFunc(req, dimension), 0)
	}
	return DefaultCost(req, dimension)
}

// DefaultCost is what a request costs when Transport.CostFunc is nil: 1 in "requests" and in
// "concurrent-requests" (a slot while in flight), its body's length in "content-bytes" (the IETF unit),
// and 0 in any other dimension ("tokens": only the caller knows).
func DefaultCost(req *http.Request, dimension string) int64 {
	switch dimension {
	case "requests", "concurrent-requests":
		return 1
	case "content-bytes":
		return max(req.ContentLength, 0)
	}
	return 0
}

func (t *Transport) maxRetries() int {
	switch {
	case t.MaxRetries < 0:
		return 0
	case t.MaxRetries == 0:
		return 10
	}
	return t.MaxRetries
}

func (t *Transport) maxWait() time.Duration {
	switch {
	case t.MaxWait < 0:
		return 0
	case t.MaxWait == 0:
		return 2 * time.Minute
	}
	return t.MaxWait
}

func (t *Transport) quotaLowThreshold() float64 {
	if t.QuotaLowThreshold > 0 {
		return t.QuotaLowThreshold
	}
	return 0.8
}

func (t *Transport) retryBudgetRatio() float64 {
	if t.RetryBudget == 0 {
		return 0.2
	}
	return t.RetryBudget
}

func (t *Transport) idleTimeout() time.Duration {
	if t.IdleTimeout > 0 {
		return t.IdleTimeout
	}
	return 10 * time.Minute
}

// newBackoff makes the backoff for one request's retries after errors: ±50% jitter, so that clients hit by
// the same outage spread their retries, up to 30 s.
func (t *Transport) newBackoff() backoff.BackOff { return t.makeBackoff(0.5, 30*time.Second) }

// newKeyBackoff makes the backoff of a key refused without a word: the probes that find when the server
// takes requests again. One probe goes at a time, so jitter matters less than landing close to the moment
// the server reopens: ±20%, and at most 10 s between probes, so a window that reopens is found within 10 s.
func (t *Transport) newKeyBackoff() backoff.BackOff { return t.makeBackoff(0.2, 10*time.Second) }

func (t *Transport) makeBackoff(jitter float64, maxInterval time.Duration) backoff.BackOff {
	if t.Backoff != nil {
		return t.Backoff()
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 500 * time.Millisecond
	b.Multiplier = 2
	b.RandomizationFactor = jitter
	b.MaxInterval = maxInterval
	b.MaxElapsedTime = 0 // MaxRetries and MaxWait bound the retries
	b.Reset()
	return b
}

// closeBody closes the request's body, as a RoundTripper must on every path.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// discard drains (at most 4 KiB, so the connection can be reused) and closes a response that will not be
// returned.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}
