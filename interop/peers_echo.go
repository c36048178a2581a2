package interop

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// echoVersion is the version go.mod pins (checked by TestVersionsMatchGoMod).
const echoVersion = "v4.16.5"

// echoLibrary is the peer's Library: its rows are "echo 50/s", ...
const echoLibrary = "echo"

// echoExpiresIn is the memory store's ExpiresIn, the value of echo's docs (and its default): a visitor
// unseen for that long is dropped by the next request's cleanup. No batch pauses that long.
const echoExpiresIn = 3 * time.Minute

// EchoRateLimiter is labstack/echo v4's middleware.RateLimiter with its RateLimiterMemoryStore, configured
// as echo's docs show (RateLimiterWithConfig, NewRateLimiterMemoryStoreWithConfig with Rate, Burst and
// ExpiresIn), its other handlers left at their defaults: keyed by RealIP (the peer address: without an
// IPExtractor, v4.16 reads no forwarding header), a 429 with the JSON body {"message":"rate limit
// exceeded"} and no rate-limit header at all. The store is an x/time/rate token bucket per identifier
// (Burst tokens, Rate per second), read through time.Now on every request; it starts no goroutine (its
// cleanup of stale visitors runs inside Allow), so it runs in a synctest bubble, in virtual time.
func EchoRateLimiter(p Policy) Peer {
	return Peer{Library: echoLibrary, Version: echoVersion, Policy: p, Algorithm: TokenBucket, Virtual: true,
		Start: func(context.Context) (*Target, error) {
			store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
				Rate:      rate.Limit(float64(p.Limit) / p.Window.Seconds()),
				Burst:     p.Burst,
				ExpiresIn: echoExpiresIn,
			})
			e := echo.New()
			e.HideBanner, e.HidePort = true, true
			e.Use(middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{Store: store}))
			e.GET("/items", echo.WrapHandler(protected))
			return inProcess(e), nil
		}}
}
