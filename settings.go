package ratekit

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/time/rate"
)

// settings are a Transport's fields resolved once, at its first request: defaults applied, values checked.
// The per-key code sees settings, never the *Transport, so what it reads cannot change under it.
type settings struct {
	base            http.RoundTripper
	keyFunc         func(*http.Request) string // nil: the default, KeyByHost without allocating
	costFunc        func(*http.Request, string) int64
	limit           rate.Limit // 0: no ceiling
	burst           int
	maxRetries      int           // after rate-limit answers
	maxErrorRetries int           // after 5xx answers and network errors
	maxWait         time.Duration // 0: no limit
	makeBackoff     func() backoff.BackOff
	retryBudget     float64 // negative: no budget
	resetFormats    map[string]ResetFormat
	limiter         Limiter
	idleTimeout     time.Duration
	quotaLow        float64

	onWait     func(WaitEvent)
	onRetry    func(RetryEvent)
	onQuota    func(QuotaEvent)
	onQuotaLow func(QuotaEvent)
}

// Defaults of the Transport's fields, for their zero values.
const (
	defaultMaxRetries      = 10
	defaultMaxErrorRetries = 3
	defaultMaxWait         = 2 * time.Minute
	defaultRetryBudget     = 0.2
	defaultIdleTimeout     = 10 * time.Minute
	defaultQuotaLow        = 0.8
)

// newSettings resolves t's fields, or names the first field whose value cannot be used.
func newSettings(t *Transport) (*settings, error) {
	s := &settings{
		base: t.Base, keyFunc: t.KeyFunc, costFunc: t.CostFunc, limit: t.Limit, burst: max(t.Burst, 1),
		maxRetries:      retriesOf(t.MaxRetries, defaultMaxRetries),
		maxErrorRetries: retriesOf(t.MaxErrorRetries, defaultMaxErrorRetries),
		maxWait:         t.MaxWait, makeBackoff: t.Backoff, retryBudget: t.RetryBudget,
		resetFormats: t.ResetFormats, limiter: t.Limiter, idleTimeout: t.IdleTimeout,
		quotaLow: t.QuotaLowThreshold,
		onWait:   t.OnWait, onRetry: t.OnRetry, onQuota: t.OnQuota, onQuotaLow: t.OnQuotaLow,
	}
	if s.base == nil {
		s.base = http.DefaultTransport
	}
	switch {
	case math.IsNaN(float64(t.Limit)) || t.Limit < 0:
		return nil, &ConfigError{Field: "Transport.Limit", Value: fmtFloat(float64(t.Limit)), Allowed: []string{"0 (the default, no ceiling)", "a positive rate", "rate.Inf"}}
	case t.Burst < 0:
		return nil, &ConfigError{Field: "Transport.Burst", Value: strconv.Itoa(t.Burst), Allowed: []string{"0 (the default, 1)", "a positive count"}}
	case math.IsNaN(t.RetryBudget) || math.IsInf(t.RetryBudget, 0):
		return nil, &ConfigError{Field: "Transport.RetryBudget", Value: fmtFloat(t.RetryBudget), Allowed: []string{"0 (the default, 0.2)", "a positive ratio", "a negative number (no budget)"}}
	case math.IsNaN(t.QuotaLowThreshold) || t.QuotaLowThreshold < 0 || t.QuotaLowThreshold > 1:
		return nil, &ConfigError{Field: "Transport.QuotaLowThreshold", Value: fmtFloat(t.QuotaLowThreshold), Allowed: []string{"0 (the default, 0.8)", "a fraction in (0, 1]"}}
	case t.IdleTimeout < 0:
		return nil, &ConfigError{Field: "Transport.IdleTimeout", Value: t.IdleTimeout.String(), Allowed: []string{"0 (the default, 10m)", "a positive duration"}}
	}
	for host, f := range t.ResetFormats {
		if f > ResetDate {
			return nil, &ConfigError{Field: "Transport.ResetFormats[" + strconv.Quote(host) + "]", Value: strconv.Itoa(int(f)), Allowed: []string{"a ResetFormat constant"}}
		}
	}
	switch {
	case s.maxWait < 0:
		s.maxWait = 0
	case s.maxWait == 0:
		s.maxWait = defaultMaxWait
	}
	if s.retryBudget == 0 {
		s.retryBudget = defaultRetryBudget
	}
	if s.idleTimeout == 0 {
		s.idleTimeout = defaultIdleTimeout
	}
	if s.quotaLow == 0 {
		s.quotaLow = defaultQuotaLow
	}
	return s, nil
}

// retriesOf resolves a retry count: zero is the default, negative is none.
func retriesOf(n, def int) int {
	switch {
	case n < 0:
		return 0
	case n == 0:
		return def
	}
	return n
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// cost is what req costs in dimension, by CostFunc or DefaultCost, never negative. It calls user code:
// never with a key's mu held.
func (s *settings) cost(req *http.Request, dimension string) int64 {
	if s.costFunc != nil {
		return max(s.costFunc(req, dimension), 0)
	}
	return DefaultCost(req, dimension)
}

// newBackoff makes the backoff for one request's retries after errors: ±50% jitter, so that clients hit by
// the same outage spread their retries, up to 30 s.
func (s *settings) newBackoff() backoff.BackOff { return s.backoffWith(0.5, 30*time.Second) }

// newKeyBackoff makes the backoff of a key refused without a word: the probes that find when the server
// takes requests again. One probe goes at a time, so jitter matters less than landing close to the moment
// the server reopens: ±20%, and at most 10 s between probes, so a window that reopens is found within 10 s.
func (s *settings) newKeyBackoff() backoff.BackOff { return s.backoffWith(0.2, 10*time.Second) }

func (s *settings) backoffWith(jitter float64, maxInterval time.Duration) backoff.BackOff {
	if s.makeBackoff != nil {
		return s.makeBackoff()
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 500 * time.Millisecond
	b.Multiplier = 2
	b.RandomizationFactor = jitter
	b.MaxInterval = maxInterval
	b.MaxElapsedTime = 0 // the retry counts and MaxWait bound the retries
	b.Reset()
	return b
}
