package mockserver

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

const (
	// memoryShards is the number of independently locked parts of a MemoryStore (a power of two). A key's
	// states for all rules live in one shard, so one lock covers a request's check-all-then-commit.
	memoryShards = 256
	// sweepBatch is how many stored states each Allow examines for idleness, in the shard it locked anyway. A
	// call adds at most one state per rule, so the sweep keeps up with any rate of new keys.
	sweepBatch = 8
	// shrinkMinCap is the table capacity below which a shard keeps its memory when it empties.
	shrinkMinCap = 64
	// sweepOthersEvery is how many Allow calls a shard takes before it also sweeps another shard (if that one's
	// lock is free), so that shards no request hashes to any more are emptied too.
	sweepOthersEvery = 32
)

// MemoryStore is a Store that keeps every state in this process. It is safe for concurrent use: the keys are
// spread over 256 shards by a hash of the key, each with its own mutex, and all of one key's rules live in one
// shard, so that a request's check-all-then-commit takes a single lock.
//
// Memory is bounded twice. By capacity: the store holds at most DefaultMemoryStoreCapacity (key, rule) states
// (NewMemoryStoreWithCapacity sets another bound); a new state that finds its shard full first makes room by
// forgetting the least recently used state of that shard (nginx's limit_req_zone does the same), counted by
// Evictions and the mockserver_store_evictions_total metric. A forgotten state is a fresh quota for its key
// when it comes back, so set the capacity above the keys active within your longest window. The capacity is
// shared out evenly among the shards, so a shard can fill (and evict) a little before the whole store does.
// And by the active keys: a state that equals the fresh state (bucket full, window over, log
// empty, nothing in flight) is forgotten. Each Allow sweeps a few states of the shard it locked (and every 32nd
// call on a shard, of another shard, in turn), so idle states go away as traffic continues, without a background
// goroutine (there is nothing to close).
//
// The store assumes that the instants passed to it come from one clock (as time.Now() in a server, or one
// synctest bubble): a state that is idle at the latest instant seen may be forgotten, even if a later call
// for its key passes an earlier instant. Decisions never depend on sweeping: a forgotten state was equal to a
// fresh one.
//
// The zero value is not usable; call NewMemoryStore.
type MemoryStore struct {
	seed     maphash.Seed
	shards   []memoryShard
	capacity int // of the whole store
}

// DefaultMemoryStoreCapacity is how many (key, rule) states NewMemoryStore holds at most: about 100 MB of
// states at the most (fewer bytes for most algorithms; a sliding-window-log state grows with its log, see
// SlidingWindowLog).
const DefaultMemoryStoreCapacity = 1_000_000

// minStatesPerShard is the least capacity of a shard: a small store has fewer shards rather than shards too
// small to hold an uneven share of the keys.
const minStatesPerShard = 64

var _ Store = (*MemoryStore)(nil)

// memoryShard is one locked part of a MemoryStore: a dense table of states with an index by (key, rule).
type memoryShard struct {
	mu      sync.Mutex
	index   map[stateKey]int // position in entries; guarded by mu
	entries []storedState    // guarded by mu
	// idleAt[i] is the Unix ns from which entries[i] equals the fresh state; the sweep drops it once
	// now >= idleAt[i]. A slice of its own, so that the sweep reads eight of them per cache line. Guarded by mu.
	idleAt []int64
	cursor int    // the next entry the sweep examines; guarded by mu
	calls  uint32 // Allow calls so far, to pace sweeps of other shards; guarded by mu
	// links[i] places entries[i] in the shard's recency list, from head (most recently used) to tail
	// (least); -1 ends it. Guarded by mu.
	links      []lruLink
	head, tail int32
	capacity   int      // the most entries the shard holds
	evicted    uint64   // entries forgotten to stay within capacity; guarded by mu
	_          [64]byte // keeps neighbouring shards' mutexes off one cache line
}

// lruLink is an entry's neighbours in the recency list (indexes in entries, -1 for none).
type lruLink struct{ prev, next int32 }

