package mockserver

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// propertyPolicies are bucket policies with awkward numbers: W / L not a whole number of ns, bursts below and
// above L, long windows, and sizes that need the 128-bit arithmetic.
var propertyPolicies = []Policy{
	{Limit: 10, Window: time.Second},
	{Limit: 3, Window: time.Second, Burst: 5},
	{Limit: 7, Window: time.Second, Burst: 3},
	{Limit: 100, Window: time.Minute, Burst: 20},
	{Limit: 1, Window: 250 * time.Millisecond},
	{Limit: 3, Window: 10 * time.Millisecond, Burst: 50},
	{Limit: 1000, Window: time.Hour, Burst: 1},
	{Limit: 1_000_000_000, Window: 24 * time.Hour, Burst: 1_000_000}, // L * now and B * W exceed 64 bits
}

// TestTokenBucketMatchesXTimeRate replays random traces through the token bucket and through
// golang.org/x/time/rate's AllowN with the same burst, and requires the same decisions.
//
// x/time/rate computes in float64 seconds, so within about 1 µs of a refill instant it may answer either way
// (ALGORITHMS.md allows it). When the two disagree, the test checks that the instant is within 1 µs of our
// refill instant, and ends that trace there (the states would differ from then on). It fails if fewer than 95%
// of the calls could be compared, so the escape cannot hide a broken bucket.
func TestTokenBucketMatchesXTimeRate(t *testing.T) {
	const tolerance = int64(time.Microsecond)
	for pi, p := range propertyPolicies {
		if p.Limit > 1_000_000 {
			continue // x/time/rate's float64 tokens are not precise enough at this size
		}
		t.Run(fmt.Sprintf("L%d/W%v/B%d", p.Limit, p.Window, p.Burst), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(pi), 7))
			capacity := p.Capacity(TokenBucket)
			tick := int64(p.Window) / p.Limit
			total, compared, boundaries := 0, 0, 0
			for range 50 {
				ours := newCoreHarness(t, TokenBucket, p)
				ref := rate.NewLimiter(rate.Limit(float64(p.Limit)/p.Window.Seconds()), int(capacity))
				calls := genCalls(rng, 200, t0.UnixNano(), tick, capacity+1)
				total += len(calls)
				for i, c := range calls {
					before := ours.clone()
					v := ours.allow(c.cost, c.at)
					refAllowed := ref.AllowN(time.Unix(0, c.at), int(c.cost))
					if v.allowed != refAllowed {
						// Only a refill instant within 1 µs may be judged differently.
						nearRefill := !v.allowed && v.retryAfter <= tolerance ||
							v.allowed && !before.peek(c.cost, c.at-tolerance).allowed
						if !nearRefill {
							t.Fatalf("call %d (cost %d at +%v): ours allowed=%v (retry %v), x/time/rate allowed=%v",
								i, c.cost, time.Duration(c.at-t0.UnixNano()), v.allowed, time.Duration(v.retryAfter), refAllowed)
						}
						boundaries++
						break
					}
					compared++
					tokens := ref.TokensAt(time.Unix(0, c.at))
					if frac := tokens - math.Floor(tokens); frac > 1e-6 && frac < 1-1e-6 && int64(tokens) != v.remaining {
						t.Fatalf("call %d: Remaining %d, x/time/rate has %.9f tokens", i, v.remaining, tokens)
					}
				}
			}
			if compared < total*95/100 {
				t.Fatalf("compared %d of %d calls (%d disagreements at refill instants); want at least 95%%", compared, total, boundaries)
			}
		})
	}
}

// TestBucketAlgorithmsAgree is the property of ALGORITHMS.md: gcra and leaky-bucket decide exactly as
// token-bucket with the same B, on random traces. Here "exactly" means every field of every decision.
func TestBucketAlgorithmsAgree(t *testing.T) {
	for pi, p := range propertyPolicies {
		t.Run(fmt.Sprintf("L%d/W%v/B%d", p.Limit, p.Window, p.Burst), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(pi), 11))
			capacity := p.Capacity(TokenBucket)
			tick := max(int64(p.Window)/p.Limit, 1)
			for trace := range 50 {
				token := newCoreHarness(t, TokenBucket, p)
				others := map[string]*coreHarness{
					GCRA:        newCoreHarness(t, GCRA, p),
					LeakyBucket: newCoreHarness(t, LeakyBucket, p),
				}
				for i, c := range genCalls(rng, 200, t0.UnixNano(), tick, capacity+1) {
					want := token.allow(c.cost, c.at)
					for alg, h := range others {
						if got := h.allow(c.cost, c.at); got != want {
							t.Fatalf("trace %d call %d (cost %d at +%v): %s %+v, token-bucket %+v",
								trace, i, c.cost, time.Duration(c.at-t0.UnixNano()), alg, got, want)
						}
					}
				}
			}
		})
	}
}

// TestQueueAdmitsAsGCRA: for requests of cost 1, the leaky-bucket-queue with burst B admits exactly what gcra
// with burst B + 1 admits (the request being served plus B held), with the same RetryAfter: an independent
// check of the queue's arithmetic.
func TestQueueAdmitsAsGCRA(t *testing.T) {
	for pi, p := range propertyPolicies {
		if p.Capacity(LeakyBucketQueue) > 1_000 {
			continue
		}
		t.Run(fmt.Sprintf("L%d/W%v/B%d", p.Limit, p.Window, p.Burst), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(pi), 13))
			g := p
			g.Burst = p.Capacity(LeakyBucketQueue) + 1
			tick := max(int64(p.Window)/p.Limit, 1)
			for trace := range 20 {
				queue := newCoreHarness(t, LeakyBucketQueue, p)
				gcra := newCoreHarness(t, GCRA, g)
				for i, c := range genCalls(rng, 200, t0.UnixNano(), tick, 1) {
					q, want := queue.allow(1, c.at), gcra.allow(1, c.at)
					if q.allowed != want.allowed || q.retryAfter != want.retryAfter {
						t.Fatalf("trace %d call %d (at +%v): queue allowed=%v retry %v, gcra(B+1) allowed=%v retry %v",
							trace, i, time.Duration(c.at-t0.UnixNano()), q.allowed, q.retryAfter, want.allowed, want.retryAfter)
					}
					// The queue holds the request for max(next free, now) - now, which is GCRA's TAT before the
					// request: its Reset after it, less one emission interval (when that is a whole ns).
					if exact := int64(p.Window)%p.Limit == 0; exact && q.allowed && q.delay != want.reset-tick-c.at {
						t.Fatalf("trace %d call %d: queue delay %v, want %v", trace, i, time.Duration(q.delay),
							time.Duration(want.reset-tick-c.at))
					}
				}
			}
		})
	}
}
