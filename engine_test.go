package ratekit

import (
	"net/http"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The key's pure cores, decide and observe, driven at fixed instants t0 + n ms the way x/time/rate's tests
// are: no clock, no goroutine, no I/O.

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// engine drives one keyState through admissions and answers.
type engine struct {
	t *testing.T
	s *settings
	k *keyState
}

func newEngine(t *testing.T, tr *Transport) *engine {
	t.Helper()
	s, err := newSettings(tr)
	require.NoError(t, err)
	return &engine{t: t, s: s, k: newKeyState("k", "api.test", s, t0)}
}

// send admits one request of cost 1 at now, which must be allowed.
func (e *engine) send(now time.Time) *ticket {
	e.t.Helper()
	c := e.s.costsOf(nilRequest, e.k.dimensions())
	a := e.k.decide(&c, now)
	require.Truef(e.t, a.ready(), "at %v: %+v, want ready", now.Sub(t0), a)
	tk := e.k.admitNow(&c, now, false)
	return &tk
}

// answer ends tk with a response of status and quotas at now.
func (e *engine) answer(tk *ticket, now time.Time, status int, retryAt time.Time, qs ...Quota) outcome {
	e.k.end(tk, now)
	return e.k.observe(e.s, tk, answer{responded: true, status: status, obs: Observation{RetryAt: retryAt, Quotas: qs}}, now)
}

func (e *engine) decide(now time.Time) admission {
	c := e.s.costsOf(nilRequest, e.k.dimensions())
	return e.k.decide(&c, now)
}

var nilRequest = mustRequest()

func mustRequest() *http.Request {
	r, err := http.NewRequest(http.MethodGet, "https://api.test/", nil)
	if err != nil {
		panic(err)
	}
	return r
}

// constantBackoff backs off d every time.
func constantBackoff(d time.Duration) func() backoff.BackOff {
	return func() backoff.BackOff { return backoff.NewConstantBackOff(d) }
}

func quota(limit, remaining int64, reset time.Time) Quota {
	return Quota{Dimension: "requests", Limit: limit, Remaining: remaining, Reset: reset}
}

func TestDecideAtFixedInstants(t *testing.T) {
	type step struct {
		at      int // ms after t0
		send    bool
		status  int // answer the last request sent with this status (0: none)
		retryAt int // ms, when the answer has a Retry-After
		quota   *Quota
		// expected decision after the step
		wait    time.Duration
		unknown bool
		reason  WaitReason
	}
	q := func(limit, remaining int64, resetMs int) *Quota { x := quota(limit, remaining, ms(resetMs)); return &x }
	for _, tc := range []struct {
		name  string
		tr    *Transport
		steps []step
	}{
		{"a new key sends a probe alone", &Transport{}, []step{
			{at: 0, send: true, unknown: true, reason: WaitProbe},
			{at: 10, status: 200, quota: q(10, 9, 1000), wait: 0},
		}},
		{"an exhausted quota waits for its reset", &Transport{}, []step{
			{at: 0, send: true, unknown: true, reason: WaitProbe},
			{at: 0, status: 200, quota: q(10, 0, 60_000), wait: time.Minute, reason: WaitQuota},
			{at: 30_000, wait: 30 * time.Second, reason: WaitQuota},
			{at: 60_000, wait: 0},
		}},
		{"a Retry-After pauses the key until it", &Transport{}, []step{
			{at: 0, send: true, unknown: true, reason: WaitProbe},
			{at: 20, status: 429, retryAt: 3020, wait: 3 * time.Second, reason: WaitServerPause},
			{at: 3019, wait: time.Millisecond, reason: WaitServerPause},
			{at: 3020, wait: 0},
		}},
		{"a bare rejection backs off", &Transport{Backoff: constantBackoff(700 * time.Millisecond)}, []step{
			{at: 0, send: true, unknown: true, reason: WaitProbe},
			{at: 10, status: 429, wait: 700 * time.Millisecond, reason: WaitRejectionBackoff},
			{at: 710, wait: 0},
		}},
		{"the local ceiling paces", &Transport{Limit: 2}, []step{
			{at: 0, send: true, unknown: true, reason: WaitProbe},
			{at: 10, status: 200, wait: 490 * time.Millisecond, reason: WaitLocalLimit},
			{at: 500, wait: 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, tc.tr)
			var last *ticket
			for i, st := range tc.steps {
				now := ms(st.at)
				if st.send {
					last = e.send(now)
				}
				if st.status != 0 {
					var retryAt time.Time
					if st.retryAt != 0 {
						retryAt = ms(st.retryAt)
					}
					var qs []Quota
					if st.quota != nil {
						qs = append(qs, *st.quota)
					}
					e.answer(last, now, st.status, retryAt, qs...)
				}
				a := e.decide(now)
				assert.Equalf(t, st.wait, a.wait, "step %d at %dms: wait", i, st.at)
				assert.Equalf(t, st.unknown, a.unknown, "step %d at %dms: unknown", i, st.at)
				if st.wait > 0 || st.unknown {
					assert.Equalf(t, st.reason, a.reason, "step %d at %dms: reason %v", i, st.at, a.reason)
				}
			}
		})
	}
}

func TestObserveAtFixedInstants(t *testing.T) {
	t.Run("a stale report never raises what a newer one lowered", func(t *testing.T) {
		e := newEngine(t, &Transport{})
		probe := e.send(ms(0))
		e.answer(probe, ms(10), 200, time.Time{}, quota(100, 90, ms(60_000)))
		a, b := e.send(ms(10)), e.send(ms(10))
		e.answer(b, ms(20), 200, time.Time{}, quota(100, 80, ms(60_000))) // the newer count
		e.answer(a, ms(30), 200, time.Time{}, quota(100, 89, ms(60_000))) // processed earlier, answered later
		assert.LessOrEqual(t, e.k.buckets[0].view(ms(30)).Remaining, int64(80))
	})
	t.Run("a rejection is counted and pauses", func(t *testing.T) {
		e := newEngine(t, &Transport{})
		out := e.answer(e.send(ms(0)), ms(5), 429, ms(2005), quota(10, 0, ms(2005)))
		assert.True(t, out.rateLimited)
		assert.Equal(t, ms(2005), e.k.pausedUntil)
		assert.Equal(t, WaitServerPause, e.k.pauseReason)
		assert.Equal(t, int64(1), e.k.rejected)
	})
	t.Run("a Retry-After promises the refused request, whatever its cost", func(t *testing.T) {
		// Anthropic's output tokens, 8,000 a minute, at 1,000 a request: the 9th of a burst, sent before the
		// 8th's answer said 0 remain, is refused with Retry-After: 8 (7.5 s, rounded up). The request comes
		// back then, not when 1,000 tokens have refilled at the one token per 8 s a unit's promise would
		// imply (CI saw "pacing for 2h13m12s").
		tokens := func(req *http.Request, dim string) int64 {
			if dim == "output-tokens" {
				return 1000
			}
			return DefaultCost(req, dim)
		}
		e := newEngine(t, &Transport{CostFunc: tokens})
		out := func(remaining int64) Quota {
			return Quota{Dimension: "output-tokens", Limit: 8000, Remaining: remaining, Reset: ms(60_000)}
		}
		e.answer(e.send(ms(0)), ms(0), 200, time.Time{}, out(7000))
		c := e.s.costsOf(nilRequest, e.k.dimensions())
		late := e.k.admitNow(&c, ms(0), false) // let through before the bucket knew it was empty
		e.answer(e.send(ms(0)), ms(0), 200, time.Time{}, out(0))
		e.answer(&late, ms(0), 429, ms(8000), out(0))
		a := e.decide(ms(0))
		assert.Equal(t, 8*time.Second, a.wait, "the wait after the refusal (reason %v)", a.reason)
		a = e.decide(ms(8000))
		assert.Zero(t, a.wait, "the wait at the Retry-After (reason %v)", a.reason)
	})
	t.Run("a 503 without Retry-After is an error, not a rate limit", func(t *testing.T) {
		e := newEngine(t, &Transport{})
		out := e.answer(e.send(ms(0)), ms(5), 503, time.Time{})
		assert.False(t, out.rateLimited)
		assert.True(t, e.k.pausedUntil.IsZero())
	})
}

func TestSettingsNameTheBadField(t *testing.T) {
	for _, tc := range []struct {
		tr    *Transport
		field string
	}{
		{&Transport{Limit: -1}, "Transport.Limit"},
		{&Transport{Burst: -2}, "Transport.Burst"},
		{&Transport{QuotaLowThreshold: 1.5}, "Transport.QuotaLowThreshold"},
		{&Transport{IdleTimeout: -time.Second}, "Transport.IdleTimeout"},
		{&Transport{ResetFormats: map[string]ResetFormat{"x": 99}}, `Transport.ResetFormats["x"]`},
	} {
		t.Run(tc.field, func(t *testing.T) {
			_, err := newSettings(tc.tr)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
		})
	}
	s, err := newSettings(&Transport{})
	require.NoError(t, err)
	assert.Equal(t, defaultMaxRetries, s.maxRetries)
	assert.Equal(t, defaultMaxErrorRetries, s.maxErrorRetries)
	assert.Equal(t, defaultMaxWait, s.maxWait)
}
