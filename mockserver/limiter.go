package mockserver

import (
	"context"
	"time"
)

// Algorithm names, as ALGORITHMS.md defines them. Flags, config files, metrics labels and docs use these
// exact strings.
const (
	FixedWindow          = "fixed-window"
	SlidingWindowLog     = "sliding-window-log"
	SlidingWindowCounter = "sliding-window-counter"
	TokenBucket          = "token-bucket"
	LeakyBucket          = "leaky-bucket"
	LeakyBucketQueue     = "leaky-bucket-queue"
	GCRA                 = "gcra"
	Concurrency          = "concurrency"
)

// Policy is a quota: Limit units per Window, with bursts of up to Burst units (0 means Burst = Limit).
// For the concurrency algorithm, Limit is the number of requests in flight and Window is unused.
type Policy struct {
	Limit  int64
	Window time.Duration
	Burst  int64
}

// Decision is the answer of a limiter to one request.
type Decision struct {
	// Allowed reports whether the request passes.
	Allowed bool
	// Limit is the policy's limit (L).
	Limit int64
	// Remaining is the number of units left after this decision, floored and clamped to [0, capacity].
	Remaining int64
	// Reset is when the quota is fully restored, or when the current window ends.
	Reset time.Time
	// RetryAfter is, for a rejection, the shortest wait after which the same request would pass if nothing
	// else arrived; 0 when allowed, and 0 for a request that can never pass (cost above capacity).
	RetryAfter time.Duration
	// Delay is how long the leaky-bucket-queue holds an allowed request before serving it; 0 otherwise.
	Delay time.Duration
}

// Limiter decides whether a request of cost units for key passes at now. Implementations are pure functions
// of their state and the arguments: they never read the clock. They are safe for concurrent use.
type Limiter interface {
	Allow(key string, cost int64, now time.Time) Decision
}

// Releaser is implemented by the Limiter that NewLimiter returns for the concurrency algorithm. Release gives
// back the cost units an allowed request for key held, once its response has been written or the client went
// away (a cost below 1 counts as 1; releasing more than is held is ignored). A handler calls it exactly once per
// allowed request:
//
//	if r, ok := lim.(mockserver.Releaser); ok && d.Allowed {
//		defer r.Release(key, cost, time.Now())
//	}
type Releaser interface {
	Release(key string, cost int64, now time.Time)
}

// Rule is one policy enforced by one algorithm. A tier is a list of rules that must all pass.
type Rule struct {
	// Name distinguishes this rule's state from other rules on the same key ("minute", "day"). It also names
	// the policy in headers (the ietf dialect's policy name) and in metrics. Names are unique within a tier.
	Name      string
	Algorithm string
	Policy    Policy
	// Dimension is what the rule counts: "requests" (the default when empty), "tokens", ... The handler
	// computes a request's cost in each dimension and passes it with the rule.
	Dimension string
}

// Store holds the state of every key for any set of rules, and decides for all of a request's rules at once.
// The memory store and the Redis store implement it; both pass one shared test suite.
type Store interface {
	// Allow checks a request against every rule for key at now, costs[i] units in rules[i], and commits it
	// to every rule only when all of them allow it (check all, then commit): a rejection consumes nothing
	// anywhere. The decisions, one per rule in order, are appended to dst and returned. When the request is
	// rejected, a rule that would have allowed it reports Allowed true, its unchanged state and no Delay; the
	// request passed only if every decision is Allowed. A cost below 1 counts as 1.
	// An error means the store itself failed (the server then fails open or closed as configured).
	Allow(ctx context.Context, key string, rules []Rule, costs []int64, now time.Time, dst []Decision) ([]Decision, error)
	// Release gives back the units an allowed request holds in its concurrency rules (costs[i] in rules[i]),
	// once its response has been written or the client went away. Rules of other algorithms are ignored, and
	// so is a release of more than is held.
	Release(ctx context.Context, key string, rules []Rule, costs []int64, now time.Time) error
	// Inspect reports every rule's current view of key without changing anything: the decisions a request of
	// cost 1 would get at now.
	Inspect(ctx context.Context, key string, rules []Rule, now time.Time, dst []Decision) ([]Decision, error)
	// Reset forgets the state of key, or of every key when key is "".
	Reset(ctx context.Context, key string) error
	// Len reports how many (rule, key) states the store holds now.
	Len(ctx context.Context) (int, error)
}
