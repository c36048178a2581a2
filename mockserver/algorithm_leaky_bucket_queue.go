package mockserver

import "math"

// queueState is the leaky-bucket-queue (shaper) algorithm's state for one key: the next free slot, when the
// requests already admitted will all have been served. It behaves as nginx limit_req with burst=B and without
// nodelay: requests are held, not rejected, until the queue is more than B * W / L long.
//
// Arithmetic: with T = W / L, the slot is kept exactly as a fracTime (ns + frac/L), and c * T, B * T exactly in
// 128 bits. With now a whole ns:
//
//	D = max(next, now) - now                            (how long the request would be held)
//	allow iff c <= B and D <= B * T; then next = max(next, now) + c * T
//	Delay      = ceil(D) for an allowed request; 0 otherwise
//	Remaining  = the cost-1 requests that would still be admitted at now:
//	             floor((B*T - D') / T) + 1 = floor((B*T - D') * L / W) + 1 when D' <= B*T, else 0,
//	             clamped to [0, B], with D' = max(next, now) - now after the decision
//	Reset      = ceil(max(next, now))                   (when the queue is empty)
//	RetryAfter = ceil(D - B * T) for a rejection with c <= B; 0 when c > B
//
// A rejection changes nothing. A new key has next = -inf (an empty queue). Remaining is clamped to B although an
// empty queue admits B + 1 requests at once (one served at once, B held): the count is conservative, and 0 still
// means exactly "the next request is rejected". A Lua port keeps next as one float64 in µs.
type queueState struct {
	next fracTime
}

// newQueueState returns the state of a key never seen: an empty queue.
func newQueueState() queueState {
	return queueState{next: fracTime{ns: math.MinInt64}}
}

// decide decides a request of cost units at now (cost 0: a view) and returns the state after it.
func (s queueState) decide(r *compiledRule, cost, now int64) (verdict, queueState) {
	var v verdict
	if cost <= r.capacity {
		wait := s.wait(r, now)
		if !wait.greater(r.burstTime) {
			base := s.next
			if base.ns < now {
				base = fracTime{ns: now}
			}
			s.next = base.add(emissionTime(cost, r.window, r.limit), r.limit)
			v.allowed = true
			v.delay = wait.ceil()
		} else {
			v.retryAfter = wait.sub(r.burstTime, r.limit).ceil()
		}
	}
	if wait := s.wait(r, now); !wait.greater(r.burstTime) {
		room := r.burstTime.sub(wait, r.limit)
		v.remaining = clamp(room.units(r.limit, r.window)+1, r.capacity)
	}
	v.reset = max(s.next.ceil(), now)
	return v, s
}

// wait returns max(next, now) - now, how long a request arriving at now would be held.
func (s queueState) wait(r *compiledRule, now int64) fracTime {
	if !s.next.after(now) {
		return fracTime{}
	}
	return s.next.sub(fracTime{ns: now}, r.limit)
}
