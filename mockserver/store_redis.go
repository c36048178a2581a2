package mockserver

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ratekit/ratekit/internal/redistag"
)

// The Redis store's script decides, releases and inspects every algorithm in one atomic evaluation. It is kept
// in three files, one concept each, joined in this order by redisScripts.source, which keeps of the algorithms
// file only the sections a decision's rules use.
var (
	//go:embed store_redis.lua
	redisScriptPrelude string
	//go:embed store_redis_algorithms.lua
	redisScriptAlgorithms string
	//go:embed store_redis_main.lua
	redisScriptMain string
)

// Defaults of the Redis store's options.
const (
	// DefaultRedisKeyPrefix starts the name of every key a RedisStore writes.
	DefaultRedisKeyPrefix = "ratemock:"
	// DefaultRedisTimeout bounds each call of a RedisStore to Redis.
	DefaultRedisTimeout = time.Second
	// DefaultRedisLeaseTimeout is how long a concurrency slot stays taken when its release never comes.
	DefaultRedisLeaseTimeout = time.Minute
	// DefaultRedisExpiryMargin is added to every key's TTL.
	DefaultRedisExpiryMargin = time.Second
)

// RedisStore is a Store that keeps every state in Redis, so that several mock servers can share one quota. It
// is safe for concurrent use, and decides exactly as the MemoryStore (see "Arithmetic" below).
//
// Every decision is one round trip: a Lua script (EVALSHA, or EVAL when Redis does not have it cached yet)
// reads the state of each of the request's rules, decides them all, and writes only when all of them allow the
// request (check all, then commit). Redis runs a script atomically, so servers sharing a key never interleave.
//
// Keys: each (client key, rule) is one Redis key, named
//
//	<prefix>{<client key>}:<rule name>:<algorithm>
//
// The braces are a Redis Cluster hash tag: all of a client key's rules live in one hash slot, so the store works
// on a cluster. In the client key, "%" is written "%25" and "}" "%7D" (so that the tag always ends where the
// store put its brace), and the empty key is written "%". The algorithm is part of the name, so that a rule
// whose algorithm changes starts fresh, as in the MemoryStore.
//
// Data per algorithm: fixed-window is a hash {s: window start, n: count} incremented with HINCRBY;
// sliding-window-counter a hash {s, p: previous count, c: current count}; sliding-window-log a sorted set of
// "µs:cost" members scored by the µs (ZREMRANGEBYSCORE drops the expired, ZADD appends); token-bucket and
// leaky-bucket a hash {a: tokens or level times W in µs, t: last refill}; gcra a single string holding the TAT,
// and leaky-bucket-queue one holding the next free slot ("µs frac", exact to 1/L µs); concurrency a sorted set of
// leases (see below).
//
// Expiry: every write sets the key's TTL to the time until its state equals a fresh one (window over, bucket
// full, log empty, last lease expired), plus a margin (WithRedisExpiryMargin, default 1 s) for clock
// differences between the mock servers that pass now and Redis, whose clock counts TTLs. So idle keys expire
// on their own; no key lives longer than its longest window (2 W for the sliding-window-counter, the refill
// time B * W / L for the buckets) plus the margin.
//
// Concurrency leases: an allowed request takes a lease of cost units in each concurrency rule, scored by the
// instant it expires, now + the lease timeout (WithRedisLeaseTimeout, default 1 minute). Release gives back
// this store's own leases for the key, oldest first, so a server that crashed never has its slots released
// by another server: they expire after the lease timeout. Choose a timeout longer than any request may take
// (including delays the handler adds): a lease that expires frees its slot while the request still runs.
//
// Time: decisions use the now passed in, as every Store does. WithRedisServerTime makes the script read
// Redis's clock (TIME) instead, for servers whose clocks cannot be trusted to agree; the Decision's Reset,
// RetryAfter and Delay are then durations measured on Redis's clock, added to the caller's now.
//
// Arithmetic: the script computes in whole µs with the same exact integers as the pure cores (Lua numbers are
// float64, exact below 2^53), and the sliding-window-counter's estimate with the same float64 operations in
// ns. On a µs grid (as time.Now() is not: the store floors now to the µs) and with W / L a whole number of µs,
// every decision equals the MemoryStore's; otherwise Reset, RetryAfter and Delay may differ by less than 1 µs,
// as ALGORITHMS.md allows. Products such as B * W in µs beyond 2^53 (a burst of 100,000 per day) are rounded
// to float64, still far below 1 µs. Windows must be a whole number of µs.
//
// Errors from Redis (unreachable, timed out) are returned: the Handler then fails open or closed as
// configured. Each call to Redis is bounded by WithRedisTimeout (default 1 s) as well as by the caller's
// context; for the deadline to cut a read from a server that hangs, build the client with
// ContextTimeoutEnabled (otherwise its ReadTimeout applies).
//
// Late decisions: Allow passes its deadline into the script, which compares it with Redis's clock (TIME) before
// reading anything; a decision that reaches Redis after it (queued behind a stalled Redis, a slow network)
// changes nothing and fails with an error wrapping context.DeadlineExceeded, so a request that its server
// served uncounted (fail-open) or refused (fail-closed) never takes quota later. This assumes the clocks of
// the servers and of Redis agree to well within the timeout (NTP does); a reply lost after Redis ran the
// script in time is still counted. A call whose request's context was cancelled (the client went away) is not
// a store failure for the Handler either.
//
// Scripts: each decision runs a script holding only the algorithms of its rules (one per set of algorithms,
// loaded on first use with EVALSHA, falling back to EVAL on NOSCRIPT), so that a decision pays for its own
// algorithms only.
//
// The store does not own the client: close it after the store's last use.
type RedisStore struct {
	client       redis.UniversalClient
	scripts      *redisScripts
	prefix       string
	timeout      time.Duration
	leaseTimeout time.Duration
	margin       time.Duration
	serverTime   bool
	// owner names this store's concurrency leases: "<random id>:".
	owner string
	seq   atomic.Uint64 // numbers the leases
}