// stateKey names the state of one rule for one key.
type stateKey struct {
	key, rule string
}

// storedState is one (key, rule) state.
type storedState struct {
	id    stateKey
	state ruleState
}

// pendingDecision is a rule's decision while a request is checked, before it is committed or not.
type pendingDecision struct {
	idx   int
	found bool
	cost  int64
	next  ruleState // as decideState would store it
	v     verdict
}

// NewMemoryStore returns an empty MemoryStore that holds at most DefaultMemoryStoreCapacity states.
func NewMemoryStore() *MemoryStore {
	return newMemoryStore(memoryShards, DefaultMemoryStoreCapacity)
}

// NewMemoryStoreWithCapacity returns an empty MemoryStore that holds at most capacity (key, rule) states
// (capacity < 1: DefaultMemoryStoreCapacity), forgetting the least recently used first when full.
func NewMemoryStoreWithCapacity(capacity int) *MemoryStore {
	if capacity < 1 {
		capacity = DefaultMemoryStoreCapacity
	}
	n := memoryShards
	for n > 1 && capacity/n < minStatesPerShard {
		n /= 2
	}
	return newMemoryStore(n, capacity)
}

// newMemoryStore returns a MemoryStore with n shards (a power of two) sharing capacity; tests use 1 shard to
// compare sharding away.
func newMemoryStore(n, capacity int) *MemoryStore {
	m := &MemoryStore{seed: maphash.MakeSeed(), shards: make([]memoryShard, n), capacity: capacity}
	per := (capacity + n - 1) / n
	for i := range m.shards {
		m.shards[i].capacity = per
		m.shards[i].head, m.shards[i].tail = -1, -1
	}
	return m
}

// Capacity reports how many (key, rule) states the store holds at most.
func (m *MemoryStore) Capacity() int { return m.capacity }

// Evictions reports how many states the store forgot while still in use, to stay within its capacity.
func (m *MemoryStore) Evictions() uint64 {
	var n uint64
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += sh.evicted
		sh.mu.Unlock()
	}
	return n
}

// shardIndex returns the index of the shard that holds key's states.
func (m *MemoryStore) shardIndex(key string) int {
	return int(maphash.String(m.seed, key) & uint64(len(m.shards)-1))
}

// shard returns the shard that holds key's states.
func (m *MemoryStore) shard(key string) *memoryShard {
	return &m.shards[m.shardIndex(key)]
}

// Allow checks a request against every rule for key at now, costs[i] units in rules[i] (a cost below 1 counts
// as 1), and commits it to every rule only when all of them allow it. When one rule rejects the request, the
// decisions of the rules that would have allowed it report Allowed true and their unchanged state, with no
// Delay. It returns an error, and no decisions, when the rules are invalid (see Policy.Validate), their names
// are not unique, or costs does not have one cost per rule.
func (m *MemoryStore) Allow(ctx context.Context, key string, rules []Rule, costs []int64, now time.Time, dst []Decision) ([]Decision, error) {
	var buf [4]compiledRule
	compiled, err := compileRules(buf[:0], rules)
	if err != nil {
		return dst, err
	}
	if len(costs) != len(rules) {
		return dst, fmt.Errorf("mockserver: %d rules but %d costs: want one cost per rule", len(rules), len(costs))
	}
	return m.allow(key, compiled, costs, now, dst), nil
}

// allow decides and commits a request for compiled rules in key's shard.
func (m *MemoryStore) allow(key string, rules []compiledRule, costs []int64, now time.Time, dst []Decision) []Decision {
	nowNs := now.UnixNano()
	i := m.shardIndex(key)
	sh := &m.shards[i]
	sh.mu.Lock()
	dst = sh.allow(key, rules, costs, now, nowNs, dst)
	sh.calls++
	calls := sh.calls
	sh.mu.Unlock()
	if calls%sweepOthersEvery == 0 {
		// The n-th shard after this one, going round: every shard is visited as long as this one has traffic.
		other := &m.shards[(i+int(calls/sweepOthersEvery))%len(m.shards)]
		if other != sh && other.mu.TryLock() {
			other.sweep(nowNs)
			other.mu.Unlock()
		}
	}
	return dst
}

