package ratekit

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/time/rate"
)

// keyState is everything ratekit knows about one rate-limit key: the server's quotas as buckets, a pause the
// server imposed, the probe that ends a pause, the requests in flight, and the requests waiting to be sent
// (first come, first served). It is safe for concurrent use; every field below mu is guarded by mu.
//
// Its code is split by concept: the waiting queue (queue.go), the admission decision (admission.go), the
// observation of an answer (observe.go), fleet publishing (fleet.go) and the classification of answers
// (classify.go). The decision and the observation are pure: they take now, and do no I/O.
type keyState struct {
	name string
	host string // the host of the key's first request, for Transport.ResetFormats
	// hostKeyed: name is KeyByHost's key for host, a scheme, "://" and host lowercased (set at creation;
	// read without the lock), so that registry.getLast can tell it is a request's key without building it
	hostKeyed bool

	// dims are the dimensions of the key's buckets, copied on write under mu and read without it, so a
	// request's costs are computed before the lock is taken.
	dims atomic.Pointer[[]string]
	// resetFormat is the ResetFormat learnt for the key: resets in milliseconds that Retry-After showed up.
	resetFormat atomic.Uint32

	mu          sync.Mutex
	buckets     []*bucket // one per (policy, dimension) the server reported
	pausedUntil time.Time // no request leaves before this
	pauseReason WaitReason
	pauseStatus int  // the status of the response that caused the pause
	needProbe   bool // the next request goes alone: a new key, or the end of a pause
	probing     bool // that request is in flight; the others wait for its answer
	// passed: a request passed since the last plain 503 cut the pace (observe.go); 503s with no success
	// between them are an outage, which the error backoff spaces, not a limiter
	passed   bool
	inflight int
	flights  []flight  // the requests in flight and their cost in "requests", for buckets created meanwhile
	seq      uint64    // admissions so far: requests are numbered in the order they are sent
	queue    []*waiter // waiting requests, in order
	lastUsed time.Time
	minRTT   time.Duration // the quickest round trip of an answer (observe.go countedAt)
	evicted  bool
	sent     int64 // requests sent, retries included
	rejected int64 // rate-limit answers

	ceiling  *rate.Limiter   // the user's ceiling (Transport.Limit), or nil
	adaptive adaptive        // the pace for servers that say nothing
	backoff  backoff.BackOff // the key's backoff after rejections that say nothing, or nil
	budget   retryBudget

	pending *Pace       // what the key learned for Transport.Limiter, not yet published
	meters  []costMeter // the costs of requests in the dimensions only the caller knows (learnt_cost.go)

	backoffAt    time.Time // when the backoff last stepped: rejections of requests sent before are old news
	backoffUntil time.Time // the end of its last step
}

func newKeyState(name, host string, s *settings, now time.Time) *keyState {
	k := &keyState{name: name, host: host, hostKeyed: isHostKeyFor(name, host), needProbe: true, lastUsed: now}
	if s.limit > 0 {
		k.ceiling = rate.NewLimiter(s.limit, s.burst)
	}
	k.budget = newRetryBudget(s.retryBudget)
	return k
}

// isHostKeyFor reports whether name is a scheme, "://" and host lowercased: KeyByHost's key for a request
// to host.
func isHostKeyFor(name, host string) bool {
	n := len(name) - len(host)
	if n < len("://") || name[n-3:n] != "://" {
		return false
	}
	for i := range len(host) {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if name[n+i] != c {
			return false
		}
	}
	return true
}

// isHostKey reports whether k is req's key by host, KeyByHost(req), without building it: req's host is
// spelled as the host k's name was built from, and its scheme is the scheme of k's name.
func (k *keyState) isHostKey(req *http.Request) bool {
	u := req.URL
	return k.hostKeyed && k.host == u.Host && len(k.name) == len(u.Scheme)+len("://")+len(u.Host) &&
		k.name[:len(u.Scheme)] == u.Scheme
}

// dimensions returns the dimensions of the key's buckets, without the lock.
func (k *keyState) dimensions() []string {
	if d := k.dims.Load(); d != nil {
		return *d
	}
	return nil
}

// ticket is a request admitted and in flight.
type ticket struct {
	seq     uint64
	ahead   int // the requests in flight when it was sent
	probe   bool
	costs   costs
	n       int
	charges [4]charge // the buckets it was charged to
	more    []charge
	sentAt  time.Time
}

