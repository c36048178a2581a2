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

// TestVendorProfileTiers runs `ratemock -profile github` with and without -tier, and from a config file, and
// checks the quota each plan gives (a request without a token is always unauthenticated).
func TestVendorProfileTiers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "github.yaml")
	require.NoError(t, os.WriteFile(file, []byte("profile: github\ndefault_tier: enterprise-cloud\n"), 0o600))
	cases := []struct {
		name  string
		args  []string
		token bool
		want  string // x-ratelimit-limit
	}{
		{"token", []string{"-profile", "github"}, true, "5000"},
		{"enterprise", []string{"-profile", "github", "-tier", "enterprise-cloud"}, true, "15000"},
		{"file", []string{"-config", file}, true, "15000"},
		{"flag over file", []string{"-config", file, "-tier", "token"}, true, "5000"},
		{"no token", []string{"-profile", "github", "-tier", "enterprise-cloud"}, false, "60"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := start(t, append(c.args, "-log-level", "off")...)
			var header []string
			if c.token {
				header = []string{"Authorization", "Bearer ghp_test"}
			}
			status, h, body := s.do(t, http.MethodGet, "/repos/octocat/hello-world", header...)
			require.Equal(t, http.StatusOK, status, body)
			assert.Equal(t, c.want, h.Get("X-Ratelimit-Limit"))
			assert.Equal(t, "core", h.Get("X-Ratelimit-Resource"))
		})
	}
}

// TestVendorProfileFlagErrors checks that what a vendor profile sets cannot be given too, and that a tier
// the profile does not have is named with the ones it has.
func TestVendorProfileFlagErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-profile", "openai", "-tier", "tier-9"}, `ratemock: -tier: unknown tier "tier-9" (allowed: free, tier-1, tier-2, tier-3, tier-4, tier-5)`},
		{[]string{"-profile", "stripe", "-limit", "5"}, `ratemock: -limit: cannot be combined with -profile stripe, which brings its tiers: pick one with -tier`},
		{[]string{"-profile", "shopify", "-key", "ip"}, `ratemock: -key: profile "shopify" sets it: leave it empty`},
		{[]string{"-profile", "github", "-status", "503"}, `ratemock: -status: profile "github" rejects with [403 429]`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, &stdout, &stderr)
		assert.Equal(t, 2, code, "ratemock %s", strings.Join(c.args, " "))
		assert.Contains(t, stderr.String(), c.want, "ratemock %s", strings.Join(c.args, " "))
	}
}
