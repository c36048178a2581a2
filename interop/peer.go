package interop

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/ratekit/ratekit/internal/memtransport"
)

// Environment variables that turn a missing binary from a skip into a failure (CI sets both).
const (
	// RequireRedisEnv is the root module's: redis-server must be installed.
	RequireRedisEnv = "RATEKIT_REQUIRE_REDIS"
	// RequireInteropEnv makes nginx, haproxy, node (with peers/node's packages installed) and python3 with
	// Flask-Limiter and waitress required.
	RequireInteropEnv = "RATEKIT_REQUIRE_INTEROP"
)

// Peer is one real rate limiter at one policy.
type Peer struct {
	// Library names the implementation ("throttled"); Variant its configuration when a library has several
	// ("draft-7", "nodelay"), else empty.
	Library string
	Variant string
	// Version is the library's version as the module or package manager resolves it.
	Version   string
	Policy    Policy
	Algorithm Algorithm
	// Virtual is true for a peer that reads the clock only through time.Now and starts no goroutine that
	// outlives Target.Close: its batches can run inside a testing/synctest bubble, in virtual time.
	Virtual bool
	// Start builds a fresh limiter (a fresh process for the loopback peers). The limiter reads the clock
	// when it is built (httprate anchors its windows then), so build it when the batch starts.
	Start func(ctx context.Context) (*Target, error)
}

// Name is the peer's label in tables: library[/variant] policy.
func (p Peer) Name() string {
	n := p.Library
	if p.Variant != "" {
		n += "/" + p.Variant
	}
	return n + " " + p.Policy.Name
}

// Ideal is the ideal time of a batch of n requests against the peer.
func (p Peer) Ideal(n int) time.Duration { return p.Algorithm.Ideal(p.Policy, n) }

// Target is a started peer: a handler served in memory, or a server on loopback.
type Target struct {
	// Handler serves the requests in memory when it is set; else URL is the base of a server.
	Handler http.Handler
	URL     string
	closers []func()
}

// Transport is how a client reaches the target: in memory for a Handler, else a fresh http.Transport (its
// own connection pool, so two batches never share connections).
func (t *Target) Transport() http.RoundTripper {
	if t.Handler != nil {
		return &memtransport.Transport{Handler: t.Handler}
	}
	return &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
}

// ItemURL is the URL a batch requests.
func (t *Target) ItemURL() string {
	if t.Handler != nil {
		return "http://peer.test/items"
	}
	return t.URL + "/items"
}

// Close stops the limiter's goroutines and processes, last started first.
func (t *Target) Close() {
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
	t.closers = nil
}

func (t *Target) onClose(f func()) { t.closers = append(t.closers, f) }

// MissingError says that a peer cannot start because a program it needs is not installed.
type MissingError struct {
	What string // "nginx", "redis-server", ...
	Hint string // how to install it
	Env  string // the variable that makes its absence a failure
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("interop: %s is not available (%s); set %s=1 to make this a failure", e.What, e.Hint, e.Env)
}

// Required reports whether the environment says the missing program must be there.
func (e *MissingError) Required() bool { return os.Getenv(e.Env) != "" }

// protected is the resource behind every Go limiter.
var protected = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
})
