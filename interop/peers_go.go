package interop

import (
	"context"
	"fmt"
	"net/http"

	"github.com/didip/tollbooth/v7"
	"github.com/go-chi/httprate"
	"github.com/sethvargo/go-limiter/httplimit"
	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/throttled/throttled/v2"
	"github.com/throttled/throttled/v2/store/memstore"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/middleware/stdlib"
	ulmemory "github.com/ulule/limiter/v3/drivers/store/memory"
)

// The versions go.mod pins (checked by TestVersionsMatchGoMod).
const (
	httprateVersion  = "v0.16.1"
	ululeVersion     = "v3.11.2"
	throttledVersion = "v2.15.0"
	tollboothVersion = "v7.0.2" // the newest major the module proxy serves (v8 is not served)
	goLimiterVersion = "v0.7.1"
)

// GoPeers are the in-process Go libraries at every policy (all but go-limiter run in virtual time).
func GoPeers() []Peer {
	var ps []Peer
	for _, p := range Policies() {
		ps = append(ps, HTTPRate(p), UluleMemory(p), Throttled(p), Tollbooth(p), EchoRateLimiter(p))
	}
	// go-limiter runs in real time: the per-second policies only.
	return append(ps, GoLimiter(PerSecond50), GoLimiter(PerSecond10))
}

func inProcess(h http.Handler, closers ...func()) *Target {
	return &Target{Handler: h, closers: closers}
}

// HTTPRate is go-chi/httprate's sliding-window counter, configured as its README shows
// (httprate.Limit(n, window)); one key for the whole client.
func HTTPRate(p Policy) Peer {
	return Peer{Library: "httprate", Version: httprateVersion, Policy: p, Algorithm: SlidingWindowCounter, Virtual: true,
		Start: func(context.Context) (*Target, error) {
			return inProcess(httprate.NewRateLimiter(p.Limit, p.Window).Handler(protected)), nil
		}}
}

// UluleMemory is ulule/limiter v3 with its memory store and its net/http middleware, keyed by client IP.
// The store's cleaner goroutine is disabled (CleanUpInterval 0): it only evicts expired keys, and it would
// outlive a synctest bubble (the library stops it from a finalizer).
func UluleMemory(p Policy) Peer {
	return Peer{Library: "ulule-limiter", Variant: "memory", Version: ululeVersion, Policy: p, Algorithm: FixedWindowFirstRequest, Virtual: true,
		Start: func(context.Context) (*Target, error) {
			store := ulmemory.NewStoreWithOptions(limiter.StoreOptions{Prefix: limiter.DefaultPrefix})
			lim := limiter.New(store, limiter.Rate{Period: p.Window, Limit: int64(p.Limit)})
			return inProcess(stdlib.NewMiddleware(lim).Handler(protected)), nil
		}}
}

// Throttled is throttled/throttled v2's GCRA with its memory store. MaxBurst is Burst-1: throttled lets
// MaxBurst+1 requests through at once (and reports that as X-RateLimit-Limit).
func Throttled(p Policy) Peer {
	return Peer{Library: "throttled", Version: throttledVersion, Policy: p, Algorithm: TokenBucket, Virtual: true,
		Start: func(context.Context) (*Target, error) {
			store, err := memstore.NewCtx(65536)
			if err != nil {
				return nil, err
			}
			rl, err := throttled.NewGCRARateLimiterCtx(store, throttled.RateQuota{
				MaxRate:  throttled.PerDuration(p.Limit, p.Window),
				MaxBurst: p.Burst - 1,
			})
			if err != nil {
				return nil, fmt.Errorf("interop: throttled: %w", err)
			}
			h := &throttled.HTTPRateLimiterCtx{RateLimiter: rl, VaryBy: &throttled.VaryBy{RemoteAddr: true}}
			return inProcess(h.RateLimit(protected)), nil
		}}
}

// Tollbooth is didip/tollbooth v7 (golang.org/x/time/rate per key, keyed by IP and path): NewLimiter with
// the rate per second, then SetBurst.
func Tollbooth(p Policy) Peer {
	return Peer{Library: "tollbooth", Version: tollboothVersion, Policy: p, Algorithm: TokenBucket, Virtual: true,
		Start: func(context.Context) (*Target, error) {
			perSecond := float64(p.Limit) / p.Window.Seconds()
			lmt := tollbooth.NewLimiter(perSecond, nil).SetBurst(p.Burst)
			return inProcess(tollbooth.LimitHandler(lmt, protected)), nil
		}}
}

// GoLimiter is sethvargo/go-limiter's memory store with its httplimit middleware, keyed by IP: Limit tokens
// per Window. Its bucket refills whole at each tick of Window since the key's first request (its fill rate
// is in nanoseconds per token, so any tick refills it all), so it is a fixed window anchored there. It reads
// the clock through a linkname to the runtime's time.now, which a synctest bubble does not fake: it runs in
// real time (in memory, no sockets). Close stops its sweeper goroutine.
func GoLimiter(p Policy) Peer {
	return Peer{Library: "go-limiter", Version: goLimiterVersion, Policy: p, Algorithm: FixedWindowFirstRequest,
		Start: func(ctx context.Context) (*Target, error) {
			store, err := memorystore.New(&memorystore.Config{Tokens: uint64(p.Limit), Interval: p.Window})
			if err != nil {
				return nil, err
			}
			mw, err := httplimit.NewMiddleware(store, httplimit.IPKeyFunc())
			if err != nil {
				return nil, err
			}
			return inProcess(mw.Handle(protected), func() { _ = store.Close(context.WithoutCancel(ctx)) }), nil
		}}
}
