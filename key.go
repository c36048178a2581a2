package ratekit

import (
	"context"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/time/rate"
)

// keyState is everything ratekit knows about one rate-limit key: the server's quotas as buckets, a pause the
// server imposed, the probe that ends a pause, the requests in flight, and the requests waiting to be sent
// (first come, first served). It is safe for concurrent use; every field below mu is guarded by mu.
type keyState struct {
	name string

	mu          sync.Mutex
	buckets     []*bucket // one per (policy, dimension) the server reported
	pausedUntil time.Time // no request leaves before this
	pauseReason string
	pauseStatus int  // the status of the response that caused the pause
	needProbe   bool // the next request goes alone: a new key, or the end of a pause
	probing     bool // that request is in flight; the others wait for its answer
	inflight    int
	flights     []flight  // the requests in flight and their cost in "requests", for buckets created meanwhile
	seq         uint64    // admissions so far: requests are numbered in the order they are sent
	queue       []*waiter // waiting requests, in order
	lastUsed    time.Time
	evicted     bool
	sent        int64 // requests sent, retries included
	rejected    int64 // rate-limit answers

	ceiling  *rate.Limiter   // the user's ceiling (Transport.Limit), or nil
	adaptive adaptive        // the pace for servers that say nothing
	backoff  backoff.BackOff // the key's backoff after rejections that say nothing, or nil
	budget   retryBudget

	pending     *Pace       // what the key learned for Transport.Limiter, not yet published
	host        string      // the host of the key's first request, for Transport.ResetFormats
	resetFormat ResetFormat // learned: resets in milliseconds that Retry-After showed up

	backoffAt    time.Time // when the backoff last stepped: rejections of requests sent before are old news
	backoffUntil time.Time // the end of its last step
}

// waiter is a request waiting for its turn. ready is signalled when it becomes the head of the queue and
// whenever the key's state changes while it is the head.
type waiter struct {
	ready chan struct{}
}

// ticket is a request admitted and in flight.
type ticket struct {
	seq     uint64
	probe   bool
	reqCost int64 // its cost in the "requests" dimension
	n       int
	charges [4]charge // the buckets it was charged to
	more    []charge
	sentAt  time.Time
}

type charge struct {
	b        *bucket
	cost     int64
	refilled bool // admitted on the rolling refill rather than on reported units
}

func (tk *ticket) add(c charge) {
	if tk.n < len(tk.charges) {
		tk.charges[tk.n] = c
	} else {
		tk.more = append(tk.more, c)
	}
	tk.n++
}

func (tk *ticket) each(fn func(*charge)) {
	for i := 0; i < tk.n && i < len(tk.charges); i++ {
		fn(&tk.charges[i])
	}
	for i := range tk.more {
		fn(&tk.more[i])
	}
}

// admission is a decision about the head of the queue at one instant.
type admission struct {
	wait    time.Duration // how long until the request may go; 0: now
	unknown bool          // the wait ends when a response arrives (a probe, or a concurrency slot), not at a time
	reason  string
	status  int
}

func newKeyState(name string, t *Transport, now time.Time) *keyState {
	k := &keyState{name: name, needProbe: true, lastUsed: now}
	if t.Limit > 0 {
		k.ceiling = rate.NewLimiter(t.Limit, max(t.Burst, 1))
	}
	k.budget = newRetryBudget(t.retryBudgetRatio())
	return k
}

// place is where a request joins the queue of its key.
type place uint8

const (
	placeNew   place = iota // a new request: at the back
	placeFront              // a retry after backoff: it waited its turn before, so at the front
	placeBack               // a retry after the server refused it: at the back, so that after a pause the
	// probes rotate among the waiting requests instead of one request spending all its retries on them
)

