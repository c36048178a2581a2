package ratekit

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTruncatedResume: a refusal whose Retry-After is 0 (a wait truncated to the second) resumes at the
// exhausted quota's reset when that is within the second, not on the rejection backoff.
func TestTruncatedResume(t *testing.T) {
	now := t0.Add(977*time.Millisecond + 200*time.Millisecond) // x.177, a window that opened at x.977
	exhausted := func(reset time.Time) Quota { return Quota{Limit: 10, Remaining: 0, Reset: reset} }
	for _, tc := range []struct {
		name    string
		obs     Observation
		want    time.Time
		wantAny bool
	}{
		{"Retry-After: 0, the epoch reset 0.82 s ahead", Observation{RetryAt: now, Quotas: []Quota{exhausted(t0.Add(2 * time.Second))}},
			t0.Add(2*time.Second + turnoverMargin), true},
		{"a reset with a fraction is the instant", Observation{RetryAt: now, Quotas: []Quota{exhausted(now.Add(300 * time.Millisecond))}},
			now.Add(300 * time.Millisecond), true},
		{"the reset more than a second ahead: not what 0 truncated", Observation{RetryAt: now, Quotas: []Quota{exhausted(now.Add(1500 * time.Millisecond))}},
			time.Time{}, false},
		{"the reset passed", Observation{RetryAt: now, Quotas: []Quota{exhausted(now.Add(-time.Second))}}, time.Time{}, false},
		{"no quota exhausted", Observation{RetryAt: now, Quotas: []Quota{{Limit: 10, Remaining: 3, Reset: now.Add(time.Second / 2)}}}, time.Time{}, false},
		{"a Retry-After ahead says when itself", Observation{RetryAt: now.Add(time.Second), Quotas: []Quota{exhausted(now.Add(300 * time.Millisecond))}},
			time.Time{}, false},
		{"no Retry-After: the reset is ResumeAt's already", Observation{Quotas: []Quota{exhausted(now.Add(300 * time.Millisecond))}}, time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := truncatedResume(tc.obs, now)
			require.Equal(t, tc.wantAny, ok)
			assert.True(t, tc.want.Equal(at), "got %v, want %v", at, tc.want)
		})
	}
}

// TestRetryAfterZeroPausesToTheReset: through the key's observation step, a 429 with Retry-After: 0 and the
// exhausted quota's whole-second reset 0.82 s ahead pauses the key to just past that reset.
func TestRetryAfterZeroPausesToTheReset(t *testing.T) {
	e := newEngine(t, &Transport{})
	now := t0.Add(1177 * time.Millisecond)
	tk := e.send(now)
	out := e.answer(tk, now.Add(time.Millisecond), http.StatusTooManyRequests, now.Add(time.Millisecond),
		Quota{Limit: 10, Remaining: 0, Reset: t0.Add(2 * time.Second)})
	require.True(t, out.rateLimited)
	assert.True(t, out.resumeAt.Equal(t0.Add(2*time.Second+turnoverMargin)), "resume at %v", out.resumeAt.Sub(t0))
	a := e.decide(now.Add(100 * time.Millisecond))
	assert.False(t, a.ready())
}
