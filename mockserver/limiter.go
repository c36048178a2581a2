package mockserver

import (
	"context"
	"time"
)

// Algorithm names, as docs/ALGORITHMS.md defines them. Flags, config files, metrics labels and docs use these
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

	// Anchor says where the windows of fixed-window and sliding-window-counter start: AnchorEpoch (aligned
	// to the Unix epoch, shifted by AnchorOffset), AnchorFirstRequest (fixed-window only: a window starts at
	// the key's first request after the previous window ended, as ulule/limiter's memory store does), or
	// AnchorStart (NewHandler only: aligned to the instant the Handler was built, shifted by AnchorOffset, as
	// go-chi/httprate aligns to its limiter's creation; a Store given AnchorStart returns an error).
	// "": AnchorEpoch. The other algorithms have no windows and take only "".
	Anchor string
	// AnchorOffset shifts the windows of AnchorEpoch and AnchorStart: they start at anchor + AnchorOffset +
	// k * Window. It may be negative or longer than the window (only its remainder modulo Window counts).
	// The Redis store wants a whole number of µs.
	AnchorOffset time.Duration
	// CountRejected makes rejected requests count against a fixed-window or sliding-window-counter rule,
	// as some servers do (ulule/limiter counts every request it sees): such a rule takes the request's cost
	// whether the request passed or not, so an early retry delays the key further. false: a rejection
	// consumes nothing. Other algorithms take only false.
	CountRejected bool
	// RoundEstimate makes a sliding-window-counter rule round its weighted estimate to the nearest unit
	// (half away from zero) before comparing it with the limit and before reporting Remaining, as
	// go-chi/httprate does: a request of cost c passes iff round(estimate) + c <= Limit, and Remaining is
	// Limit - round(estimate after the decision). false: the exact estimate. Other algorithms take only
	// false.
	RoundEstimate bool

	// Routes limit the rule to the requests that match one of these Config.Routes patterns, or "other" for
	// the requests that match none (as GitHub counts /search against its search quota, /graphql against
	// graphql and the rest against core): other requests are neither counted by the rule nor told about it.
	// nil: every request. A Handler reads it; a Store is given only the rules of a request's route.
	Routes []string
	// Secondary makes the rule a secondary limit, as GitHub's are: it limits like any rule, but the
	// dialect's headers report the tier's other rules (so a request it rejects may show remaining > 0).
	// A Handler reads it; a Store ignores it.
	Secondary bool
}

// Window anchors (Rule.Anchor).
const (
	// AnchorEpoch aligns windows to the Unix epoch, plus Rule.AnchorOffset.
	AnchorEpoch = "epoch"
	// AnchorFirstRequest starts a key's window at its first request, and the next one at its first request
	// after that window ended (the window includes its last instant, start + Window). fixed-window only.
	AnchorFirstRequest = "first-request"
	// AnchorStart aligns windows to the instant NewHandler built the Handler, plus Rule.AnchorOffset.
	AnchorStart = "start"
)

// Anchors returns the names of every window anchor, in a fixed order.
func Anchors() []string { return []string{AnchorEpoch, AnchorFirstRequest, AnchorStart} }

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