var _ Store = (*RedisStore)(nil)

// RedisOption configures a RedisStore (see NewRedisStore).
type RedisOption func(*RedisStore)

// WithRedisKeyPrefix sets the prefix of every key the store writes (default DefaultRedisKeyPrefix,
// "ratemock:"). Stores with different prefixes share a Redis without seeing each other's keys: Len counts and
// Reset("") deletes only the store's own prefix. It may not contain '{' or '}' (they would change the hash tag).
func WithRedisKeyPrefix(prefix string) RedisOption {
	return func(s *RedisStore) { s.prefix = prefix }
}

// WithRedisTimeout bounds every call to Redis (default DefaultRedisTimeout, 1 s): Allow, Release and Inspect
// are one call each; Reset and Len make one call per page of keys. It must be more than 0.
func WithRedisTimeout(d time.Duration) RedisOption {
	return func(s *RedisStore) { s.timeout = d }
}

// WithRedisLeaseTimeout sets how long a concurrency slot stays taken when its release never comes, as when the
// server that took it crashed (default DefaultRedisLeaseTimeout, 1 minute). It must be at least 1 µs.
func WithRedisLeaseTimeout(d time.Duration) RedisOption {
	return func(s *RedisStore) { s.leaseTimeout = d }
}

// WithRedisExpiryMargin sets the time added to every key's TTL beyond the moment its state becomes fresh
// (default DefaultRedisExpiryMargin, 1 s). Make it larger than the clock differences between the servers that
// share the store. It must be 0 or more.
func WithRedisExpiryMargin(d time.Duration) RedisOption {
	return func(s *RedisStore) { s.margin = d }
}

// WithRedisServerTime makes every decision use Redis's clock (the TIME command, read inside the script) instead
// of the now passed in: for servers whose clocks cannot be trusted to agree.
func WithRedisServerTime() RedisOption {
	return func(s *RedisStore) { s.serverTime = true }
}

// NewRedisStore returns a RedisStore that keeps its state in client: a *redis.Client, a *redis.ClusterClient
// (every key of one client key is in one hash slot), a *redis.Ring or a failover client. A nil client or an
// option out of range is an error naming it and the values allowed.
func NewRedisStore(client redis.UniversalClient, opts ...RedisOption) (*RedisStore, error) {
	if client == nil {
		return nil, errors.New("mockserver: NewRedisStore: client is nil: want a Redis client (redis.NewClient)")
	}
	s := &RedisStore{
		client:       client,
		scripts:      newRedisScripts(),
		prefix:       DefaultRedisKeyPrefix,
		timeout:      DefaultRedisTimeout,
		leaseTimeout: DefaultRedisLeaseTimeout,
		margin:       DefaultRedisExpiryMargin,
		owner:        strconv.FormatUint(rand.Uint64(), 36) + ":",
	}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	switch {
	case strings.ContainsAny(s.prefix, "{}"):
		return nil, fmt.Errorf("mockserver: NewRedisStore: key prefix %q: want no '{' or '}' (the store adds the hash tag)", s.prefix)
	case s.timeout <= 0:
		return nil, fmt.Errorf("mockserver: NewRedisStore: timeout %v: want more than 0", s.timeout)
	case s.leaseTimeout < time.Microsecond:
		return nil, fmt.Errorf("mockserver: NewRedisStore: lease timeout %v: want at least 1µs", s.leaseTimeout)
	case s.margin < 0:
		return nil, fmt.Errorf("mockserver: NewRedisStore: expiry margin %v: want 0 or more", s.margin)
	}
	return s, nil
}

