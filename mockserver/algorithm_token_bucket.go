package mockserver

// tokenBucketState is the token-bucket algorithm's state for one key: the tokens in the bucket when it was last
// refilled, at last.
//
// Arithmetic: tokens are kept exactly, in units of 1/W of a token (a 128-bit integer A = tokens * W, W in ns),
// so that refilling for d ns adds exactly d * L units and one token is W units. With C = B * W:
//
//	t = max(now, last)                         (time never runs backwards for a key)
//	A = min(C, A + (t - last) * L); last = t   (refill)
//	allow iff c <= B and A >= c * W; then A -= c * W
//	Remaining  = floor(A / W)
//	Reset      = t + ceil((C - A) / L)         (when the bucket is full again)
//	RetryAfter = t + ceil((c * W - A) / L) - now for a rejection with c <= B; 0 when c > B
//
// A new key starts full (A = C). These are the decisions of golang.org/x/time/rate's AllowN with burst B, which
// computes the same in float64 seconds (and may therefore admit up to about 1 ns early).
//
// A Lua port can keep the same integers with times in µs (A = tokens * W_µs; a refill adds elapsed_µs * L):
// float64 holds them exactly while B * W_µs and elapsed_µs * L stay below 2^53, and when W / L is a whole number
// of µs and the instants are whole µs, every result is a whole number of µs, so it decides exactly as this core.
// A port that keeps tokens as a float64 count may differ within 1 µs of a refill instant (ALGORITHMS.md allows
// it).
type tokenBucketState struct {
	tokens u128 // in 1/W of a token
	last   int64
}

// newTokenBucketState returns the state of a key never seen: a full bucket.
func newTokenBucketState(r *compiledRule, now int64) tokenBucketState {
	return tokenBucketState{tokens: mul64(uint64(r.capacity), uint64(r.window)), last: now}
}

// decide decides a request of cost units at now (cost 0: a view) and returns the state after it.
func (s tokenBucketState) decide(r *compiledRule, cost, now int64) (verdict, tokenBucketState) {
	full := mul64(uint64(r.capacity), uint64(r.window))
	t := max(now, s.last)
	if t > s.last {
		s.tokens = s.tokens.add(mul64(uint64(t-s.last), uint64(r.limit)))
		if full.less(s.tokens) {
			s.tokens = full
		}
		s.last = t
	}
	var v verdict
	if cost <= r.capacity {
		need := mul64(uint64(cost), uint64(r.window))
		if !s.tokens.less(need) {
			s.tokens = s.tokens.sub(need)
			v.allowed = true
		} else {
			v.retryAfter = t + need.sub(s.tokens).ceilDiv(uint64(r.limit)) - now
		}
	}
	v.remaining = clamp(s.tokens.floorDiv(uint64(r.window)), r.capacity)
	v.reset = t + full.sub(s.tokens).ceilDiv(uint64(r.limit))
	return v, s
}
