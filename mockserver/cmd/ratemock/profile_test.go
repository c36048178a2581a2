package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProfileFlag runs `ratemock -profile throttled` with a burst of 3 at 600 per hour (one every 6 s, so that a
// loaded machine's wall clock refills nothing during the test) and checks throttled's headers: the burst as
// the limit, Reset and Retry-After ceiled to whole seconds, its plain-text rejection.
func TestProfileFlag(t *testing.T) {
	s := start(t, "-profile", "throttled", "-limit", "600", "-window", "1h", "-burst", "3", "-log-level", "off")
	var statuses []int
	var last http.Header
	var body string
	for range 4 {
		status, h, b := s.do(t, http.MethodGet, "/x")
		statuses = append(statuses, status)
		last, body = h, b
	}
	assert.Equal(t, []int{200, 200, 200, 429}, statuses)
	assert.Equal(t, "3", last.Get("X-Ratelimit-Limit"))
	assert.Equal(t, "0", last.Get("X-Ratelimit-Remaining"))
	assert.Equal(t, "18", last.Get("X-Ratelimit-Reset"), "3 intervals of 6 s until full, ceiled")
	assert.Equal(t, "6", last.Get("Retry-After"), "one interval, less the test's milliseconds, ceiled")
	assert.Equal(t, "limit exceeded\n", body)
}

// TestProfileAndRenderInTheConfigFile sets a profile in one file and a rendering in another, and checks that
// the flags win over the file.
func TestProfileAndRenderInTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	ulule := file("ulule.yaml", "profile: ulule-limiter\ntiers:\n  - name: free\n    rules:\n      - {limit: 1, window: 1h}\n")
	s := start(t, "-config", ulule, "-log-level", "off")
	for i, want := range []int{200, 429, 429} {
		status, h, b := s.do(t, http.MethodGet, "/x")
		require.Equal(t, want, status, "request %d", i)
		assert.Empty(t, h.Get("Retry-After"), "ulule-limiter sends no Retry-After")
		assert.Len(t, h.Get("X-Ratelimit-Reset"), 10, "an epoch in seconds")
		if status == 429 {
			assert.Equal(t, "Limit exceeded\n", b)
		}
	}

	render := file("render.yaml", "dialect: ietf-legacy\nretry_after: fractional\nrender:\n  precision: ms\n  limit: burst\n"+
		"tiers:\n  - name: free\n    rules:\n      - {algorithm: gcra, limit: 50, window: 1s, burst: 2}\n")
	s = start(t, "-config", render, "-log-level", "off", "-limit-format", "float")
	var h http.Header
	for range 3 {
		_, h, _ = s.do(t, http.MethodGet, "/x")
	}
	assert.Equal(t, "2.00", h.Get("Ratelimit-Limit"))
	assert.Regexp(t, `^0\.0[0-9]{2}$`, h.Get("Ratelimit-Reset"))
	assert.Regexp(t, `^0\.0[0-9]{2}$`, h.Get("Retry-After"))
}

// TestBadProfileAndRenderFlags checks that the new flags and file settings name themselves when wrong.
func TestBadProfileAndRenderFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("render:\n  rounding: up\n"), 0o600))
	badRule := filepath.Join(dir, "rule.yaml")
	require.NoError(t, os.WriteFile(badRule, []byte("tiers:\n  - name: t\n    rules:\n      - {algorithm: gcra, limit: 5, window: 1s, anchor: first-request}\n"), 0o600))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-profile", "envoy"}, `ratemock: -profile: unknown profile "envoy" (allowed: httprate, ulule-limiter, throttled, tollbooth, redis-rate, nginx, github, openai, anthropic, stripe, shopify, discord)`},
		{[]string{"-profile", "throttled", "-dialect", "github"}, `ratemock: -dialect: profile "throttled" writes the "x-ratelimit" dialect`},
		{[]string{"-profile", "httprate", "-precision", "ms"}, `ratemock: -delay-rounding, -epoch-rounding, -precision, -reset, -reset-constant, -reset-form, -limit-as, -limit-format: profile "httprate" fixes it`},
		{[]string{"-delay-rounding", "ceil"}, `ratemock: -delay-rounding: unknown rounding "ceil" (allowed: up, down, nearest)`},
		{[]string{"-reset", "soon"}, `ratemock: -reset: unknown reset meaning "soon"`},
		{[]string{"-limit-as", "max"}, `ratemock: -limit-as: unknown limit meaning "max" (allowed: quota, burst, rate)`},
		{[]string{"-anchor", "noon"}, `ratemock: -anchor: unknown anchor "noon" (allowed: epoch, first-request, start)`},
		{[]string{"-algorithm", "gcra", "-count-rejected"}, `ratemock: -count-rejected: applies to fixed-window and sliding-window-counter, not gcra`},
		{[]string{"-config", bad}, `unknown setting "rounding" of render (allowed: delay_rounding, epoch_rounding, precision, reset, reset_constant, reset_as, limit, limit_format)`},
		{[]string{"-config", badRule}, `tiers[0].rules[0].anchor: gcra has no windows`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, &stdout, &stderr)
		assert.Equal(t, 2, code, "ratemock %s", strings.Join(c.args, " "))
		assert.Contains(t, stderr.String(), c.want, "ratemock %s", strings.Join(c.args, " "))
	}
}