// Script operations (ARGV[1]).
const (
	redisOpAllow   = "allow"
	redisOpInspect = "inspect"
	redisOpRelease = "release"
)

// redisAlgorithmName names alg for the script and in key names (the names of ALGORITHMS.md).
func redisAlgorithmName(alg algorithmID) string {
	switch alg {
	case algFixedWindow:
		return FixedWindow
	case algSlidingWindowLog:
		return SlidingWindowLog
	case algSlidingWindowCounter:
		return SlidingWindowCounter
	case algTokenBucket:
		return TokenBucket
	case algLeakyBucket:
		return LeakyBucket
	case algLeakyBucketQueue:
		return LeakyBucketQueue
	case algGCRA:
		return GCRA
	case algConcurrency:
		return Concurrency
	}
	return ""
}

// redisExpiredReply starts the script's error for a decision that reached Redis after its deadline.
const redisExpiredReply = "EXPIRED"

// redisReplyWidth is the number of integers the script returns per rule.
const redisReplyWidth = 6

// Allow checks a request against every rule for key at now and commits it to every rule only when all of them
// allow it, in one script evaluation (see Store.Allow). Invalid rules, a Window that is not a whole number of
// µs, and costs without one cost per rule are errors, as is any failure of Redis; no decision is appended then.
func (s *RedisStore) Allow(ctx context.Context, key string, rules []Rule, costs []int64, now time.Time, dst []Decision) ([]Decision, error) {
	var buf [4]compiledRule
	compiled, err := compileRedisRules(buf[:0], rules)
	if err != nil {
		return dst, err
	}
	if len(costs) != len(rules) {
		return dst, fmt.Errorf("mockserver: %d rules but %d costs: want one cost per rule", len(rules), len(costs))
	}
	lease := s.owner + strconv.FormatUint(s.seq.Add(1), 10)
	reply, err := s.run(ctx, redisOpAllow, key, compiled, costs, lease, now)
	if err != nil {
		return dst, err
	}
	return s.appendDecisions(dst, compiled, reply, now), nil
}

// Release gives back this store's concurrency leases for key (costs[i] units in rules[i], oldest leases first).
// Rules of other algorithms are ignored, and so is a release of more than the store holds; without a
// concurrency rule it does not call Redis at all.
func (s *RedisStore) Release(ctx context.Context, key string, rules []Rule, costs []int64, now time.Time) error {
	var buf [4]compiledRule
	compiled, err := compileRedisRules(buf[:0], rules)
	if err != nil {
		return err
	}
	if len(costs) != len(rules) {
		return fmt.Errorf("mockserver: %d rules but %d costs: want one cost per rule", len(rules), len(costs))
	}
	var (
		cbuf     [4]compiledRule
		costBuf  [4]int64
		held     = cbuf[:0]
		heldCost = costBuf[:0]
	)
	for i := range compiled {
		if compiled[i].alg == algConcurrency {
			held = append(held, compiled[i])
			heldCost = append(heldCost, costs[i])
		}
	}
	if len(held) == 0 {
		return nil
	}
	_, err = s.run(ctx, redisOpRelease, key, held, heldCost, s.owner, now)
	return err
}

// Inspect reports the decisions a request of cost 1 would get from every rule for key at now, changing nothing.
func (s *RedisStore) Inspect(ctx context.Context, key string, rules []Rule, now time.Time, dst []Decision) ([]Decision, error) {
	var buf [4]compiledRule
	compiled, err := compileRedisRules(buf[:0], rules)
	if err != nil {
		return dst, err
	}
	reply, err := s.run(ctx, redisOpInspect, key, compiled, nil, "", now)
	if err != nil {
		return dst, err
	}
	return s.appendDecisions(dst, compiled, reply, now), nil
}

