package interop

import (
	"fmt"
	"time"
)

// Policy is the limit every peer of a row is configured at: Limit requests per Window, with a burst of Burst
// for the algorithms that have one (buckets); windowed algorithms allow Limit per Window and ignore Burst.
type Policy struct {
	Name   string
	Limit  int
	Window time.Duration
	Burst  int
}

// The policies of the suite: two per second (the common case of real APIs, where a rounding to the second
// is as long as the behaviour itself) and one per minute.
var (
	PerSecond50 = Policy{Name: "50/s", Limit: 50, Window: time.Second, Burst: 10}
	PerSecond10 = Policy{Name: "10/s", Limit: 10, Window: time.Second, Burst: 10}
	PerMinute   = Policy{Name: "100/min", Limit: 100, Window: time.Minute, Burst: 10}
)

// Policies are the suite's policies, in the order of its tables.
func Policies() []Policy { return []Policy{PerSecond50, PerSecond10, PerMinute} }

// Interval is the time between two requests at the policy's sustained rate.
func (p Policy) Interval() time.Duration { return p.Window / time.Duration(p.Limit) }

func (p Policy) String() string {
	return fmt.Sprintf("%s (%d per %v, burst %d)", p.Name, p.Limit, p.Window, p.Burst)
}

// Algorithm is what a peer's limiter does, as far as the ideal time of a batch is concerned.
type Algorithm string

const (
	// TokenBucket starts full with Burst tokens and refills one every Interval (GCRA is the same schedule):
	// throttled, tollbooth (x/time/rate), redis_rate.
	TokenBucket Algorithm = "token-bucket"
	// LeakyBucketNginx is nginx's limit_req with burst=B nodelay: B+1 requests pass at once (the first
	// request has no excess, then B more of excess), then one every Interval.
	LeakyBucketNginx Algorithm = "nginx-nodelay"
	// LeakyQueueNginx is limit_req without nodelay: the excess is queued and served one every Interval.
	LeakyQueueNginx Algorithm = "nginx-delay"
	// FixedWindowFirstRequest allows Limit per Window, windows starting at the key's first request (and
	// then at the first request after a window ended): ulule/limiter, sethvargo/go-limiter,
	// express-rate-limit, @fastify/rate-limit's LocalStore, Flask-Limiter's fixed-window.
	FixedWindowFirstRequest Algorithm = "fixed-window"
	// SlidingWindowCounter counts the current window plus the previous one weighted by the share of it
	// still inside the sliding window; windows start at the limiter's creation: go-chi/httprate.
	SlidingWindowCounter Algorithm = "sliding-window-counter"
	// FreqCtrHAProxy is HAProxy's freq_ctr behind `sc_http_req_rate(0) gt Limit`: a sliding-window
	// counter, curr + floor(prev*remain/W) with remain the milliseconds left in the current period,
	// counting the request being decided (it is tracked before the deny) and so every refused request
	// too; periods start at the key's first request (re-anchored after two idle periods).
	FreqCtrHAProxy Algorithm = "haproxy-freq-ctr"
	// SlidingLog keeps the time of every accepted request and admits one when fewer than Limit of them are
	// less than a Window old (rejected requests are not logged): Flask-Limiter's moving-window.
	SlidingLog Algorithm = "sliding-log"
)

