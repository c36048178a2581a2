package ratekit

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// waiter is a request waiting for its turn. ready is signalled when the waiter is admitted (admitted and tk
// are then set, before the signal), and, while it is the head of the queue, whenever the key's state
// changes so that it should look again.
type waiter struct {
	ready    chan struct{}
	costs    costs // the request's, copied: the caller's stays on its stack
	retry    bool
	admitted atomic.Bool // set under mu, after tk, before ready is signalled
	tk       ticket      // the ticket, once admitted
}

// place is where a request joins the queue of its key.
type place uint8

const (
	placeNew   place = iota // a new request: at the back
	placeFront              // a retry after backoff: it waited its turn before, so at the front
	placeBack               // a retry after the server refused it: at the back, so that after a pause the
	// probes rotate among the waiting requests instead of one request spending all its retries on them
)

func (w *waiter) signal() {
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// admit blocks until the request may be sent and records it in flight; now is the time of the call. It
// fails at once with a *RateLimitError when the wait would pass the context's deadline or MaxWait, and
// with the context's error when the context ends. A request that finds no queue and may go takes the key's
// lock once; one that waits is admitted by whoever changes the state that held it back (an answer, the
// request before it), so it does not take the lock again to leave.
//
// The ticket is written to tk.
func (k *keyState) admit(ctx context.Context, s *settings, req *http.Request, c *costs, at place, now time.Time, tk *ticket) error {
	k.mu.Lock()
	if k.evicted {
		k.mu.Unlock()
		return errEvicted
	}
	retry := at != placeNew
	for len(k.queue) == 0 {
		a := k.decide(c, now)
		if a.recost {
			if !k.recost(s, req, c) {
				k.mu.Unlock()
				return errEvicted
			}
			now = time.Now()
			continue
		}
		if a.ready() {
			k.admitInto(tk, c, now, retry)
			k.mu.Unlock()
			return nil
		}
		break
	}
	w := &waiter{ready: make(chan struct{}, 1), costs: *c, retry: retry}
	if at == placeFront {
		k.queue = append(k.queue, nil)
		copy(k.queue[1:], k.queue)
		k.queue[0] = w
	} else {
		k.queue = append(k.queue, w)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var reported time.Duration
	for {
		k.dispatch(now)
		if w.admitted.Load() {
			k.mu.Unlock()
			*tk = w.tk
			return nil
		}
		select { // a signal sent while this goroutine holds the lock is its own: it decides below anyway
		case <-w.ready:
		default:
		}
		head := k.queue[0] == w
		a := k.decide(c, now)
		if a.recost {
			if !k.recost(s, req, c) {
				k.leave(w)
				k.mu.Unlock()
				return errEvicted
			}
			w.costs, now = *c, time.Now()
			continue
		}
		if !head {
			// Behind the head, a request waits at least as long as the head, and then for its turn: the
			// pace of the requests between them is a guess the server's next reports may beat, so it is no
			// ground to fail.
			a.unknown = true
		}
		if err := a.refusal(ctx, k.name, s.maxWait, now); err != nil {
			k.leave(w)
			k.dispatch(now)
			k.mu.Unlock()
			return err
		}
		k.mu.Unlock()

		if a.wait > reported+time.Millisecond && s.onWait != nil {
			reported = a.wait
			s.onWait(WaitEvent{Key: k.name, Wait: a.wait, Reason: a.reason, Quota: a.quota, Request: req})
		}
		var fire <-chan time.Time
		if head && !a.unknown {
			if timer == nil {
				timer = time.NewTimer(a.wait)
			} else {
				timer.Reset(a.wait)
			}
			fire = timer.C
		}
		select {
		case <-w.ready:
			if w.admitted.Load() { // set before the signal, by the goroutine that admitted it under the lock
				*tk = w.tk
				return nil
			}
		case <-fire:
		case <-ctx.Done():
			k.mu.Lock()
			if w.admitted.Load() {
				k.release(&w.tk, time.Now())
			} else {
				k.leave(w)
				k.dispatch(time.Now())
			}
			k.mu.Unlock()
			return ctx.Err()
		}
		if timer != nil && !timer.Stop() {
			select { // drain a fired timer so Reset starts clean
			case <-timer.C:
			default:
			}
		}
		k.mu.Lock()
		now = time.Now()
		if w.admitted.Load() {
			k.mu.Unlock()
			*tk = w.tk
			return nil
		}
		if k.evicted {
			k.leave(w)
			k.mu.Unlock()
			return errEvicted
		}
	}
}

// recost adds the request's costs in the dimensions the key learnt since c was computed (admission.recost):
// it releases mu to call CostFunc, user code, and takes it again. It reports false when the key was evicted
// meanwhile. Requires mu held.
func (k *keyState) recost(s *settings, req *http.Request, c *costs) bool {
	k.mu.Unlock()
	c.coverDimensions(s, req, k.dimensions())
	k.mu.Lock()
	return !k.evicted
}

// dispatch admits, in order, every waiting request that may go at now, and wakes the first that may not, so
// it looks again (and sets its timer); a head whose costs are stale (admission.recost) is woken to compute
// them. Requires mu held.
func (k *keyState) dispatch(now time.Time) {
	for len(k.queue) > 0 {
		w := k.queue[0]
		if !k.decide(&w.costs, now).ready() {
			w.signal()
			return
		}
		k.pop()
		w.tk = k.admitNow(&w.costs, now, w.retry)
		w.admitted.Store(true)
		w.signal()
	}
}

// pop removes the head of the queue. Requires mu held.
func (k *keyState) pop() {
	copy(k.queue, k.queue[1:])
	k.queue[len(k.queue)-1] = nil
	k.queue = k.queue[:len(k.queue)-1]
}

// leave removes w from the queue. Requires mu held.
func (k *keyState) leave(w *waiter) {
	for i, q := range k.queue {
		if q == w {
			copy(k.queue[i:], k.queue[i+1:])
			k.queue[len(k.queue)-1] = nil
			k.queue = k.queue[:len(k.queue)-1]
			return
		}
	}
}