// Release gives back the units an allowed request holds in its concurrency rules (costs[i] in rules[i], a cost
// below 1 counting as 1). Rules of other algorithms are ignored, and so is a release of more than is held.
func (m *MemoryStore) Release(ctx context.Context, key string, rules []Rule, costs []int64, now time.Time) error {
	var buf [4]compiledRule
	compiled, err := compileRules(buf[:0], rules)
	if err != nil {
		return err
	}
	if len(costs) != len(rules) {
		return fmt.Errorf("mockserver: %d rules but %d costs: want one cost per rule", len(rules), len(costs))
	}
	sh := m.shard(key)
	sh.mu.Lock()
	sh.release(key, compiled, costs)
	sh.mu.Unlock()
	return nil
}

// Inspect reports the decisions a request of cost 1 would get from every rule for key at now, changing nothing.
func (m *MemoryStore) Inspect(ctx context.Context, key string, rules []Rule, now time.Time, dst []Decision) ([]Decision, error) {
	var buf [4]compiledRule
	compiled, err := compileRules(buf[:0], rules)
	if err != nil {
		return dst, err
	}
	nowNs := now.UnixNano()
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var next ruleState
	for i := range compiled {
		r := &compiled[i]
		st, found := sh.lookup(key, r)
		v := decideState(r, st, found, 1, nowNs, &next)
		dst = append(dst, v.toDecision(r, now, nowNs))
	}
	return dst, nil
}

// Reset forgets every state of key, or of every key when key is "".
func (m *MemoryStore) Reset(ctx context.Context, key string) error {
	if key == "" {
		for i := range m.shards {
			sh := &m.shards[i]
			sh.mu.Lock()
			sh.index, sh.entries, sh.idleAt, sh.cursor = nil, nil, nil, 0
			sh.links, sh.head, sh.tail = nil, -1, -1
			sh.mu.Unlock()
		}
		return nil
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i := len(sh.entries) - 1; i >= 0; i-- {
		if sh.entries[i].id.key == key {
			sh.remove(i)
		}
	}
	sh.shrink()
	return nil
}

// Len reports how many (rule, key) states the store holds now, idle ones not yet swept included.
func (m *MemoryStore) Len(ctx context.Context) (int, error) {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.entries)
		sh.mu.Unlock()
	}
	return n, nil
}

