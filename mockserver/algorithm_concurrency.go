package mockserver

// concurrencyState is the concurrency algorithm's state for one key: the units in flight.
//
// Arithmetic:
//
//	allow iff c <= L - inflight; then inflight += c
//	release of c: inflight = max(0, inflight - c)
//	Remaining  = L - inflight
//	Reset      = now (the quota comes back when requests finish, which no clock predicts)
//	RetryAfter = 0, always: the wait depends on when the requests in flight finish. A rejection with c <= L is
//	             told apart from one that can never pass (c > L) by CanNeverPass, not by RetryAfter.
//
// The state is fresh when nothing is in flight. The memory store never expires a slot: the handler releases it
// when the response has been written or the client went away. (The Redis store's leases expire after a timeout
// so that a crashed server frees them.)
type concurrencyState struct {
	inflight int64
}

// decide decides a request of cost units at now (cost 0: a view) and returns the state after it.
func (s concurrencyState) decide(r *compiledRule, cost, now int64) (verdict, concurrencyState) {
	v := verdict{reset: now}
	if cost <= r.limit-s.inflight {
		s.inflight += cost
		v.allowed = true
	}
	v.remaining = clamp(r.limit-s.inflight, r.limit)
	return v, s
}

// release gives back cost units; it never goes below 0 (a release without a matching request is ignored).
func (s concurrencyState) release(cost int64) concurrencyState {
	s.inflight -= min(cost, s.inflight)
	return s
}