type charge struct {
	b        *bucket
	cost     int64
	refilled bool // admitted on the rolling refill rather than on reported units
}

func (tk *ticket) add(c charge) {
	if tk.n < len(tk.charges) {
		tk.charges[tk.n] = c
	} else {
		tk.more = append(tk.more, c)
	}
	tk.n++
}

// at returns charge i of the n: a loop over at passes no closure, which cost an answer ~70 instructions.
func (tk *ticket) at(i int) *charge {
	if i < len(tk.charges) {
		return &tk.charges[i]
	}
	return &tk.more[i-len(tk.charges)]
}

// admitNow records the request in flight and charges it to every bucket, and returns its ticket. Requires
// mu held.
func (k *keyState) admitNow(c *costs, now time.Time, retry bool) ticket {
	var tk ticket
	k.admitInto(&tk, c, now, retry)
	return tk
}

// admitInto is admitNow writing the ticket to tk: a ticket is a few hundred bytes, which the request's
// fast path (admit, then wait, then RoundTrip) would otherwise copy at each return. tk is a fresh ticket,
// zero but for its costs (which c may be): each attempt of a request declares its own, so its charges are
// not cleared again here. Requires mu held.
func (k *keyState) admitInto(tk *ticket, c *costs, now time.Time, retry bool) {
	k.seq++
	if !retry {
		k.budget.deposit()
	}
	// Every field, one by one: a composite literal is built aside and then copied, twice the stores.
	tk.seq, tk.ahead, tk.probe, tk.sentAt = k.seq, k.inflight, false, now
	if c != &tk.costs { // the Transport computes its costs in the ticket already
		tk.costs = *c
	}
	for _, b := range k.buckets {
		if turn := b.turnover(); b.mode == modeFixed && !b.reset.IsZero() && !now.Before(turn) && !b.observed.After(turn) {
			// The window turned over since the last report: learn its budget from one request before the
			// others follow.
			k.needProbe = true
		}
	}
	if k.needProbe {
		tk.probe, k.needProbe, k.probing = true, false, true
	}
	for _, b := range k.buckets {
		if !k.hits(b, c.route) {
			continue
		}
		cost := k.chargeFor(c, b)
		tk.add(charge{b: b, cost: cost, refilled: b.take(tk.seq, cost, now)})
	}
	if k.ceiling != nil {
		k.ceiling.AllowN(now, 1)
	}
	k.adaptive.take(now)
	k.inflight++
	k.sent++
	k.flights = append(k.flights, flight{seq: tk.seq, cost: c.requests()})
	k.lastUsed = now
}

// end takes a request out of flight. Requires mu held.
func (k *keyState) end(tk *ticket, now time.Time) {
	k.inflight--
	for i, f := range k.flights {
		if f.seq == tk.seq {
			k.flights = withoutFlight(k.flights, i)
			break
		}
	}
	for _, b := range k.buckets {
		b.done(tk.seq) // also the buckets created while it was in flight, which count it
	}
	if tk.probe {
		k.probing = false
	}
	k.lastUsed = now
}

// complete ends a request in flight with its answer: it observes the answer, updates what the fleet is
// told, and admits the waiting requests that may now go.
func (k *keyState) complete(s *settings, tk *ticket, a answer, now time.Time) outcome {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.end(tk, now)
	out := k.observe(s, tk, a, now)
	if s.limiter != nil && a.responded {
		k.pending = k.fleetPace(now)
	}
	k.dispatch(now)
	return out
}

// release ends a request admitted but never sent (its caller's context ended meanwhile). Requires mu held.
func (k *keyState) release(tk *ticket, now time.Time) {
	k.end(tk, now)
	if tk.probe {
		k.needProbe = true
	}
	k.dispatch(now)
}

// idle reports whether the key can be forgotten at now: nothing in flight or waiting, and unused for longer
// than timeout. A pause does not keep a key that nothing uses: a server that pauses a key for days (or a
// skewed clock that makes it look so) must not pin it in memory. Requires mu held.
func (k *keyState) idle(now time.Time, timeout time.Duration) bool {
	return k.inflight == 0 && len(k.queue) == 0 && now.Sub(k.lastUsed) >= timeout
}
