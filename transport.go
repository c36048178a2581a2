package ratekit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
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
	// "input-tokens", ...). Nil: DefaultCost, and in "tokens" and the like, where only the caller knows, the
	// cost the key learns from how the server's Remaining falls per request (an average: set CostFunc when
	// requests' costs differ widely). A CostFunc's answer is used as it is, 0 included.
	CostFunc func(req *http.Request, dimension string) int64

	// Limit and Burst set a local ceiling per key, for users who know their limit: at most Limit requests a
	// second, in bursts of up to Burst (0: 1). Zero Limit: no ceiling; ratekit paces from what the server
	// says.
	Limit rate.Limit
	Burst int

	// MaxRetries is how many times a request is retried after rate-limit answers (429, and 403 or 503
	// that say so). Zero: 10 (a server that says nothing may take a few probes to find the end of a
	// window). Negative: never.
	MaxRetries int

	// MaxErrorRetries is how many times an idempotent request is retried after other 5xx answers (500,
	// 502, 503, 504) and network errors, which a retry fixes only when they are transient. Zero: 3.
	// Negative: never.
	MaxErrorRetries int

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

	once     sync.Once
	settings *settings // resolved at the first request; nil when settingsErr is set
	setErr   error
	keys     registry
}

var _ http.RoundTripper = (*Transport)(nil)

// errEvicted makes admit look the key up again: it was forgotten while the request waited for the lock.
var errEvicted = errors.New("ratekit: key evicted")

// resolve returns the Transport's settings, resolving its fields at the first call.
func (t *Transport) resolve() (*settings, error) {
	t.once.Do(func() { t.settings, t.setErr = newSettings(t) })
	return t.settings, t.setErr
}

// RoundTrip sends req within the rate limits of its key, retrying as the Transport's doc describes. As
// http.RoundTripper requires, it returns a response with a nil error whenever it has one (also the last
// 429 when retries run out: GiveUpReason says why it was not retried), never modifies req, and always
// closes req's body. A Transport whose fields cannot be used returns a *ConfigError naming the field.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	s, err := t.resolve()
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("ratekit: request has no URL")
	}
	ctx := req.Context()
	// 1. The key.
	name := "" // KeyFunc's name for the request; "" for the default, which lookup builds without allocating
	if s.keyFunc != nil {
		name = s.keyFunc(req)
	}
	var r retryState
	at := placeNew
	for {
		sent := req
		if r.attempts > 0 {
			if sent, err = replay(req, ctx); err != nil {
				return nil, err
			}
		}
		now := time.Now()
		k := t.lookup(s, name, req, now)
		name = k.name
		// 2. The costs, once per attempt, outside any lock, computed in the ticket that admission fills.
		var tk ticket
		s.costsInto(&tk.costs, req, k.dimensions())
		// 3. Wait for the key.
		k, err = t.wait(ctx, s, k, req, &tk.costs, at, now, &tk)
		if err != nil {
			closeBody(sent)
			return nil, err
		}
		// 4. Send.
		resp, err := s.base.RoundTrip(sent)
		// The answer's time, read off the monotonic clock alone: now, which carries a monotonic reading,
		// plus the time elapsed since, is the instant time.Now would give, exactly on the monotonic clock
		// that every comparison between the Transport's times uses, and on the wall clock (which dates the
		// header's times) the wall time of now plus the time elapsed: time.Now would differ only by a step
		// of the wall clock during this one round trip, which the next request's reading picks up. It is
		// never earlier than the answer, so no decision uses a stale time, and it costs one clock read
		// instead of time.Now's two (wall and monotonic).
		now = now.Add(time.Since(now))
		// 5. Observe. The response's quotas go in a pooled buffer (taken only when it has rate-limit
		// fields), so reading them allocates nothing; no step below keeps the slice, only copies of its
		// values.
		a := answer{}
		var quotas *quotaBuf
		if resp != nil {
			p := k.parser(s)
			a = answer{responded: true, status: resp.StatusCode}
			a.obs.RetryAt, a.obs.Quotas, quotas = p.parsePooled(resp.Header, now)
			tk.costs.cover(s, req, a.obs.Quotas)
		}
		out := k.complete(s, &tk, a, now)
		if quotas != nil {
			putQuotaBuf(quotas, a.obs.Quotas)
		}
		if s.onQuota != nil || s.onQuotaLow != nil { // most Transports set neither hook: no call, no copy of out
			s.report(name, req, &out)
		}
		if s.limiter != nil && out.rateLimited {
			k.publish(ctx, s, now)
		}
		// 6. Decide: return, or retry after the server's pause or after backoff.
		d := s.retryable(req, resp, err, out, &r, k)
		if d.done {
			if resp != nil && d.giveUp != nil {
				return withGiveUpReason(resp, req, d.giveUp), nil
			}
			return resp, err
		}
		if d.serverTimed {
			at = placeBack
			if s.onRetry != nil {
				s.onRetry(RetryEvent{Key: name, Attempt: r.attempts, Wait: max(out.resumeAt.Sub(now), 0), Response: resp, Err: err, Request: req})
			}
			discard(resp)
			continue
		}
		wait, giveUp := r.errorBackoff(s, ctx, now)
		if giveUp != nil {
			if resp != nil {
				return withGiveUpReason(resp, req, giveUp), nil
			}
			return nil, err
		}
		if s.onRetry != nil {
			s.onRetry(RetryEvent{Key: name, Attempt: r.attempts, Wait: wait, Response: resp, Err: err, Request: req})
		}
		if s.onWait != nil {
			ev := WaitEvent{Key: name, Wait: wait, Reason: WaitErrorBackoff, Request: req}
			if resp != nil {
				ev.StatusCode = resp.StatusCode
			}
			s.onWait(ev)
		}
		discard(resp)
		if err := ctxsleep.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		at = placeFront
	}
}