// compileRedisRules compiles rules as the MemoryStore does, and checks that every window is a whole number of
// µs (the script's unit of time).
func compileRedisRules(dst []compiledRule, rules []Rule) ([]compiledRule, error) {
	dst, err := compileRules(dst, rules)
	if err != nil {
		return dst, err
	}
	for i := range dst {
		if w := dst[i].window; w%int64(time.Microsecond) != 0 {
			return dst, fmt.Errorf("mockserver: rule %q: %s policy: window %v: the Redis store wants a whole number of microseconds",
				dst[i].name, rules[i].Algorithm, time.Duration(w))
		}
		if o := dst[i].offset; o%int64(time.Microsecond) != 0 {
			return dst, fmt.Errorf("mockserver: rule %q: %s: anchor offset %v: the Redis store wants a whole number of microseconds",
				dst[i].name, rules[i].Algorithm, time.Duration(o))
		}
	}
	return dst, nil
}

// run evaluates the script for rules (costs nil: cost 1 each) and returns its reply.
func (s *RedisStore) run(ctx context.Context, op, key string, rules []compiledRule, costs []int64, owner string, now time.Time) ([]int64, error) {
	if len(rules) == 0 {
		return nil, nil // nothing to decide: no round trip
	}
	keys := make([]string, len(rules))
	tag := s.tag(key)
	for i := range rules {
		keys[i] = tag + rules[i].name + ":" + redisAlgorithmName(rules[i].alg)
	}
	args := make([]any, 0, 7+8*len(rules))
	nowArg, subNs := "", int64(0)
	if !s.serverTime {
		nowArg = strconv.FormatInt(now.UnixMicro(), 10)
		subNs = int64(now.Nanosecond() % 1000)
	}
	// The call's deadline, for the script to compare with Redis's clock: a decision that reaches Redis after
	// its caller gave up on it (a queue in the client's pool, a slow network, a Redis that stalled) must not
	// take quota for a request that was served uncounted, or refused.
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	deadline := ""
	if d, ok := ctx.Deadline(); ok && op == redisOpAllow {
		deadline = strconv.FormatInt(d.UnixMicro(), 10)
	}
	args = append(args, op, nowArg, subNs, owner, s.leaseTimeout.Microseconds(), s.margin.Microseconds(), deadline)
	for i := range rules {
		r := &rules[i]
		cost := int64(1)
		if costs != nil {
			cost = clampCost(costs[i])
		}
		first, flags := "0", 0
		if r.firstRequest {
			first = "1"
		}
		if r.countRejected {
			flags |= 1
		}
		if r.roundEstimate {
			flags |= 2
		}
		args = append(args, redisAlgorithmName(r.alg), r.limit, r.window/int64(time.Microsecond), r.capacity, cost,
			first, r.offset/int64(time.Microsecond), flags)
	}
	reply, err := s.scripts.forRules(rules).Run(ctx, s.client, keys, args...).Int64Slice()
	if err != nil {
		if strings.HasPrefix(err.Error(), redisExpiredReply) {
			err = fmt.Errorf("%w: the call reached Redis after its deadline, and counted nothing", context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("mockserver: redis store: %s %q: %w", op, key, err)
	}
	if op != redisOpRelease && len(reply) != redisReplyWidth*len(rules) {
		return nil, fmt.Errorf("mockserver: redis store: %s %q: the script returned %d integers for %d rules, want %d",
			op, key, len(reply), len(rules), redisReplyWidth*len(rules))
	}
	return reply, nil
}

// appendDecisions converts the script's reply into Decisions relative to now. The script's times are relative
// to now floored to the µs; the ns beyond it are subtracted here, and Reset is never before now.
func (s *RedisStore) appendDecisions(dst []Decision, rules []compiledRule, reply []int64, now time.Time) []Decision {
	sub := int64(0)
	if !s.serverTime {
		sub = int64(now.Nanosecond() % 1000)
	}
	for i := range rules {
		v := reply[redisReplyWidth*i : redisReplyWidth*(i+1)]
		d := Decision{
			Allowed:   v[0] == 1,
			Limit:     rules[i].limit,
			Remaining: v[1],
			Reset:     now.Add(time.Duration(v[2]*1000 - sub)),
		}
		if d.Reset.Before(now) {
			d.Reset = now
		}
		if v[3] != 0 || v[4] != 0 {
			d.RetryAfter = max(time.Duration(v[3]*1000+v[4]-sub), 1)
		}
		if v[5] != 0 {
			d.Delay = max(time.Duration(v[5]*1000-sub), 0)
		}
		dst = append(dst, d)
	}
	return dst
}

// tag returns the start of the names of key's states: the prefix and the hash tag, "<prefix>{<key>}:".
func (s *RedisStore) tag(key string) string {
	return s.prefix + "{" + redistag.Escape(key) + "}:"
}
