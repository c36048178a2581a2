package mockserver

import (
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRenderingWritesValuesAsConfigured replays one request pattern (a token bucket of 10 at 50/s, hit at
// 0.3345 s after the epoch-aligned bubble start so that no value is whole) under each rendering, and checks
// the bytes of the headers it changes.
func TestRenderingWritesValuesAsConfigured(t *testing.T) {
	bucket := Rule{Algorithm: TokenBucket, Policy: Policy{Limit: 50, Window: time.Second, Burst: 10}}
	window := Rule{Algorithm: FixedWindow, Policy: Policy{Limit: 3, Window: 10 * time.Second}}
	counter := Rule{Algorithm: SlidingWindowCounter, Policy: Policy{Limit: 3, Window: 10 * time.Second}, AnchorOffset: 2 * time.Second}
	cases := []struct {
		name     string
		rule     Rule
		cfg      Config
		requests int // at 0.3345 s
		want     map[string]string
	}{
		// 11 requests: the 11th is rejected, 10 tokens missing until full: 200 ms; the wait 20 ms.
		{"Defaults", bucket, Config{Dialect: DialectXRateLimit}, 11,
			map[string]string{"X-Ratelimit-Limit": "50", "X-Ratelimit-Reset": "1", "Retry-After": "1"}},
		{"DelaysDown", bucket, Config{Dialect: DialectXRateLimit, Render: Rendering{DelayRounding: RoundDown}}, 11,
			map[string]string{"X-Ratelimit-Reset": "0", "Retry-After": "0"}},
		{"Millis", bucket, Config{Dialect: DialectXRateLimit, Render: Rendering{Precision: PrecisionMillis}}, 11,
			map[string]string{"X-Ratelimit-Reset": "0.200", "Retry-After": "0.020"}},
		{"Fractional", bucket, Config{Dialect: DialectXRateLimit, RetryAfter: RetryAfterFractional}, 11,
			map[string]string{"Retry-After": "0.020", "X-Ratelimit-Reset": "1"}},
		{"Window", bucket, Config{Dialect: DialectXRateLimit, RetryAfter: RetryAfterWindow}, 11, map[string]string{"Retry-After": "1"}},
		{"NoRetryAfter", bucket, Config{Dialect: DialectXRateLimit, RetryAfter: RetryAfterNone}, 11, map[string]string{"Retry-After": ""}},
		{"HTTPDateDown", bucket, Config{Dialect: DialectXRateLimit, RetryAfter: RetryAfterHTTPDate, Render: Rendering{EpochRounding: RoundDown}}, 11,
			map[string]string{"Retry-After": "Sat, 01 Jan 2000 00:00:00 GMT"}},
		// Epochs: 946684800.3345 + 0.2 = .5345
		{"EpochUp", bucket, Config{Dialect: DialectXRateLimit, Render: Rendering{ResetAs: "epoch"}}, 11,
			map[string]string{"X-Ratelimit-Reset": "946684801"}},
		{"EpochDown", bucket, Config{Dialect: DialectXRateLimit, Render: Rendering{ResetAs: "epoch", EpochRounding: RoundDown}}, 11,
			map[string]string{"X-Ratelimit-Reset": "946684800"}},
		{"EpochNearestMillis", bucket, Config{Dialect: DialectXRateLimit, Render: Rendering{ResetAs: "epoch", EpochRounding: RoundNearest, Precision: PrecisionMillis}}, 11,
			map[string]string{"X-Ratelimit-Reset": "946684800.535"}},
		{"EpochMillisForm", bucket, Config{Dialect: DialectXRateLimit, Render: Rendering{ResetAs: "epoch-ms", EpochRounding: RoundDown}}, 11,
			map[string]string{"X-Ratelimit-Reset": "946684800534"}},
		// One request: 9 tokens left; the next unit drips in 20 ms, the bucket is full in 20 ms.
		{"NextUnit", bucket, Config{Dialect: DialectIETFLegacy, Render: Rendering{Reset: ResetNextUnit, Precision: PrecisionMillis}}, 3,
			map[string]string{"Ratelimit-Remaining": "7", "Ratelimit-Reset": "0.020"}},
		{"UntilFull", bucket, Config{Dialect: DialectIETFLegacy, Render: Rendering{Precision: PrecisionMillis}}, 3,
			map[string]string{"Ratelimit-Reset": "0.060"}},
		{"Constant", bucket, Config{Dialect: DialectIETFLegacy, Render: Rendering{Reset: ResetConstant, ResetConstant: 5 * time.Second}}, 3,
			map[string]string{"Ratelimit-Reset": "5"}},
		{"LimitBurst", bucket, Config{Dialect: DialectIETFLegacy, Render: Rendering{Limit: LimitBurst}}, 1, map[string]string{"Ratelimit-Limit": "10"}},
		{"LimitRateFloat", window, Config{Dialect: DialectIETFLegacy, Render: Rendering{Limit: LimitRate, LimitFormat: LimitFloat}}, 1,
			map[string]string{"Ratelimit-Limit": "0.30"}},
		{"LimitQuotaFloat", bucket, Config{Dialect: DialectGitHub, Render: Rendering{LimitFormat: LimitFloat}}, 1,
			map[string]string{"X-Ratelimit-Limit": "50.00", "X-Ratelimit-Used": "41"}},
		// The counter's windows start at 2 s + 10 k s: now (0.3345 s) is in [-8 s, 2 s), which ends in 1.6655 s;
		// until full is 2 windows on.
		{"WindowEnd", counter, Config{Dialect: DialectIETFLegacy, Render: Rendering{Reset: ResetWindowEnd, Precision: PrecisionMillis}}, 1,
			map[string]string{"Ratelimit-Reset": "1.666"}},
		{"CounterUntilFull", counter, Config{Dialect: DialectIETFLegacy, Render: Rendering{Precision: PrecisionMillis}}, 1,
			map[string]string{"Ratelimit-Reset": "11.666"}},
		{"Tollbooth", bucket, Config{Dialect: DialectTollbooth}, 1,
			map[string]string{"X-Rate-Limit-Limit": "50.00", "X-Rate-Limit-Duration": "1", "X-Rate-Limit-Request-Remote-Addr": "192.0.2.1:1234",
				"X-Rate-Limit-Request-Forwarded-For": "203.0.113.9", "Ratelimit-Limit": "50", "Ratelimit-Remaining": "9"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := tc.cfg
				cfg.Tiers = []Tier{{Name: "t", Rules: []Rule{tc.rule}}}
				h, err := NewHandler(cfg)
				require.NoError(t, err)
				time.Sleep(334500 * time.Microsecond)
				var rec *httptest.ResponseRecorder
				for range tc.requests {
					req := httptest.NewRequest("GET", "/", nil)
					req.RemoteAddr = "192.0.2.1:1234"
					req.Header.Set("X-Forwarded-For", "203.0.113.9")
					rec = httptest.NewRecorder()
					h.ServeHTTP(rec, req)
				}
				for name, want := range tc.want {
					assert.Equal(t, want, rec.Header().Get(name), name)
				}
			})
		})
	}
}