// compileRules appends the compiled rules to dst, checking each rule and that their names are unique.
func compileRules(dst []compiledRule, rules []Rule) ([]compiledRule, error) {
	for i, r := range rules {
		c, err := compileRule(r)
		if err != nil {
			return dst, fmt.Errorf("mockserver: rule %q: %w", r.Name, err)
		}
		for j := range i {
			if rules[j].Name == r.Name {
				return dst, fmt.Errorf("mockserver: rules %d and %d are both named %q: want unique names", j, i, r.Name)
			}
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// lookup returns key's state for rule r, or a pointer to a zero state and false; sh.mu must be held. The
// pointer is valid until the table changes.
func (sh *memoryShard) lookup(key string, r *compiledRule) (*ruleState, bool) {
	if idx, found := sh.index[stateKey{key, r.name}]; found {
		return &sh.entries[idx].state, true
	}
	return new(ruleState), false
}

// allow is Allow within the locked shard; sh.mu must be held. nowNs is now.UnixNano().
func (sh *memoryShard) allow(key string, rules []compiledRule, costs []int64, now time.Time, nowNs int64, dst []Decision) []Decision {
	if len(rules) == 1 {
		dst = sh.allowOne(key, &rules[0], clampCost(costs[0]), now, nowNs, dst)
		sh.sweep(nowNs)
		sh.trim(key)
		return dst
	}
	var buf [4]pendingDecision
	pending := buf[:0]
	allowed := true
	for i := range rules {
		r := &rules[i]
		p := pendingDecision{cost: clampCost(costs[i])}
		p.idx, p.found = sh.index[stateKey{key, r.name}]
		st := &ruleState{}
		if p.found {
			st = &sh.entries[p.idx].state
			sh.touch(p.idx)
		}
		p.v = decideState(r, st, p.found, p.cost, nowNs, &p.next)
		allowed = allowed && p.v.allowed
		pending = append(pending, p)
	}
	for i := range pending {
		p, r := &pending[i], &rules[i]
		switch {
		case allowed:
			sh.commit(key, r, p.idx, p.found, &p.next, &p.v, p.cost, nowNs)
		case r.countsRejection():
			if p.v.allowed {
				p.v = viewAfterCounting(r, &p.next, nowNs)
			}
			sh.commit(key, r, p.idx, p.found, &p.next, &p.v, p.cost, nowNs)
		case p.v.allowed:
			st := &ruleState{}
			if p.found {
				st = &sh.entries[p.idx].state
			}
			p.v = viewAfterRejection(r, st, p.found, nowNs)
		}
		dst = append(dst, p.v.toDecision(r, now, nowNs))
	}
	sh.sweep(nowNs)
	sh.trim(key)
	return dst
}

// allowOne is allow for a single rule, without the bookkeeping of check-all-then-commit; sh.mu must be held.
func (sh *memoryShard) allowOne(key string, r *compiledRule, cost int64, now time.Time, nowNs int64, dst []Decision) []Decision {
	idx, found := sh.index[stateKey{key, r.name}]
	var (
		zero, next ruleState
		st         = &zero
	)
	if found {
		st = &sh.entries[idx].state
		sh.touch(idx)
	}
	v := decideState(r, st, found, cost, nowNs, &next)
	if v.allowed || r.countsRejection() {
		sh.commit(key, r, idx, found, &next, &v, cost, nowNs)
	}
	return append(dst, v.toDecision(r, now, nowNs))
}

// commit stores the state of an allowed request for rule r (at entries[idx] when found); sh.mu must be held.
func (sh *memoryShard) commit(key string, r *compiledRule, idx int, found bool, next *ruleState, v *verdict, cost, now int64) {
	if found {
		e := &sh.entries[idx]
		commitState(r, &e.state, next, cost, now)
		sh.idleAt[idx] = idleAt(r, &e.state, v, now)
		return
	}
	var st ruleState
	commitState(r, &st, next, cost, now)
	id := stateKey{key, r.name}
	if sh.index == nil {
		sh.index = make(map[stateKey]int)
	}
	sh.index[id] = len(sh.entries)
	sh.entries = append(sh.entries, storedState{id: id, state: st})
	sh.idleAt = append(sh.idleAt, idleAt(r, &st, v, now))
	sh.links = append(sh.links, lruLink{prev: -1, next: -1})
	sh.pushFront(int32(len(sh.entries) - 1))
}

// trim forgets the least recently used states until the shard is within its capacity, after a request of
// key was committed (and idle states swept): never one of key's own, which that request has just used.
// sh.mu must be held.
func (sh *memoryShard) trim(key string) {
	for i := sh.tail; len(sh.entries) > sh.capacity && i >= 0; {
		prev := sh.links[i].prev
		if sh.entries[i].id.key != key {
			sh.remove(int(i))
			sh.evicted++
			if prev == int32(len(sh.entries)) { // prev was the last entry: remove moved it to i
				prev = i
			}
		}
		i = prev
	}
}

// touch makes entries[i] the most recently used; sh.mu must be held.
func (sh *memoryShard) touch(i int) {
	if int32(i) == sh.head {
		return
	}
	sh.unlink(int32(i))
	sh.pushFront(int32(i))
}

// pushFront puts entries[i], unlinked, at the head of the recency list; sh.mu must be held.
func (sh *memoryShard) pushFront(i int32) {
	sh.links[i] = lruLink{prev: -1, next: sh.head}
	if sh.head >= 0 {
		sh.links[sh.head].prev = i
	}
	sh.head = i
	if sh.tail < 0 {
		sh.tail = i
	}
}

// unlink takes entries[i] out of the recency list; sh.mu must be held.
func (sh *memoryShard) unlink(i int32) {
	l := sh.links[i]
	if l.prev >= 0 {
		sh.links[l.prev].next = l.next
	} else {
		sh.head = l.next
	}
	if l.next >= 0 {
		sh.links[l.next].prev = l.prev
	} else {
		sh.tail = l.prev
	}
	sh.links[i] = lruLink{prev: -1, next: -1}
}

// release gives back the units held in the concurrency rules; sh.mu must be held.
func (sh *memoryShard) release(key string, rules []compiledRule, costs []int64) {
	for i := range rules {
		r := &rules[i]
		if r.alg != algConcurrency {
			continue
		}
		idx, found := sh.index[stateKey{key, r.name}]
		if !found || sh.entries[idx].state.alg != algConcurrency {
			continue
		}
		s := concurrencyState{inflight: sh.entries[idx].state.a}.release(clampCost(costs[i]))
		if s.inflight == 0 {
			sh.remove(idx)
			continue
		}
		sh.entries[idx].state.a = s.inflight
	}
}

// sweep examines up to sweepBatch states from the cursor on, forgetting those that are idle at now, and gives
// memory back when the shard has emptied; sh.mu must be held.
func (sh *memoryShard) sweep(now int64) {
	for range min(sweepBatch, len(sh.entries)) {
		n := len(sh.entries)
		if n == 0 {
			break
		}
		if sh.cursor >= n {
			sh.cursor = 0
		}
		if sh.idleAt[sh.cursor] <= now {
			sh.remove(sh.cursor) // the last entry moves here; examine it next
		} else {
			sh.cursor++
		}
	}
	sh.shrink()
}

// remove forgets entries[i], moving the last entry into its place; sh.mu must be held.
func (sh *memoryShard) remove(i int) {
	last := len(sh.entries) - 1
	delete(sh.index, sh.entries[i].id)
	sh.unlink(int32(i))
	if i != last {
		sh.entries[i] = sh.entries[last]
		sh.idleAt[i] = sh.idleAt[last]
		sh.index[sh.entries[i].id] = i
		// The last entry moves to i: its neighbours now point at i.
		l := sh.links[last]
		sh.links[i] = l
		if l.prev >= 0 {
			sh.links[l.prev].next = int32(i)
		} else {
			sh.head = int32(i)
		}
		if l.next >= 0 {
			sh.links[l.next].prev = int32(i)
		} else {
			sh.tail = int32(i)
		}
	}
	sh.entries[last] = storedState{}
	sh.entries = sh.entries[:last]
	sh.idleAt = sh.idleAt[:last]
	sh.links = sh.links[:last]
}

// shrink reallocates the table and its index when they hold less than an eighth of their capacity: Go maps and
// slices keep their peak size otherwise, and memory must follow the active keys. sh.mu must be held.
func (sh *memoryShard) shrink() {
	if c := cap(sh.entries); c < shrinkMinCap || len(sh.entries) > c/8 {
		return
	}
	entries := make([]storedState, len(sh.entries), 2*len(sh.entries))
	copy(entries, sh.entries)
	idle := make([]int64, len(sh.idleAt), cap(entries))
	copy(idle, sh.idleAt)
	links := make([]lruLink, len(sh.links), cap(entries))
	copy(links, sh.links)
	index := make(map[stateKey]int, len(entries))
	for i := range entries {
		index[entries[i].id] = i
	}
	sh.entries, sh.idleAt, sh.links, sh.index = entries, idle, links, index
	if sh.cursor > len(entries) {
		sh.cursor = 0
	}
}
