package ratekit

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// admission is a decision about the head of the queue at one instant.
type admission struct {
	wait    time.Duration // how long until the request may go; 0: now
	unknown bool          // the wait ends when a response arrives (a probe, or a concurrency slot), not at a time
	reason  WaitReason
	quota   string // the quota that paces, for WaitQuota: "policy/dimension", or the dimension
	status  int    // the status of the answer that paused the key, for WaitServerPause and the backoffs
	// recost: the request's costs lack a dimension the key learnt since CostFunc computed them; the caller
	// computes them, outside the lock, and decides again
	recost bool
}

// ready reports whether the request may go now.
func (a admission) ready() bool { return a.wait == 0 && !a.unknown && !a.recost }

// decide says whether a request of costs c at the head of the queue may go at now, and if not, why and for
// how long. It is pure: a function of the key's state, c and now, with no side effect. Requires mu held.
func (k *keyState) decide(c *costs, now time.Time) admission {
	if c.stale(k.dimensions()) {
		return admission{recost: true}
	}
	if now.Before(k.pausedUntil) {
		return admission{wait: k.pausedUntil.Sub(now), reason: k.pauseReason, status: k.pauseStatus}
	}
	if k.probing {
		return admission{unknown: true, reason: WaitProbe}
	}
	var a admission
	if k.ceiling != nil {
		if d := limiterWait(k.ceiling, now); d > a.wait {
			a = admission{wait: d, reason: WaitLocalLimit}
		}
	}
	if d := k.adaptive.wait(now); d > a.wait {
		a = admission{wait: d, reason: WaitAdaptive}
	}
	if w := k.adaptive.window(); w > 0 && k.inflight >= w && !k.hasKnownBuckets() {
		a.unknown = true // the slow start's window is full: the next answer opens it
		if a.wait == 0 {
			a.reason = WaitAdaptive
		}
	}
	for _, b := range k.buckets {
		if !k.hits(b, c.route) {
			continue
		}
		d, ok := b.wait(k.costFor(c, b), now)
		if !ok {
			a.unknown = true
			if a.wait == 0 {
				a.reason = WaitInFlight
			}
			continue
		}
		if d > a.wait {
			a.wait, a.reason, a.quota = d, WaitQuota, b.policyName()
		}
	}
	if a.unknown && k.inflight == 0 {
		a.unknown = false // no answer is coming to end the wait: let the server judge
	}
	return a
}

// refusal returns the error for a wait that passes the context's deadline or maxWait (0: none), or nil.
func (a admission) refusal(ctx context.Context, key string, maxWait time.Duration, now time.Time) error {
	if a.wait <= 0 {
		return nil
	}
	e := &RateLimitError{Key: key, RetryAt: now.Add(a.wait), Wait: a.wait, Reason: a.reason, Quota: a.quota, StatusCode: a.status}
	if deadline, ok := ctx.Deadline(); ok && now.Add(a.wait).After(deadline) {
		e.cause = context.DeadlineExceeded
		return e
	}
	if maxWait > 0 && a.wait > maxWait {
		e.cause = ErrWaitTooLong
		return e
	}
	return nil
}

// costFor is what a request of costs c costs in bucket b's dimension, to wait for. A request that costs
// nothing in a dimension (the default for every dimension but requests, until the key has learnt its cost:
// learnt_cost.go) is still held back by a quota of it that the server reports exhausted, until its reset.
func (k *keyState) costFor(c *costs, b *bucket) int64 {
	n := k.chargeFor(c, b)
	if n == 0 && b.dimension != "requests" && b.known() && b.remaining == 0 {
		return 1
	}
	return n
}

// chargeFor is what a request of costs c is charged in bucket b's dimension: its cost, or where only the
// caller knows it and CostFunc is nil, what the key learnt. Requires mu held.
func (k *keyState) chargeFor(c *costs, b *bucket) int64 {
	if unknownCost(c, b.dimension) {
		return k.learntCost(b)
	}
	return c.of(b.dimension)
}

func (b *bucket) policyName() string {
	if b.policy == "" {
		return b.dimension
	}
	return b.policy + "/" + b.dimension
}

// limiterWait is how long until lim has a token at now.
func limiterWait(lim *rate.Limiter, now time.Time) time.Duration {
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	l := lim.Limit()
	if l <= 0 {
		return maxAhead
	}
	if l == rate.Inf {
		return 0
	}
	return durationCeil((1 - tokens) / float64(l))
}
