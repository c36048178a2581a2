package ratekit

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratekit/ratekit/internal/idlemap"
)

// registry holds the state of every key a Transport has seen, and forgets keys left idle for longer than
// Transport.IdleTimeout, so a client that talks to 100k hosts or API keys over a day keeps bounded memory.
// Eviction is swept on use (at most four times per timeout): no background goroutine.
type registry struct {
	mu      sync.RWMutex
	keys    map[string]*keyState // guarded by mu
	sweeper idlemap.Sweeper      // guarded by mu
	// last is the key the default KeyFunc found last, or nil: a client that calls one host finds its key
	// without building the key's name or hashing it. It is stored with mu held (read or write), so it is
	// always a key of keys at the time, and cleared with mu write-held when that key is forgotten.
	last atomic.Pointer[keyState]
	// swept is the time of the last sweep (sweeper's), or nil before the first: getLast tells whether a
	// sweep is due without taking mu, whose read lock is two atomic writes to a line every request shares.
	// It is stored with mu write-held, when the sweeper sweeps.
	swept atomic.Pointer[time.Time]
}

// get returns the state of key name, creating it if needed; host is the host of the request that asks.
func (r *registry) get(s *settings, name, host string, now time.Time) *keyState {
	timeout := s.idleTimeout
	r.mu.RLock()
	k := r.keys[name]
	sweepDue := r.sweeper.Due(now, timeout)
	r.mu.RUnlock()
	if k != nil && !sweepDue {
		return k
	}
	return r.create(s, name, host, now, false)
}

// getBytes is get for a name held in bytes, which it copies only to create the key. The key it finds
// becomes the last key (see registry).
func (r *registry) getBytes(s *settings, name []byte, host string, now time.Time) *keyState {
	timeout := s.idleTimeout
	r.mu.RLock()
	k := r.keys[string(name)] // no allocation: the compiler looks the bytes up as they are
	sweepDue := r.sweeper.Due(now, timeout)
	if k != nil && !sweepDue && r.last.Load() != k {
		r.last.Store(k)
	}
	r.mu.RUnlock()
	if k != nil && !sweepDue {
		return k
	}
	return r.create(s, string(name), host, now, true)
}

// getLast returns the last key (see registry) when it is req's key by host, KeyByHost(req), and no sweep is
// due; else nil, and the caller looks the key up by name.
func (r *registry) getLast(s *settings, req *http.Request, now time.Time) *keyState {
	k := r.last.Load()
	if k == nil || !k.isHostKey(req) {
		return nil
	}
	if swept := r.swept.Load(); swept == nil || idlemap.DueSince(*swept, now, s.idleTimeout) {
		return nil
	}
	return k
}

// create returns the state of key name, creating it if needed, and sweeps idle keys when due; last: it
// becomes the last key (see registry).
func (r *registry) create(s *settings, name, host string, now time.Time, last bool) *keyState {
	timeout := s.idleTimeout
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweep(now, timeout)
	k := r.keys[name]
	if k == nil {
		if r.keys == nil {
			r.keys = make(map[string]*keyState)
		}
		k = newKeyState(name, host, s, now)
		r.keys[name] = k
	}
	if last {
		r.last.Store(k)
	}
	return k
}

// sweep forgets idle keys, when a sweep is due. Requires r.mu held; takes each key's mu (the lock order is
// r.mu, then k.mu).
func (r *registry) sweep(now time.Time, timeout time.Duration) {
	swept := idlemap.Sweep(&r.sweeper, r.keys, now, timeout, func(k *keyState) bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		if !k.idle(now, timeout) {
			return false
		}
		k.evict()
		r.last.CompareAndSwap(k, nil)
		return true
	})
	if swept {
		at := now // on the heap only when it swept
		r.swept.Store(&at)
	}
}

// forget drops key name, reporting whether it was held.
func (r *registry) forget(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.keys[name]
	if k == nil {
		return false
	}
	delete(r.keys, name)
	r.last.CompareAndSwap(k, nil)
	k.mu.Lock()
	k.evict()
	k.mu.Unlock()
	return true
}

// evict marks the key forgotten and wakes its waiting requests, which then look their key up again.
// Requires mu held.
func (k *keyState) evict() {
	k.evicted = true
	for _, w := range k.queue {
		w.signal()
	}
}

// all returns the keys held now.
func (r *registry) all() []*keyState {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ks := make([]*keyState, 0, len(r.keys))
	for _, k := range r.keys {
		ks = append(ks, k)
	}
	return ks
}

// len is the number of keys held.
func (r *registry) len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.keys)
}