// wait waits for the key's turn (step 3): the fleet's shared pace, then the key's own, looking the key up
// again if it was forgotten meanwhile. The ticket is written to tk.
func (t *Transport) wait(ctx context.Context, s *settings, k *keyState, req *http.Request, c *costs, at place, now time.Time, tk *ticket) (*keyState, error) {
	for {
		if s.limiter != nil {
			if err := k.reserveShared(ctx, s, WaitEvent{Key: k.name, Request: req}, c.requests(), now); err != nil {
				return k, err
			}
			now = time.Now()
		}
		err := k.admit(ctx, s, req, c, at, now, tk)
		if err != errEvicted {
			return k, err
		}
		now = time.Now()
		k = t.lookup(s, k.name, req, now)
	}
}

// lookup finds the state of the request's key: name, or for the default KeyByHost (name ""), the key it
// would build, without building it unless the key is new, nor looking it up by name when it is the last key
// found (registry.getLast).
func (t *Transport) lookup(s *settings, name string, req *http.Request, now time.Time) *keyState {
	if name != "" {
		return t.keys.get(s, name, req.URL.Host, now)
	}
	if k := t.keys.getLast(s, req, now); k != nil {
		return k
	}
	return t.lookupHost(s, req, now)
}

// lookupHost is lookup of the key by host when it is not the last key found: the key's name is built and
// looked up. A function of its own, so that its buffer is zeroed only then.
//
//go:noinline
func (t *Transport) lookupHost(s *settings, req *http.Request, now time.Time) *keyState {
	var buf [128]byte
	key := appendHostKey(buf[:0], req)
	return t.keys.getBytes(s, key, req.URL.Host, now)
}

// Forget drops everything the Transport learnt about key (a name as KeyFunc returns it, and as Snapshot
// shows it): its quotas, its pause, its pace. Requests waiting for the key look it up again and start
// afresh; requests in flight complete against the state they left with. It reports whether the key was
// held. Use it for a server that paused a key far longer than it should have.
func (t *Transport) Forget(key string) bool { return t.keys.forget(key) }

// report calls the quota hooks for an outcome.
func (s *settings) report(name string, req *http.Request, out *outcome) {
	if s.onQuota != nil && out.quotas != nil {
		s.onQuota(QuotaEvent{Key: name, Quotas: out.quotas, Request: req})
	}
	if s.onQuotaLow != nil {
		for _, q := range out.low {
			s.onQuotaLow(QuotaEvent{Key: name, Quotas: []Quota{q}, Request: req})
		}
	}
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
