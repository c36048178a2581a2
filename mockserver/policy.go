package mockserver

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// maxSpan bounds every duration a policy implies (its window, and the time to refill or drain a whole burst),
// so that adding it to any time of this era cannot overflow int64 nanoseconds.
const maxSpan = 100 * 365 * 24 * time.Hour

// Algorithms returns the names of every algorithm NewLimiter and the stores accept, in a stable order
// (the order of ALGORITHMS.md). The caller may modify the returned slice.
func Algorithms() []string {
	return []string{
		FixedWindow, SlidingWindowLog, SlidingWindowCounter, TokenBucket,
		LeakyBucket, LeakyBucketQueue, GCRA, Concurrency,
	}
}

// algorithmID is an algorithm name resolved once, so that deciding never compares strings.
type algorithmID uint8

const (
	algUnknown algorithmID = iota
	algFixedWindow
	algSlidingWindowLog
	algSlidingWindowCounter
	algTokenBucket
	algLeakyBucket
	algLeakyBucketQueue
	algGCRA
	algConcurrency
)

// parseAlgorithm resolves an algorithm name; it returns algUnknown for a name it does not know.
func parseAlgorithm(name string) algorithmID {
	switch name {
	case FixedWindow:
		return algFixedWindow
	case SlidingWindowLog:
		return algSlidingWindowLog
	case SlidingWindowCounter:
		return algSlidingWindowCounter
	case TokenBucket:
		return algTokenBucket
	case LeakyBucket:
		return algLeakyBucket
	case LeakyBucketQueue:
		return algLeakyBucketQueue
	case GCRA:
		return algGCRA
	case Concurrency:
		return algConcurrency
	}
	return algUnknown
}

// hasBurst reports whether the algorithm uses Policy.Burst.
func (a algorithmID) hasBurst() bool {
	return a == algTokenBucket || a == algLeakyBucket || a == algLeakyBucketQueue || a == algGCRA
}

// burstAlgorithms lists the algorithms that use Policy.Burst, for error messages.
const burstAlgorithms = "token-bucket, leaky-bucket, leaky-bucket-queue, gcra"

// Validate reports whether algorithm is a known name and p a policy it can enforce. The error names the
// field at fault and the values allowed:
//
//   - algorithm: one of Algorithms()
//   - Limit: at least 1 and at most 999,999,999,999,999 (15 digits, the largest RFC 9651 integer)
//   - Window: more than 0 and at most 100 years (for concurrency, which does not use it: 0 or more)
//   - Burst: 0 (meaning Limit) up to 999,999,999,999,999, and only for token-bucket, leaky-bucket, leaky-bucket-queue and gcra;
//     refilling a whole burst (Burst * Window / Limit) must take at most 100 years
func (p Policy) Validate(algorithm string) error {
	_, err := compileRule(Rule{Algorithm: algorithm, Policy: p})
	if err != nil {
		return fmt.Errorf("mockserver: %w", err)
	}
	return nil
}

// Capacity returns the largest cost a single request can have and still pass under algorithm: the burst
// (Burst, or Limit when Burst is 0) for the bucket algorithms and gcra, Limit for the others. It returns 0 for
// an unknown algorithm.
func (p Policy) Capacity(algorithm string) int64 {
	alg := parseAlgorithm(algorithm)
	switch {
	case alg == algUnknown:
		return 0
	case alg.hasBurst() && p.Burst > 0:
		return p.Burst
	}
	return p.Limit
}

// CanNeverPass reports whether a request of cost units can never pass algorithm with policy p, however long it
// waits: its cost exceeds the capacity. Such a request is rejected with RetryAfter 0; a handler uses this to
// say why in the 429 body and to send no Retry-After. A cost below 1 counts as 1.
func CanNeverPass(algorithm string, p Policy, cost int64) bool {
	return max(cost, 1) > p.Capacity(algorithm)
}

// CanNeverPass reports whether a request of cost units can never pass this rule (see the function
// CanNeverPass).
func (r Rule) CanNeverPass(cost int64) bool {
	return CanNeverPass(r.Algorithm, r.Policy, cost)
}

// compiledRule is a Rule checked and resolved for deciding: the algorithm as an ID, the window in ns, and the
// burst resolved to the capacity.
type compiledRule struct {
	name     string
	alg      algorithmID
	limit    int64 // L
	window   int64 // W in ns; 0 for concurrency
	capacity int64 // B for the bucket algorithms and gcra (Burst, or L when Burst is 0); L for the others
	// burstTime is B * W / L, the time to refill (or drain) a whole burst; set for gcra and leaky-bucket-queue.
	burstTime fracTime
	// firstRequest: fixed-window windows start at the key's first request after the previous one ended.
	firstRequest bool
	// offset is Rule.AnchorOffset modulo W, in [0, W): windows start at offset + k * W (Unix ns).
	offset        int64
	countRejected bool
	roundEstimate bool
}

// windowStart returns the start of the grid window (offset + k * W) that holds now.
func (c *compiledRule) windowStart(now int64) int64 {
	return floorDiv(now-c.offset, c.window)*c.window + c.offset
}

// maxStructuredInteger is the largest integer of an RFC 9651 structured field (section 3.3.1: at most 15
// digits). Limits and bursts above it could not be written in the ietf dialect's RateLimit-Policy.
const maxStructuredInteger = 999_999_999_999_999

