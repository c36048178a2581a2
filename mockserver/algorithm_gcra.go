package mockserver

import "math"

// gcraState is the GCRA state for one key: the theoretical arrival time TAT, the time at which the bucket would
// be full again.
//
// Arithmetic: T = W / L is rarely a whole number of ns, so TAT is kept exactly as a fracTime (ns + frac/L);
// c * T and B * T are computed exactly in 128 bits. ALGORITHMS.md's definition, with now a whole ns:
//
//	new = max(TAT, now) + c * T
//	allow iff c <= B and new - B * T <= now; then TAT = new
//	Remaining  = floor((now - (TAT - B * T)) / T) = floor((now + B*T - TAT) * L / W), clamped to [0, B]
//	             (B when TAT <= now), with TAT after the decision
//	Reset      = ceil(max(TAT, now))                    (when the bucket is full)
//	RetryAfter = ceil(new - B * T - now) for a rejection with c <= B; 0 when c > B
//
// These are exactly the token bucket's decisions with the same B (tokens = (now + B*T - TAT) / T); the property
// test in algorithms_property_test.go checks it. A new key has TAT = -inf (a full bucket). A Lua port keeps one
// float64 TAT in µs, with T = W / L in µs: exact when T is a whole number of µs and the instants are whole µs.
type gcraState struct {
	tat fracTime
}

// newGCRAState returns the state of a key never seen: TAT in the distant past.
func newGCRAState() gcraState {
	return gcraState{tat: fracTime{ns: math.MinInt64}}
}

// decide decides a request of cost units at now (cost 0: a view) and returns the state after it.
func (s gcraState) decide(r *compiledRule, cost, now int64) (verdict, gcraState) {
	var v verdict
	if cost <= r.capacity {
		base := s.tat
		if base.ns < now {
			base = fracTime{ns: now}
		}
		next := base.add(emissionTime(cost, r.window, r.limit), r.limit)
		over := next.sub(r.burstTime, r.limit).sub(fracTime{ns: now}, r.limit) // new - B*T - now
		if over.ns < 0 || (over.ns == 0 && over.frac == 0) {
			s.tat = next
			v.allowed = true
		} else {
			v.retryAfter = over.ceil()
		}
	}
	if s.tat.after(now) {
		room := fracTime{ns: now}.add(r.burstTime, r.limit).sub(s.tat, r.limit) // now + B*T - TAT
		v.remaining = clamp(room.units(r.limit, r.window), r.capacity)
		v.reset = s.tat.ceil()
	} else {
		v.remaining = r.capacity
		v.reset = now
	}
	return v, s
}
