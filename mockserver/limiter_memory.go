package mockserver

import (
	"fmt"
	"time"
)

// NewLimiter returns a Limiter that enforces policy p for every key with algorithm, one of Algorithms(), as
// ALGORITHMS.md defines it. Its state lives in a private MemoryStore: it is safe for concurrent use, and memory
// follows the active keys. It never reads the clock: every decision is a pure function of the earlier calls and
// the now passed in. A cost below 1 counts as 1.
//
// The Limiter for the concurrency algorithm also implements Releaser; the others do not.
//
// An unknown algorithm or a policy the algorithm cannot enforce is an error naming the field and the values
// allowed (see Policy.Validate).
func NewLimiter(algorithm string, p Policy) (Limiter, error) {
	r, err := compileRule(Rule{Algorithm: algorithm, Policy: p})
	if err != nil {
		return nil, fmt.Errorf("mockserver: %w", err)
	}
	l := &memoryLimiter{store: NewMemoryStore(), rule: [1]compiledRule{r}}
	if r.alg == algConcurrency {
		return &concurrencyLimiter{l}, nil
	}
	return l, nil
}

// memoryLimiter is a Limiter over one rule in a MemoryStore.
type memoryLimiter struct {
	store *MemoryStore
	rule  [1]compiledRule // compiled once; never changes
}

var _ Limiter = (*memoryLimiter)(nil)

// Allow decides a request of cost units for key at now and commits it when allowed.
func (l *memoryLimiter) Allow(key string, cost int64, now time.Time) Decision {
	costs := [1]int64{cost}
	var out [1]Decision
	l.store.allow(key, l.rule[:], costs[:], now, out[:0])
	return out[0]
}

// concurrencyLimiter is the concurrency algorithm's Limiter: a memoryLimiter that can also release.
type concurrencyLimiter struct {
	*memoryLimiter
}

var (
	_ Limiter  = (*concurrencyLimiter)(nil)
	_ Releaser = (*concurrencyLimiter)(nil)
)

// Release gives back cost units (a cost below 1 counting as 1) that an allowed request for key held.
func (l *concurrencyLimiter) Release(key string, cost int64, now time.Time) {
	costs := [1]int64{cost}
	sh := l.store.shard(key)
	sh.mu.Lock()
	sh.release(key, l.rule[:], costs[:])
	sh.mu.Unlock()
}