// Ideal is how long after the batch's first request the n-th one is served, for a client that knows the
// algorithm and the policy exactly and sends each request at the first instant the server takes it, with no
// network latency, against a fresh limiter (created at the batch's start).
func (a Algorithm) Ideal(p Policy, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	T := p.Interval()
	W := p.Window
	switch a {
	case TokenBucket:
		// Burst requests at 0, then the k-th one beyond at k*T: the last, k = n-Burst, at (n-Burst)*T.
		return time.Duration(max(n-p.Burst, 0)) * T
	case LeakyBucketNginx:
		// Burst+1 at 0, then one every T.
		return time.Duration(max(n-p.Burst-1, 0)) * T
	case LeakyQueueNginx:
		// The i-th request (0-based) leaves the queue at i*T.
		return time.Duration(n-1) * T
	case FixedWindowFirstRequest:
		// Request i (0-based) is in window i/Limit, which opens at (i/Limit)*W.
		return time.Duration((n-1)/p.Limit) * W
	case SlidingLog:
		// Request i (0-based) needs request i-Limit to have left the log: it is served a Window after that
		// one (limits admits once the Limit-th newest entry is more than a Window old; the ideal is the
		// instant it leaves). The first Limit are served at 0, so by induction request i at (i/Limit)*W:
		// the same schedule as a fixed window opened at the first request, though no window restarts; a
		// client that spreads requests gains nothing, since each slot frees a Window after it was taken.
		return time.Duration((n-1)/p.Limit) * W
	case SlidingWindowCounter:
		// httprate admits while round(prev*(W-d)/W + curr) + 1 <= Limit, d the time into the current window.
		// Window 0 has no previous count: Limit requests at 0. In every later window m (prev = Limit, the
		// previous one filled) the j-th request (1-based) needs round(j-1 - Limit*d/W) <= -1, that is
		// j-1 - Limit*d/W <= -0.5 (math.Round rounds half away from zero): d >= (j-0.5)*W/Limit. So request i
		// (0-based) >= Limit, with k = i-Limit, is served at (k/Limit+1)*W + (k%Limit+0.5)*W/Limit.
		m, j, later := laterWindowSlot(p, n)
		if !later {
			return 0
		}
		return time.Duration(m)*W + time.Duration((float64(j)-0.5)*float64(W)/float64(p.Limit))
	case FreqCtrHAProxy:
		// HAProxy 2.6 (include/haproxy/freq_ctr.h, src/freq_ctr.c), in its millisecond clock now: track-sc0
		// first counts the request (update_freq_ctr_period: if now-tick >= W the period turns, prev = curr,
		// curr = 1, tick += W; a fresh entry, or one idle for two periods, gets prev = 0 and tick = now&^1,
		// the lowest bit being a lock), then the deny reads curr + floor(prev*remain/W), remain = tick+W-now
		// in [1, W] ms, and refuses when that is above Limit. Period 0 has prev = 0: Limit requests pass at
		// the first request's millisecond. A client that knows the policy sends no refused request (those
		// count), so every later period m starts with prev = Limit, and its j-th request (1-based) at d ms
		// into the period passes iff j + floor(Limit*(W-d)/W) <= Limit, that is Limit*(W-d) < (Limit-j+1)*W,
		// d > (j-1)*W/Limit: from the first whole millisecond after (j-1)*T (j = Limit at 981 ms of a 1 s
		// period at 50/s, within the period, so each period holds Limit and prev stays Limit). The tick is
		// the first request's millisecond with its low bit cleared, so periods start 0 or 1 ms before the
		// batch's first request: the earlier of the two, period m at m*W - 1ms, serves request i (0-based)
		// >= Limit, k = i-Limit, m = k/Limit+1, j = k%Limit+1, at m*W + (j-1)*T truncated to the millisecond.
		m, j, later := laterWindowSlot(p, n)
		if !later {
			return 0
		}
		return time.Duration(m)*W + (time.Duration(j-1) * W / time.Duration(p.Limit)).Truncate(time.Millisecond)
	}
	panic(fmt.Sprintf("interop: unknown algorithm %q", a))
}

// laterWindowSlot places the n-th request of a batch against a sliding counter whose first window passes
// Limit at once and every later one Limit: request i = n-1 (0-based) >= Limit, k = i-Limit, is the j-th
// (1-based, j = k%Limit+1) of window m = k/Limit+1. later is false for the first window's requests.
func laterWindowSlot(p Policy, n int) (m, j int, later bool) {
	i := n - 1
	if i < p.Limit {
		return 0, 0, false
	}
	k := i - p.Limit
	return k/p.Limit + 1, k%p.Limit + 1, true
}
