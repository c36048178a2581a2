package mockserver

import "time"

// verdict is a decision in integer nanoseconds, as the pure cores compute it. toDecision turns it into a
// Decision relative to the caller's time.Time.
type verdict struct {
	allowed   bool
	remaining int64 // units left after the decision, already clamped to [0, capacity]
	reset     int64 // Unix ns when the quota is fully restored (or the window ends)
	// retryAfter is, for a rejection, the ns to wait from the caller's now; 0 when allowed or never possible.
	retryAfter int64
	delay      int64 // ns the leaky-bucket-queue holds the request
}

// toDecision converts v, computed at nowNs == now.UnixNano(), into a Decision. Reset keeps now's location and
// monotonic clock reading.
func (v verdict) toDecision(r *compiledRule, now time.Time, nowNs int64) Decision {
	return Decision{
		Allowed:    v.allowed,
		Limit:      r.limit,
		Remaining:  v.remaining,
		Reset:      now.Add(time.Duration(v.reset - nowNs)),
		RetryAfter: time.Duration(v.retryAfter),
		Delay:      time.Duration(v.delay),
	}
}

// ruleState is the state of one (rule, key), packed into three integers so that the memory store keeps it
// inline in its table without an allocation per key. Each algorithm's typed state converts to and from it:
//
//	algorithm               a                 b                c
//	fixed-window            window start      count            -
//	sliding-window-counter  window start      previous count   current count
//	token-bucket            tokens (hi)       tokens (lo)      last
//	leaky-bucket            level (hi)        level (lo)       last
//	leaky-bucket-queue      next free (ns)    next free (frac) -
//	gcra                    TAT (ns)          TAT (frac)       -
//	concurrency             in flight         -                -
//	sliding-window-log      (in log)
type ruleState struct {
	alg     algorithmID
	a, b, c int64
	log     *slidingLog
}

// decideState decides a request of cost units (0 asks for a view without consuming anything) for rule r at
// now, given the stored state *st (found reports whether there is one; st may then point to a zero value). It
// changes nothing: it returns the verdict and writes into *next the state to store if the request is
// committed. The sliding log is the exception to "writes the next state": its next state is made by
// commitState.
func decideState(r *compiledRule, st *ruleState, found bool, cost, now int64, next *ruleState) verdict {
	if found && st.alg != r.alg {
		found = false
	}
	*next = ruleState{alg: r.alg}
	var v verdict
	switch r.alg {
	case algFixedWindow:
		s := newFixedWindowState()
		if found {
			s = fixedWindowState{start: st.a, count: st.b}
		}
		v, s = s.decide(r, cost, now)
		next.a, next.b = s.start, s.count
	case algSlidingWindowCounter:
		s := newSlidingCounterState()
		if found {
			s = slidingCounterState{start: st.a, prev: st.b, cur: st.c}
		}
		v, s = s.decide(r, cost, now)
		next.a, next.b, next.c = s.start, s.prev, s.cur
	case algTokenBucket:
		var s tokenBucketState
		if found {
			s = tokenBucketState{tokens: u128{uint64(st.a), uint64(st.b)}, last: st.c}
		} else {
			s = newTokenBucketState(r, now)
		}
		v, s = s.decide(r, cost, now)
		next.a, next.b, next.c = int64(s.tokens.hi), int64(s.tokens.lo), s.last
	case algLeakyBucket:
		s := newLeakyBucketState(now)
		if found {
			s = leakyBucketState{level: u128{uint64(st.a), uint64(st.b)}, last: st.c}
		}
		v, s = s.decide(r, cost, now)
		next.a, next.b, next.c = int64(s.level.hi), int64(s.level.lo), s.last
	case algLeakyBucketQueue:
		s := newQueueState()
		if found {
			s = queueState{next: fracTime{st.a, st.b}}
		}
		v, s = s.decide(r, cost, now)
		next.a, next.b = s.next.ns, s.next.frac
	case algGCRA:
		s := newGCRAState()
		if found {
			s = gcraState{tat: fracTime{st.a, st.b}}
		}
		v, s = s.decide(r, cost, now)
		next.a, next.b = s.tat.ns, s.tat.frac
	case algConcurrency:
		var s concurrencyState
		if found {
			s.inflight = st.a
		}
		v, s = s.decide(r, cost, now)
		next.a = s.inflight
	case algSlidingWindowLog:
		var l *slidingLog
		if found {
			l = st.log
		}
		v = l.decide(r, cost, now)
	}
	return v
}

// commitState stores next (from decideState of an allowed request) into *st. For the sliding log it appends
// the request instead, allocating the log on first use.
func commitState(r *compiledRule, st *ruleState, next *ruleState, cost, now int64) {
	if r.alg != algSlidingWindowLog {
		*st = *next
		return
	}
	if st.alg != algSlidingWindowLog || st.log == nil {
		*st = ruleState{alg: algSlidingWindowLog, log: new(slidingLog)}
	}
	st.log.commit(r, cost, now)
}

// idleAt returns the Unix ns from which a state just committed with verdict v equals the fresh state (bucket
// full, window over, log empty), so that a store may forget it: the verdict's Reset, except for concurrency,
// whose state is fresh only when nothing is in flight.
func idleAt(r *compiledRule, st *ruleState, v *verdict, now int64) int64 {
	switch {
	case r.alg == algConcurrency:
		if st.a > 0 {
			return noIdle
		}
		return now
	case r.firstRequest:
		return v.reset + 1 // the window includes its last instant
	}
	return v.reset
}

// countsRejection reports whether rule r commits the state decideState computed for a rejected request (its
// cost counted): a CountRejected rule does, whichever rule rejected the request.
func (r *compiledRule) countsRejection() bool { return r.countRejected }

// viewAfterCounting returns what a CountRejected rule that would have allowed a request reports when another
// rule rejected it: its state with the cost counted (next), Allowed true, no RetryAfter and no Delay.
func viewAfterCounting(r *compiledRule, next *ruleState, now int64) verdict {
	return viewAfterRejection(r, next, true, now)
}

// viewAfterRejection returns what rule r reports when it would have allowed a request that another rule of the
// same tier rejected: nothing was consumed, so it shows its state unchanged (a view with cost 0), Allowed true
// (this rule did not object), and no Delay.
func viewAfterRejection(r *compiledRule, st *ruleState, found bool, now int64) verdict {
	var next ruleState
	v := decideState(r, st, found, 0, now, &next)
	v.allowed = true
	v.retryAfter = 0
	v.delay = 0
	return v
}