// compileRule checks r and resolves it. Its errors have no package prefix: callers add their context.
func compileRule(r Rule) (compiledRule, error) {
	alg := parseAlgorithm(r.Algorithm)
	if alg == algUnknown {
		return compiledRule{}, fmt.Errorf("unknown algorithm %q: want one of %s",
			r.Algorithm, strings.Join(Algorithms(), ", "))
	}
	p := r.Policy
	if p.Limit < 1 {
		return compiledRule{}, fmt.Errorf("%s policy: limit %d: want limit >= 1", r.Algorithm, p.Limit)
	}
	switch {
	case p.Limit > maxStructuredInteger:
		return compiledRule{}, fmt.Errorf("%s policy: limit %d: want limit <= %d (headers write it as an RFC 9651 integer, at most 15 digits)",
			r.Algorithm, p.Limit, int64(maxStructuredInteger))
	case p.Burst > maxStructuredInteger:
		return compiledRule{}, fmt.Errorf("%s policy: burst %d: want burst <= %d (headers write it as an RFC 9651 integer, at most 15 digits)",
			r.Algorithm, p.Burst, int64(maxStructuredInteger))
	case alg == algConcurrency && p.Window < 0:
		return compiledRule{}, fmt.Errorf("%s policy: window %v: want window >= 0 (concurrency does not use it)",
			r.Algorithm, p.Window)
	case alg != algConcurrency && p.Window <= 0:
		return compiledRule{}, fmt.Errorf("%s policy: window %v: want window > 0", r.Algorithm, p.Window)
	case p.Window > maxSpan:
		return compiledRule{}, fmt.Errorf("%s policy: window %v: want window <= %v (100 years)",
			r.Algorithm, p.Window, maxSpan)
	case p.Burst < 0:
		return compiledRule{}, fmt.Errorf("%s policy: burst %d: want burst >= 0 (0 means burst = limit)",
			r.Algorithm, p.Burst)
	case p.Burst != 0 && !alg.hasBurst():
		return compiledRule{}, fmt.Errorf("%s policy: burst %d: want 0 (%s has no burst; burst applies to %s)",
			r.Algorithm, p.Burst, r.Algorithm, burstAlgorithms)
	}
	c := compiledRule{
		name:     r.Name,
		alg:      alg,
		limit:    p.Limit,
		window:   int64(p.Window),
		capacity: p.Capacity(r.Algorithm),
	}
	if alg.hasBurst() {
		refill := mul64(uint64(c.capacity), uint64(c.window)).ceilDiv(uint64(c.limit))
		if refill > int64(maxSpan) {
			return compiledRule{}, fmt.Errorf("%s policy: burst %d at limit %d per window %v takes %.0f years to refill: "+
				"want burst * window / limit <= 100 years", r.Algorithm, c.capacity, p.Limit, p.Window,
				float64(c.capacity)*float64(c.window)/float64(c.limit)/float64(365*24*time.Hour))
		}
		c.burstTime = emissionTime(c.capacity, c.window, c.limit)
	}
	if err := c.compileWindowOptions(r); err != nil {
		return compiledRule{}, err
	}
	return c, nil
}

// compileWindowOptions checks and resolves Anchor, AnchorOffset, CountRejected and RoundEstimate.
func (c *compiledRule) compileWindowOptions(r Rule) error {
	windowed := c.alg == algFixedWindow || c.alg == algSlidingWindowCounter
	switch r.Anchor {
	case "", AnchorEpoch:
	case AnchorFirstRequest:
		if c.alg != algFixedWindow {
			return fmt.Errorf("%s: anchor %q: want %q (first-request applies to fixed-window only)",
				r.Algorithm, r.Anchor, AnchorEpoch)
		}
		c.firstRequest = true
	case AnchorStart:
		return fmt.Errorf("%s: anchor %q: NewHandler resolves it; a Store wants %s or %s",
			r.Algorithm, r.Anchor, AnchorEpoch, AnchorFirstRequest)
	default:
		return fmt.Errorf("%s: unknown anchor %q: want one of %s", r.Algorithm, r.Anchor, strings.Join(Anchors(), ", "))
	}
	if !windowed && (r.Anchor != "" || r.AnchorOffset != 0) {
		return fmt.Errorf("%s: anchor %q, offset %v: want none (anchors apply to fixed-window and sliding-window-counter)",
			r.Algorithm, r.Anchor, r.AnchorOffset)
	}
	if r.AnchorOffset != 0 && c.firstRequest {
		return fmt.Errorf("%s: anchor offset %v: want 0 with anchor %q", r.Algorithm, r.AnchorOffset, AnchorFirstRequest)
	}
	if windowed {
		c.offset = int64(r.AnchorOffset) % c.window
		if c.offset < 0 {
			c.offset += c.window
		}
	}
	if r.CountRejected && !windowed {
		return fmt.Errorf("%s: count rejected: want false (it applies to fixed-window and sliding-window-counter)", r.Algorithm)
	}
	if r.RoundEstimate && c.alg != algSlidingWindowCounter {
		return fmt.Errorf("%s: round estimate: want false (it applies to sliding-window-counter)", r.Algorithm)
	}
	c.countRejected, c.roundEstimate = r.CountRejected, r.RoundEstimate
	return nil
}

// clampCost applies the rule of ALGORITHMS.md that a cost is at least 1.
func clampCost(cost int64) int64 {
	return max(cost, 1)
}

// noIdle is the idle time of a state that never becomes fresh by itself (requests in flight).
const noIdle = math.MaxInt64
