package mockserver

import (
	"container/list"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// statsBook counts allowed and rejected requests per key, for /_stats. It remembers at most max keys: the
// least recently seen key is dropped first, so memory stays bounded however many clients come and go.
// Safe for concurrent use.
type statsBook struct {
	max int

	mu      sync.Mutex
	byKey   map[string]*list.Element // of *keyStats; guarded by mu
	lru     *list.List               // most recently seen first; guarded by mu
	evicted uint64                   // keys dropped to stay within max; guarded by mu
}

// keyStats are the counts of one key.
type keyStats struct {
	key      string
	tier     int
	allowed  uint64
	rejected uint64
}

// newStatsBook remembers at most max keys.
func newStatsBook(max int) *statsBook {
	return &statsBook{max: max, byKey: make(map[string]*list.Element), lru: list.New()}
}

// record counts one decision for key, in tier.
func (b *statsBook) record(key string, tier int, allowed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.byKey[key]
	if ok {
		b.lru.MoveToFront(e)
	} else {
		if b.lru.Len() >= b.max {
			oldest := b.lru.Back()
			delete(b.byKey, oldest.Value.(*keyStats).key)
			b.lru.Remove(oldest)
			b.evicted++
		}
		e = b.lru.PushFront(&keyStats{key: key})
		b.byKey[key] = e
	}
	s := e.Value.(*keyStats)
	s.tier = tier
	if allowed {
		s.allowed++
	} else {
		s.rejected++
	}
}

// forget drops key, or every key when key is "".
func (b *statsBook) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if key == "" {
		clear(b.byKey)
		b.lru.Init()
		return
	}
	if e, ok := b.byKey[key]; ok {
		delete(b.byKey, key)
		b.lru.Remove(e)
	}
}

// snapshot copies the counts of key (every key when key is ""), sorted by key, and how many keys are
// tracked and were evicted.
func (b *statsBook) snapshot(key string) (keys []keyStats, tracked int, evicted uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if key != "" {
		if e, ok := b.byKey[key]; ok {
			keys = append(keys, *e.Value.(*keyStats))
		}
	} else {
		keys = make([]keyStats, 0, b.lru.Len())
		for e := b.lru.Front(); e != nil; e = e.Next() {
			keys = append(keys, *e.Value.(*keyStats))
		}
	}
	slices.SortFunc(keys, func(a, b keyStats) int { return strings.Compare(a.key, b.key) })
	return keys, b.lru.Len(), b.evicted
}

// statsReport is the JSON body of /_stats.
type statsReport struct {
	Now         time.Time   `json:"now"`
	Keys        []keyReport `json:"keys"`
	TrackedKeys int         `json:"tracked_keys"`
	MaxKeys     int         `json:"max_keys"`
	EvictedKeys uint64      `json:"evicted_keys"`
}

// keyReport is one key in /_stats: its counts and its rules' current state (Store.Inspect).
type keyReport struct {
	Key      string       `json:"key"`
	Tier     string       `json:"tier"`
	Allowed  uint64       `json:"allowed"`
	Rejected uint64       `json:"rejected"`
	Rules    []ruleReport `json:"rules,omitempty"`
	Error    string       `json:"error,omitempty"` // the store failed to inspect this key
}

// ruleReport is one rule's view of a key: the decision a request of cost 1 would get now (Store.Inspect),
// without changing anything.
type ruleReport struct {
	Rule              string    `json:"rule"`
	Algorithm         string    `json:"algorithm"`
	Dimension         string    `json:"dimension"`
	Limit             int64     `json:"limit"`
	WouldAllow        bool      `json:"would_allow"`         // whether a request of cost 1 would pass now
	Remaining         int64     `json:"remaining"`           // what would remain after it
	Reset             time.Time `json:"reset"`               // when the quota is fully restored
	ResetSeconds      int64     `json:"reset_seconds"`       // seconds until Reset, rounded up
	RetryAfterSeconds int64     `json:"retry_after_seconds"` // when it would not pass: seconds to wait, rounded up
}

// lookupName returns the name under which the statistics and the store know the key of ?key=: the raw key
// (an API key, an IP address) is named as requests name it; a name as /_stats lists it ("k_..." under a
// keyed hash) is taken as is. "" stays "" (every key).
func (h *Handler) lookupName(key string) string {
	if key == "" || (!h.names.raw && isKeyName(key)) {
		return key
	}
	return h.names.name(key)
}

// serveStats answers GET /_stats (every key) or /_stats?key=K (one key, 404 when it is unknown) with the
// keys' counts and state. ?key= takes a raw key or its name as listed.
func (h *Handler) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method_not_allowed", Message: "use GET"})
		return
	}
	now := time.Now()
	name := h.lookupName(r.URL.Query().Get("key"))
	keys, tracked, evicted := h.stats.snapshot(name)
	if name != "" && len(keys) == 0 {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "unknown_key", Message: "no statistics for this key: it has sent no request, or was forgotten (StatsMaxKeys)"})
		return
	}
	report := statsReport{Now: now.UTC(), Keys: make([]keyReport, 0, len(keys)), TrackedKeys: tracked,
		MaxKeys: h.plan.statsMaxKeys, EvictedKeys: evicted}
	var ds []Decision
	for _, k := range keys {
		t := &h.plan.tiers[k.tier]
		kr := keyReport{Key: k.key, Tier: t.name, Allowed: k.allowed, Rejected: k.rejected}
		var err error
		ds, err = h.store.Inspect(r.Context(), k.key, t.rules, now, ds[:0])
		switch {
		case err != nil:
			kr.Error = err.Error()
		case len(ds) != len(t.rules):
			kr.Error = "mockserver: store returned a decision count that does not match the rules"
		default:
			for i, d := range ds {
				rule := t.rules[i]
				kr.Rules = append(kr.Rules, ruleReport{Rule: rule.Name, Algorithm: rule.Algorithm,
					Dimension: rule.Dimension, Limit: d.Limit, WouldAllow: d.Allowed, Remaining: d.Remaining,
					Reset: d.Reset.UTC(), ResetSeconds: ceilDiv(d.Reset.Sub(now), time.Second),
					RetryAfterSeconds: ceilDiv(d.RetryAfter, time.Second)})
			}
		}
		report.Keys = append(report.Keys, kr)
	}
	writeJSON(w, http.StatusOK, report)
}

// resetReport is the JSON body of a successful /_reset.
type resetReport struct {
	Reset string `json:"reset"`         // "all" or "key"
	Key   string `json:"key,omitempty"` // the key, when one key was reset
}

// serveReset answers POST /_reset (every key) or /_reset?key=K (one key): the store and the statistics
// forget the key's state.
func (h *Handler) serveReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method_not_allowed", Message: "use POST"})
		return
	}
	key := h.lookupName(r.URL.Query().Get("key"))
	if err := h.store.Reset(r.Context(), key); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "store_unavailable", Message: err.Error()})
		return
	}
	h.stats.forget(key)
	if key == "" {
		writeJSON(w, http.StatusOK, resetReport{Reset: "all"})
		return
	}
	writeJSON(w, http.StatusOK, resetReport{Reset: "key", Key: key})
}
