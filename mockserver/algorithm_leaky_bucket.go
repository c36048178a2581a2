package mockserver

// leakyBucketState is the leaky-bucket (meter) algorithm's state for one key: the level of the bucket when it
// last leaked, at last. It is the mirror image of the token bucket (level = B - tokens), kept under its own name
// because users search for both.
//
// Arithmetic: the level is kept exactly, in units of 1/W of a request (a 128-bit integer V = level * W, W in ns),
// so that leaking for d ns removes exactly d * L units. With C = B * W:
//
//	t = max(now, last)
//	V = max(0, V - (t - last) * L); last = t   (leak)
//	allow iff c <= B and V + c * W <= C; then V += c * W
//	Remaining  = floor((C - V) / W)
//	Reset      = t + ceil(V / L)                  (when the bucket is empty)
//	RetryAfter = t + ceil((V + c * W - C) / L) - now for a rejection with c <= B; 0 when c > B
//
// A new key starts empty. A Lua port can keep the same integers with times in µs, exactly as for the token
// bucket (V = level * W_µs; a leak removes elapsed_µs * L).
type leakyBucketState struct {
	level u128 // in 1/W of a request
	last  int64
}

// newLeakyBucketState returns the state of a key never seen: an empty bucket.
func newLeakyBucketState(now int64) leakyBucketState {
	return leakyBucketState{last: now}
}

// decide decides a request of cost units at now (cost 0: a view) and returns the state after it.
func (s leakyBucketState) decide(r *compiledRule, cost, now int64) (verdict, leakyBucketState) {
	full := mul64(uint64(r.capacity), uint64(r.window))
	t := max(now, s.last)
	if t > s.last {
		leaked := mul64(uint64(t-s.last), uint64(r.limit))
		if s.level.less(leaked) {
			s.level = u128{}
		} else {
			s.level = s.level.sub(leaked)
		}
		s.last = t
	}
	var v verdict
	if cost <= r.capacity {
		after := s.level.add(mul64(uint64(cost), uint64(r.window)))
		if !full.less(after) {
			s.level = after
			v.allowed = true
		} else {
			v.retryAfter = t + after.sub(full).ceilDiv(uint64(r.limit)) - now
		}
	}
	v.remaining = clamp(full.sub(s.level).floorDiv(uint64(r.window)), r.capacity)
	v.reset = t + s.level.ceilDiv(uint64(r.limit))
	return v, s
}
