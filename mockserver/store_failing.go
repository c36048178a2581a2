package mockserver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStoreFailure is the error a FailingStore returns for an injected failure.
var ErrStoreFailure = errors.New("mockserver: injected store failure")

// FailingStore wraps a Store and makes it fail on demand, to test what a server does when its store is
// down (Config.FailureMode) and what clients see then. Allow fails at a seeded random rate; SetDown makes
// every method fail until it is called again with false. Safe for concurrent use.
type FailingStore struct {
	store Store
	rate  float64
	down  atomic.Bool

	mu  sync.Mutex
	rng *rand.Rand // guarded by mu
}

var _ Store = (*FailingStore)(nil)

// NewFailingStore wraps store so that each Allow fails with probability rate (0 to 1), drawn from a source
// seeded with seed: the same seed and the same sequence of calls fail the same calls.
func NewFailingStore(store Store, rate float64, seed uint64) (*FailingStore, error) {
	if store == nil {
		return nil, errors.New("mockserver: NewFailingStore: store is nil")
	}
	if !(rate >= 0 && rate <= 1) {
		return nil, fmt.Errorf("mockserver: NewFailingStore: rate %s is not a fraction between 0 and 1",
			strconv.FormatFloat(rate, 'g', -1, 64))
	}
	return &FailingStore{store: store, rate: rate, rng: rand.New(rand.NewPCG(seed, ^seed))}, nil
}

// SetDown switches the store down (every method fails with ErrStoreFailure) or back up.
func (f *FailingStore) SetDown(down bool) { f.down.Store(down) }

// Down reports whether the store is switched down.
func (f *FailingStore) Down() bool { return f.down.Load() }

// failAllow decides whether this Allow fails.
func (f *FailingStore) failAllow() bool {
	if f.down.Load() {
		return true
	}
	if f.rate == 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < f.rate
}

// Allow fails when the store is down or the dice say so; otherwise it asks the wrapped store.
func (f *FailingStore) Allow(ctx context.Context, key string, rules []Rule, costs []int64, now time.Time, dst []Decision) ([]Decision, error) {
	if f.failAllow() {
		return dst, ErrStoreFailure
	}
	return f.store.Allow(ctx, key, rules, costs, now, dst)
}

// Release fails when the store is down; otherwise it asks the wrapped store.
func (f *FailingStore) Release(ctx context.Context, key string, rules []Rule, costs []int64, now time.Time) error {
	if f.down.Load() {
		return ErrStoreFailure
	}
	return f.store.Release(ctx, key, rules, costs, now)
}

// Inspect fails when the store is down; otherwise it asks the wrapped store.
func (f *FailingStore) Inspect(ctx context.Context, key string, rules []Rule, now time.Time, dst []Decision) ([]Decision, error) {
	if f.down.Load() {
		return dst, ErrStoreFailure
	}
	return f.store.Inspect(ctx, key, rules, now, dst)
}

// Reset fails when the store is down; otherwise it asks the wrapped store.
func (f *FailingStore) Reset(ctx context.Context, key string) error {
	if f.down.Load() {
		return ErrStoreFailure
	}
	return f.store.Reset(ctx, key)
}

// Len fails when the store is down; otherwise it asks the wrapped store.
func (f *FailingStore) Len(ctx context.Context) (int, error) {
	if f.down.Load() {
		return 0, ErrStoreFailure
	}
	return f.store.Len(ctx)
}

// Evictions reports the evictions of the wrapped store when it has a capacity (a MemoryStore), else 0.
func (s *FailingStore) Evictions() uint64 {
	if es, ok := s.store.(evictingStore); ok {
		return es.Evictions()
	}
	return 0
}