// admit blocks until the request may be sent and records it in flight; now is the time of the call. It
// fails at once with a *RateLimitError when the wait would pass the context's deadline or maxWait, and
// with the context's error when the context ends.
func (k *keyState) admit(ctx context.Context, t *Transport, req *http.Request, at place, now time.Time) (ticket, error) {
	k.mu.Lock()
	if k.evicted {
		k.mu.Unlock()
		return ticket{}, errEvicted
	}
	if len(k.queue) == 0 {
		if a := k.decide(t, req, now); a.wait == 0 && !a.unknown {
			tk := k.admitNow(t, req, now, at != placeNew)
			k.mu.Unlock()
			return tk, nil
		}
	}
	w := &waiter{ready: make(chan struct{}, 1)}
	if at == placeFront {
		k.queue = append([]*waiter{w}, k.queue...)
	} else {
		k.queue = append(k.queue, w)
	}
	if k.queue[0] == w {
		w.signal()
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var reported time.Duration
	for {
		head := k.queue[0] == w
		a := k.decide(t, req, now)
		if !head {
			// Behind the head, a request waits at least as long as the head, and then for its turn: the
			// pace of the requests between them is a guess the server's next reports may beat, so it is no
			// ground to fail.
			a.unknown = true
		}
		if head && a.wait == 0 && !a.unknown {
			k.leave(w)
			tk := k.admitNow(t, req, now, at != placeNew)
			k.mu.Unlock()
			return tk, nil
		}
		if err := k.tooLong(ctx, t, a, now); err != nil {
			k.leave(w)
			k.mu.Unlock()
			return ticket{}, err
		}
		k.mu.Unlock()

		if a.wait > reported+time.Millisecond && t.OnWait != nil {
			reported = a.wait
			t.OnWait(WaitEvent{Key: k.name, Wait: a.wait, Reason: a.reason, Request: req})
		}
		var fire <-chan time.Time
		if head && !a.unknown {
			if timer == nil {
				timer = time.NewTimer(a.wait)
			} else {
				timer.Reset(a.wait)
			}
			fire = timer.C
		}
		select {
		case <-w.ready:
		case <-fire:
		case <-ctx.Done():
			k.mu.Lock()
			k.leave(w)
			k.mu.Unlock()
			return ticket{}, ctx.Err()
		}
		if timer != nil && !timer.Stop() {
			select { // drain a fired timer so Reset starts clean
			case <-timer.C:
			default:
			}
		}
		k.mu.Lock()
		now = time.Now()
		if k.evicted {
			k.leave(w)
			k.mu.Unlock()
			return ticket{}, errEvicted
		}
	}
}

func (w *waiter) signal() {
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// leave removes w from the queue and wakes the new head. Requires mu held.
func (k *keyState) leave(w *waiter) {
	for i, q := range k.queue {
		if q == w {
			copy(k.queue[i:], k.queue[i+1:])
			k.queue[len(k.queue)-1] = nil
			k.queue = k.queue[:len(k.queue)-1]
			break
		}
	}
	k.wakeHead()
}

// wakeHead tells the head of the queue to look again. Requires mu held.
func (k *keyState) wakeHead() {
	if len(k.queue) > 0 {
		k.queue[0].signal()
	}
}

// decide says whether a request at the head of the queue may go at now, and if not, why and for how long.
// Requires mu held.
func (k *keyState) decide(t *Transport, req *http.Request, now time.Time) admission {
	if now.Before(k.pausedUntil) {
		return admission{wait: k.pausedUntil.Sub(now), reason: k.pauseReason, status: k.pauseStatus}
	}
	if k.probing {
		return admission{unknown: true, reason: "waiting for the probe"}
	}
	var a admission
	if k.ceiling != nil {
		if d := limiterWait(k.ceiling, now); d > a.wait {
			a = admission{wait: d, reason: "pacing (Transport.Limit)"}
		}
	}
	if d := k.adaptive.wait(now); d > a.wait {
		a = admission{wait: d, reason: "adaptive pacing"}
	}
	for _, b := range k.buckets {
		d, ok := b.wait(k.costFor(t, req, b), now)
		if !ok {
			a.unknown, a.reason = true, "waiting for a request in flight to finish"
			continue
		}
		if d > 0 && b.mode == modeFixed {
			b.waitedForReset = true
		}
		if d > a.wait {
			a.wait, a.reason = d, "pacing ("+b.policyName()+")"
		}
	}
	if a.unknown && k.inflight == 0 {
		a.unknown = false // no answer is coming to end the wait: let the server judge
	}
	return a
}

// tooLong returns the error for a wait that passes the context's deadline or MaxWait. It reads only the
// key's name, which never changes: mu need not be held.
func (k *keyState) tooLong(ctx context.Context, t *Transport, a admission, now time.Time) error {
	if a.wait <= 0 {
		return nil
	}
	e := &RateLimitError{Key: k.name, RetryAt: now.Add(a.wait), Wait: a.wait, Reason: a.reason, StatusCode: a.status}
	if deadline, ok := ctx.Deadline(); ok && now.Add(a.wait).After(deadline) {
		e.cause = context.DeadlineExceeded
		return e
	}
	if maxWait := t.maxWait(); maxWait > 0 && a.wait > maxWait {
		e.cause = ErrWaitTooLong
		return e
	}
	return nil
}

// admitNow records the request in flight and charges it to every bucket. Requires mu held.
func (k *keyState) admitNow(t *Transport, req *http.Request, now time.Time, retry bool) ticket {
	k.seq++
	if !retry {
		k.budget.tokens = min(k.budget.tokens+k.budget.ratio, retryBudgetBurst)
	}
	tk := ticket{seq: k.seq, sentAt: now, reqCost: t.cost(req, "requests")}
	for _, b := range k.buckets {
		if b.waitedForReset && !now.Before(b.reset) {
			// The window turned over: learn its budget from one request before the others follow.
			b.waitedForReset, k.needProbe = false, true
		}
	}
	if k.needProbe {
		tk.probe, k.needProbe, k.probing = true, false, true
	}
	for _, b := range k.buckets {
		cost := t.cost(req, b.dimension)
		tk.add(charge{b: b, cost: cost, refilled: b.take(tk.seq, cost, now)})
	}
	if k.ceiling != nil {
		k.ceiling.AllowN(now, 1)
	}
	k.adaptive.take(now)
	k.inflight++
	k.sent++
	k.flights = append(k.flights, flight{seq: tk.seq, cost: tk.reqCost})
	k.lastUsed = now
	k.wakeHead()
	return tk
}

// costFor is what req costs in bucket b's dimension. A request that costs nothing in a dimension (the
// default for every dimension but requests) is still held back by a quota of it that the server reports
// exhausted, until its reset.
func (k *keyState) costFor(t *Transport, req *http.Request, b *bucket) int64 {
	c := t.cost(req, b.dimension)
	if c == 0 && b.dimension != "requests" && b.known() && b.remaining == 0 {
		return 1
	}
	return c
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

// outcome is what a response (or its absence) meant for the key, for the retry decision and the hooks.
type outcome struct {
	rateLimited bool      // the server refused the request for its rate limit
	resumeAt    time.Time // when the key may send again, when the server said
	quotas      []Quota   // the key's view after the response, for OnQuota
	low         []Quota   // quotas that crossed the low threshold
}

// complete ends a request in flight: it updates the buckets from the response's observation, pauses the key
// after a rejection, and wakes the queue.
func (k *keyState) complete(t *Transport, tk *ticket, resp *http.Response, err error, obs Observation, now time.Time) outcome {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.inflight--
	for i, f := range k.flights {
		if f.seq == tk.seq {
			k.flights = append(k.flights[:i], k.flights[i+1:]...)
			break
		}
	}
	for _, b := range k.buckets {
		b.done(tk.seq) // also the buckets created while it was in flight, which count it
	}
	if tk.probe {
		k.probing = false
	}
	k.lastUsed = now
	defer k.wakeHead()

	var out outcome
	if resp == nil {
		return out
	}
	out.rateLimited = isRateLimited(resp, obs)
	if out.rateLimited {
		k.rejected++
	}
	for _, q := range obs.Quotas {
		b := k.bucketFor(q)
		own, charged := int64(0), false
		tk.each(func(c *charge) {
			if c.b == b {
				own, charged = c.cost, true
				if out.rateLimited && c.refilled && b.mode == modeRolling && waitsForReset(obs.RetryAt, q.Reset, now) {
					b.makeFixed()
				}
			}
		})
		if !charged && resp.Request != nil {
			own = t.cost(resp.Request, q.Dimension) // the bucket is new: the server counted the request all the same
		}
		b.sync(q, now, tk.seq, k.seq, own)
		if out.rateLimited {
			b.refused()
		}
		if out.rateLimited && q.Exhausted() && k.resetInMilliseconds(obs.RetryAt, q.Reset, now) && t.ResetFormats[k.host] == ResetAuto {
			k.resetFormat = ResetDelayMilliseconds
		}
		if out.rateLimited && !obs.RetryAt.IsZero() {
			b.retryAt(obs.RetryAt, now)
		}
		if f, ok := q.UsedFraction(); ok {
			switch {
			case f >= t.quotaLowThreshold() && !b.low:
				b.low = true
				out.low = append(out.low, b.view(now))
			case f < t.quotaLowThreshold():
				b.low = false
			}
		}
	}
	if len(obs.Quotas) > 0 && t.OnQuota != nil {
		out.quotas = k.views(now)
	}
	if t.Limiter != nil {
		defer func() { k.pending = k.fleetPace(now) }() // after the pause below is set
	}
	if !out.rateLimited {
		if k.backoff != nil {
			k.backoff.Reset()
		}
		if !k.hasKnownBuckets() {
			k.adaptive.success(tk.sentAt, now)
		}
		return out
	}
	out.resumeAt = obs.ResumeAt()
	until, reason := out.resumeAt, "paused by the server"
	if until.IsZero() || !until.After(now) {
		// The server said nothing about when. A server that never says anything is paced by the adaptive
		// rate, which this rejection cuts: the next request (a probe) goes at the new pace. Otherwise, and
		// before the adaptive rate has learned anything, back off, once per episode: the other requests in
		// flight when the first was refused are refused too, and are old news.
		blind := !k.hasKnownBuckets()
		if blind {
			k.adaptive.rejected(tk.sentAt, now)
		}
		switch {
		case blind && k.adaptive.paced():
			until, reason = now, "adaptive pacing"
		default:
			if !tk.sentAt.Before(k.backoffAt) {
				if k.backoff == nil {
					k.backoff = t.newKeyBackoff()
				}
				d := k.backoff.NextBackOff()
				if d == backoff.Stop {
					d = t.maxWait()
				}
				k.backoffAt = now
				k.backoffUntil = now.Add(d)
			}
			until, reason = k.backoffUntil, "backoff after a rejection"
		}
		out.resumeAt = until
	}
	if until.After(k.pausedUntil) {
		k.pausedUntil, k.pauseReason, k.pauseStatus = until, reason, resp.StatusCode
	}
	k.needProbe = true
	return out
}

// takePending returns what the key learned for the fleet since it last published, and forgets it.
func (k *keyState) takePending() *Pace {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := k.pending
	k.pending = nil
	return p
}

// restorePending puts back what could not be published, unless something newer was learned meanwhile.
func (k *keyState) restorePending(p *Pace) {
	if p == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pending == nil {
		k.pending = p
	}
}

// fleetPace is the key's pace in the form a fleet shares: the slowest of its buckets' paces (what the
// bucket holds, spread to its reset, plus what comes back meanwhile), and the pause, including an exhausted
// window's wait for its reset. Requires mu held.
func (k *keyState) fleetPace(now time.Time) *Pace {
	p := &Pace{PausedUntil: k.pausedUntil}
	rate := math.Inf(1)
	for _, b := range k.buckets {
		if !b.known() || b.mode == modeConcurrent || b.reset.IsZero() || b.dimension != "requests" {
			continue
		}
		have := max(b.available(now), 0)
		until := b.reset.Sub(now).Seconds()
		var r float64
		switch {
		case until <= 0:
			continue
		case b.mode == modeFixed && have < 1:
			// Nothing until the reset; then a window's worth over a window.
			if b.reset.After(p.PausedUntil) {
				p.PausedUntil = b.reset
			}
			if b.limit <= 0 || b.longest <= 0 {
				continue
			}
			r = float64(b.limit) / b.longest.Seconds()
		case b.mode == modeFixed:
			r = have / until
		default:
			r = b.rate + have/until
		}
		rate = min(rate, r)
	}
	if !math.IsInf(rate, 1) && rate > 0 {
		p.Rate = rate
		p.Burst = max(1, rate/2) // half a second's worth: even pacing across the fleet
	}
	return p
}

// bucketFor finds or creates the bucket of a reported quota. Requires mu held.
func (k *keyState) bucketFor(q Quota) *bucket {
	for _, b := range k.buckets {
		if b.policy == q.Policy && b.dimension == q.Dimension {
			return b
		}
	}
	b := &bucket{policy: q.Policy, dimension: q.Dimension, limit: -1, remaining: -1, nowRemaining: -1}
	if q.Dimension == "requests" {
		for _, f := range k.flights {
			b.flights = append(b.flights, f)
			b.inflight += f.cost
		}
	}
	k.buckets = append(k.buckets, b)
	return b
}

func (k *keyState) hasKnownBuckets() bool {
	for _, b := range k.buckets {
		if b.known() {
			return true
		}
	}
	return false
}

// views is the key's quotas as the buckets see them at now. Requires mu held.
func (k *keyState) views(now time.Time) []Quota {
	qs := make([]Quota, 0, len(k.buckets))
	for _, b := range k.buckets {
		qs = append(qs, b.view(now))
	}
	return qs
}

// idle reports whether the key can be forgotten at now: nothing in flight or waiting, no pause running,
// and unused for longer than timeout. Requires mu held.
func (k *keyState) idle(now time.Time, timeout time.Duration) bool {
	return k.inflight == 0 && len(k.queue) == 0 && !now.Before(k.pausedUntil) && now.Sub(k.lastUsed) >= timeout
}

// resetInMilliseconds reports whether a rejection's Retry-After shows that the quota's reset, read as
// seconds, was milliseconds: it is about a thousand times longer than the wait the server asked for.
func (k *keyState) resetInMilliseconds(retryAt, reset, now time.Time) bool {
	if retryAt.IsZero() || reset.IsZero() || k.resetFormat != ResetAuto {
		return false
	}
	wait, until := retryAt.Sub(now), reset.Sub(now)
	return wait > 0 && until > 300*wait && until < 3000*wait
}

// parser reads the key's responses: with the reset format the user pinned for the host, else the one the
// key learned.
func (k *keyState) parser(t *Transport) Parser {
	if f, ok := t.ResetFormats[k.host]; ok {
		return Parser{ResetFormat: f}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return Parser{ResetFormat: k.resetFormat}
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

// isRateLimited reports whether a response refuses the request for its rate limit: a 429; a 503 that says
// when to come back; a 403 that says when to come back or reports an exhausted quota (GitHub).
func isRateLimited(resp *http.Response, obs Observation) bool {
	switch resp.StatusCode {
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
