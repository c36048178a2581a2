package ratekit

import (
	"context"
	"math"
	"time"

	"github.com/ratekit/ratekit/internal/ctxsleep"
)

// reserveShared waits for the key's shared pace (Transport.Limiter), publishing what the key learned since
// its last request. If the shared state cannot be reached, the request goes on with the local pace alone.
func (k *keyState) reserveShared(ctx context.Context, s *settings, ev WaitEvent, cost int64, now time.Time) error {
	var reported time.Duration
	for {
		learned := k.takePending()
		wait, err := s.limiter.Reserve(ctx, k.name, cost, learned, now)
		if err != nil {
			k.restorePending(learned)
			return ctx.Err()
		}
		if wait <= 0 {
			return nil
		}
		a := admission{wait: wait, reason: WaitFleet}
		if e := a.refusal(ctx, k.name, s.maxWait, now); e != nil {
			return e
		}
		if s.onWait != nil && wait > reported+time.Millisecond {
			reported = wait
			ev.Wait, ev.Reason = wait, a.reason
			s.onWait(ev)
		}
		if err := ctxsleep.Sleep(ctx, wait); err != nil {
			return err
		}
		now = time.Now()
	}
}

// publish tells the fleet at once what a rejection taught: a pause is news for the whole fleet now, not at
// this process's next request. If it cannot be published, it stays pending for the next reservation.
func (k *keyState) publish(ctx context.Context, s *settings, now time.Time) {
	learned := k.takePending()
	if _, err := s.limiter.Reserve(ctx, k.name, 0, learned, now); err != nil {
		k.restorePending(learned)
	}
}

// takePending returns what the key learned for the fleet since it last published, and forgets it.
func (k *keyState) takePending() *Pace {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := k.pending
	k.pending = nil
	return p
}

// restorePending puts back what could not be published, unless something newer was learned meanwhile.
func (k *keyState) restorePending(p *Pace) {
	if p == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pending == nil {
		k.pending = p
	}
}

// fleetPace is the key's pace in the form a fleet shares: the slowest of its buckets' paces (what the
// bucket holds, spread to its reset, plus what comes back meanwhile), and the pause, including an exhausted
// window's wait for its reset. Requires mu held.
func (k *keyState) fleetPace(now time.Time) *Pace {
	p := &Pace{PausedUntil: k.pausedUntil}
	rate := math.Inf(1)
	for _, b := range k.buckets {
		if !b.known() || b.mode == modeConcurrent || b.reset.IsZero() || b.dimension != "requests" {
			continue
		}
		have := max(b.available(now), 0)
		until := b.reset.Sub(now).Seconds()
		var r float64
		switch {
		case until <= 0:
			continue
		case b.mode == modeFixed && have < 1:
			// Nothing until the reset; then a window's worth over a window.
			if b.reset.After(p.PausedUntil) {
				p.PausedUntil = b.reset
			}
			if b.limit <= 0 || b.longest <= 0 {
				continue
			}
			r = float64(b.limit) / b.longest.Seconds()
		case b.mode == modeFixed:
			r = have / until
		default:
			r = b.rate + have/until
		}
		rate = min(rate, r)
	}
	if !math.IsInf(rate, 1) && rate > 0 {
		p.Rate = rate
		p.Burst = max(1, rate/2) // half a second's worth: even pacing across the fleet
	}
	return p
}
