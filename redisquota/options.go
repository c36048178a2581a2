package redisquota

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of the options.
const (
	// DefaultKeyPrefix starts the name of every key a Limiter writes.
	DefaultKeyPrefix = "ratekit:"
	// DefaultTimeout bounds each call to Redis. A request waits at most this long for a Redis that hangs
	// before it is decided locally.
	DefaultTimeout = 50 * time.Millisecond
	// DefaultExpiryMargin is how long a key's state outlives its pause and its pace's debt: a fleet idle for
	// longer forgets the pace it learned, as LocalLimiter forgets a key idle for 10 minutes.
	DefaultExpiryMargin = 10 * time.Minute
	// DefaultPeerWindow is how recently an instance must have used a key to count as one of its peers.
	DefaultPeerWindow = time.Minute
	// DefaultFallbackShare is the share of the fleet's pace an instance takes while Redis is down when it
	// never learned how many peers it has.
	DefaultFallbackShare = 0.25
	// DefaultRetryInterval is how often a Limiter whose Redis is down tries it again.
	DefaultRetryInterval = time.Second
)

// Option configures a Limiter (see New).
type Option func(*config)

// config is what the options set.
type config struct {
	prefix        string
	timeout       time.Duration
	margin        time.Duration
	peerWindow    time.Duration
	fallbackShare float64
	retryInterval time.Duration
	instanceID    string
	instanceIDSet bool // WithInstanceID was used: "" is then an error, not "the default"
	onFallback    func(error)
	onRecover     func()
}

// WithKeyPrefix sets the start of every key name (default DefaultKeyPrefix, "ratekit:"). Limiters share a
// key's pace only when they have the same prefix. It may not contain '{' or '}' (the Limiter adds the hash
// tag).
func WithKeyPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithTimeout bounds every call to Redis (default DefaultTimeout, 50 ms); a call that takes longer counts as
// a failure, and the request is decided locally. It must be more than 0. The client must have
// ContextTimeoutEnabled for the bound to cut a read from a Redis that hangs (New checks it).
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithExpiryMargin sets how long a key's state outlives its pause and its pace's debt (default
// DefaultExpiryMargin, 10 minutes). Make it longer than the clock differences between the fleet's members;
// a shorter margin frees memory sooner but forgets a learned pace sooner too. It must be 1 ms or more.
func WithExpiryMargin(d time.Duration) Option {
	return func(c *config) { c.margin = d }
}

// WithPeerWindow sets how recently an instance must have used a key to count as one of its peers (default
// DefaultPeerWindow, 1 minute). Longer is safer: a peer counted too many only makes the shares smaller
// while Redis is down. It must be 1 ms or more.
func WithPeerWindow(d time.Duration) Option {
	return func(c *config) { c.peerWindow = d }
}

// WithFallbackShare sets the share of the fleet's pace an instance takes while Redis is down, for a key
// whose number of peers it never learned (default DefaultFallbackShare, 1/4: right for a fleet of up to 4).
// It must be more than 0 and at most 1.
func WithFallbackShare(share float64) Option {
	return func(c *config) { c.fallbackShare = share }
}

// WithRetryInterval sets how often a Limiter whose Redis is down tries it again (default
// DefaultRetryInterval, 1 s): one request at a time tries, the others are decided locally at once, so a dead
// Redis does not cost every request a timeout. It must be more than 0.
func WithRetryInterval(d time.Duration) Option {
	return func(c *config) { c.retryInterval = d }
}

// WithInstanceID names this Limiter among the members of the fleet (default: host name, process ID and a
// random suffix, "web-3:4121:9f2c01ab"). Each Limiter must have its own. It may not be empty.
func WithInstanceID(id string) Option {
	return func(c *config) { c.instanceID, c.instanceIDSet = id, true }
}

// WithOnFallback sets a function called when the Limiter stops reaching Redis and starts deciding locally,
// with the error that made it switch; once per switch. It is called from a request's goroutine, which it
// delays: keep it short. Nil: nothing is called.
func WithOnFallback(fn func(err error)) Option {
	return func(c *config) { c.onFallback = fn }
}

// WithOnRecover sets a function called when Redis answers again after a fallback; once per switch. It is
// called from a request's goroutine, which it delays: keep it short. Nil: nothing is called.
func WithOnRecover(fn func()) Option {
	return func(c *config) { c.onRecover = fn }
}

// newConfig applies opts to the defaults and checks the result; client is checked for
// ContextTimeoutEnabled.
func newConfig(client redis.UniversalClient, opts []Option) (config, error) {
	c := config{
		prefix:        DefaultKeyPrefix,
		timeout:       DefaultTimeout,
		margin:        DefaultExpiryMargin,
		peerWindow:    DefaultPeerWindow,
		fallbackShare: DefaultFallbackShare,
		retryInterval: DefaultRetryInterval,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	if client == nil {
		return c, errors.New("redisquota: New: client is nil: want a Redis client (redis.NewClient, redis.NewClusterClient, redis.NewUniversalClient)")
	}
	if !contextTimeoutEnabled(client) {
		return c, errors.New("redisquota: New: the client's ContextTimeoutEnabled is false: want true " +
			"(redis.Options{ContextTimeoutEnabled: true}), so that the per-call timeout cuts a Redis that hangs; " +
			"without it every request would wait for the client's ReadTimeout")
	}
	switch {
	case strings.ContainsAny(c.prefix, "{}"):
		return c, fmt.Errorf("redisquota: New: key prefix %q: want no '{' or '}' (the Limiter adds the hash tag)", c.prefix)
	case c.timeout <= 0:
		return c, fmt.Errorf("redisquota: New: timeout %v: want more than 0", c.timeout)
	case c.margin < time.Millisecond:
		return c, fmt.Errorf("redisquota: New: expiry margin %v: want 1ms or more", c.margin)
	case c.peerWindow < time.Millisecond:
		return c, fmt.Errorf("redisquota: New: peer window %v: want 1ms or more", c.peerWindow)
	case !(c.fallbackShare > 0 && c.fallbackShare <= 1):
		return c, fmt.Errorf("redisquota: New: fallback share %v: want more than 0 and at most 1 (1/4 for a fleet of 4)", c.fallbackShare)
	case c.retryInterval <= 0:
		return c, fmt.Errorf("redisquota: New: retry interval %v: want more than 0", c.retryInterval)
	case c.instanceID == "" && c.instanceIDSet:
		return c, errors.New(`redisquota: New: instance ID "": want a name unique in the fleet`)
	}
	if c.instanceID == "" {
		c.instanceID = defaultInstanceID()
	}
	return c, nil
}

// contextTimeoutEnabled reports whether the client lets a context deadline cut its reads. Clients of other
// types (wrappers) cannot be inspected; they are trusted.
func contextTimeoutEnabled(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// defaultInstanceID names an instance by host, process and a random suffix.
func defaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return host + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(b[:])
}

// share is the part of the fleet's pace an instance takes alone: 1/peers, or the fallback share when the
// number of peers is unknown (0).
func (c *config) share(peers int) float64 {
	if peers <= 0 {
		return c.fallbackShare
	}
	return 1 / float64(peers)
}