// TestRenderingBadValuesNameTheField checks that every Rendering field and rule option refuses a bad value
// with the field's name and the allowed values.
func TestRenderingBadValuesNameTheField(t *testing.T) {
	fw := func(r Rule) []Tier {
		r.Policy = Policy{Limit: 5, Window: time.Second, Burst: r.Policy.Burst}
		if r.Algorithm == "" {
			r.Algorithm = FixedWindow
		}
		return []Tier{{Name: "t", Rules: []Rule{r}}}
	}
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Render: Rendering{DelayRounding: "ceil"}}, `Config.Render.DelayRounding: unknown rounding "ceil" (allowed: up, down, nearest)`},
		{Config{Render: Rendering{EpochRounding: "floor"}}, `Config.Render.EpochRounding: unknown rounding "floor" (allowed: up, down, nearest)`},
		{Config{Render: Rendering{Precision: "us"}}, `Config.Render.Precision: unknown precision "us" (allowed: s, ms)`},
		{Config{Render: Rendering{Reset: "end"}}, `Config.Render.Reset: unknown reset meaning "end" (allowed: until-full, next-unit, window-end, constant)`},
		{Config{Render: Rendering{ResetConstant: time.Second}}, `Config.Render.ResetConstant: 1s is set but Render.Reset is "until-full"`},
		{Config{Render: Rendering{Reset: ResetConstant, ResetConstant: -time.Second}}, `Config.Render.ResetConstant: -1s is negative`},
		{Config{Render: Rendering{ResetAs: "unix"}}, `Config.Render.ResetAs: unknown reset form "unix" (allowed: delta, delta-ms, epoch, epoch-ms)`},
		{Config{Render: Rendering{Limit: "max"}}, `Config.Render.Limit: unknown limit meaning "max" (allowed: quota, burst, rate)`},
		{Config{Render: Rendering{LimitFormat: "decimal"}}, `Config.Render.LimitFormat: unknown limit format "decimal" (allowed: integer, float)`},
		{Config{Tiers: fw(Rule{Anchor: "midnight"})}, `Config.Tiers[0].Rules[0].Anchor: unknown anchor "midnight" (allowed: epoch, first-request, start)`},
		{Config{Tiers: fw(Rule{Algorithm: GCRA, Anchor: AnchorEpoch})}, `Config.Tiers[0].Rules[0].Anchor: gcra has no windows`},
		{Config{Tiers: fw(Rule{Algorithm: SlidingWindowCounter, Anchor: AnchorFirstRequest})}, `Config.Tiers[0].Rules[0].Anchor: anchor "first-request" applies to fixed-window only`},
		{Config{Tiers: fw(Rule{Anchor: AnchorFirstRequest, AnchorOffset: time.Millisecond})}, `Config.Tiers[0].Rules[0].AnchorOffset: want 0 with anchor "first-request"`},
		{Config{Tiers: fw(Rule{Algorithm: TokenBucket, CountRejected: true})}, `Config.Tiers[0].Rules[0].CountRejected: applies to fixed-window and sliding-window-counter, not token-bucket`},
		{Config{Tiers: fw(Rule{RoundEstimate: true})}, `Config.Tiers[0].Rules[0].RoundEstimate: applies to sliding-window-counter, not fixed-window`},
	}
	for _, tc := range cases {
		_, err := NewHandler(tc.cfg)
		require.Error(t, err, tc.want)
		assert.Contains(t, err.Error(), tc.want)
	}
	_, err := NewMemoryStore().Allow(t.Context(), "k", []Rule{{Name: "r", Algorithm: FixedWindow, Anchor: AnchorStart,
		Policy: Policy{Limit: 1, Window: time.Second}}}, []int64{1}, time.Now(), nil)
	assert.ErrorContains(t, err, `anchor "start": NewHandler resolves it`)
}
