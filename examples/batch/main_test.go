package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ratekit/ratekit/mockserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// runDemo runs the demo with args and returns its exit status, stdout and stderr.
func runDemo(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// summaryLine returns the value of the summary line with label, failing the test when there is none.
func summaryLine(t *testing.T, stdout, label string) string {
	t.Helper()
	for l := range strings.Lines(stdout) {
		if rest, ok := strings.CutPrefix(l, label+" "); ok {
			return strings.TrimSpace(rest)
		}
	}
	t.Fatalf("no %q line in the summary:\n%s", label, stdout)
	return ""
}

// A small policy that needs two windows: every request completes, the server's and the client's count of
// 429s agree, and the summary has every line.
func TestEmbeddedServerSummary(t *testing.T) {
	code, stdout, stderr := runDemo(t, "-n", "40", "-c", "4", "-limit", "20", "-window", "1s")
	if code != exitOK {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, stdout, stderr)
	}
	if got, want := summaryLine(t, stdout, "policy"), "fixed-window, 20 requests per 1s, github headers (embedded mock server)"; got != want {
		t.Errorf("policy: %q, want %q", got, want)
	}
	if got, want := summaryLine(t, stdout, "requests"), "40 done, 0 failed, 4 workers"; got != want {
		t.Errorf("requests: %q, want %q", got, want)
	}

	wall := parseDuration(t, summaryLine(t, stdout, "wall time"))
	ideal := parseDuration(t, strings.TrimSuffix(strings.Fields(summaryLine(t, stdout, "ideal time"))[0], ":"))
	// 40 requests at 20 per aligned 1 s window need the start of the next window: more than 0, at most 1 s.
	if ideal <= 0 || ideal > time.Second {
		t.Errorf("ideal time %s, want in (0, 1s]", ideal)
	}
	if wall < ideal {
		t.Errorf("wall time %s is shorter than the ideal time %s: the server let through more than its limit", wall, ideal)
	}
	goodput := summaryLine(t, stdout, "goodput")
	pct, err := strconv.ParseFloat(strings.TrimSuffix(strings.Fields(goodput)[0], "%"), 64)
	if err != nil || pct <= 0 || pct > 100 {
		t.Errorf("goodput %q, want a percentage in (0, 100]", goodput)
	}

	m := regexp.MustCompile(`^(\d+) answered by the server, (\d+) seen by the client$`).FindStringSubmatch(summaryLine(t, stdout, "429s"))
	if m == nil {
		t.Fatalf("429s line does not match:\n%s", stdout)
	}
	if m[1] != m[2] {
		t.Errorf("the server answered %s 429s but the client saw %s: every 429 must reach the hooks or the result", m[1], m[2])
	}
	retries, err := strconv.Atoi(summaryLine(t, stdout, "retries"))
	if err != nil {
		t.Fatalf("retries: %v", err)
	}
	if rejected, _ := strconv.Atoi(m[1]); retries < rejected {
		t.Errorf("%d retries for %d rejections: every rejection of a completed request was retried", retries, rejected)
	}
	summaryLine(t, stdout, "longest wait")
	if lat := summaryLine(t, stdout, "latency"); !strings.HasPrefix(lat, "p50 ") || !strings.Contains(lat, ", p99 ") {
		t.Errorf("latency: %q, want p50 and p99", lat)
	}

	if !strings.Contains(stderr, "embedded mock server on http://127.0.0.1:") {
		t.Errorf("stderr does not say where the server listens:\n%s", stderr)
	}
	if !strings.Contains(stderr, "progress: 40/40 after ") {
		t.Errorf("stderr (not a terminal) has no progress line for the last request:\n%s", stderr)
	}
}

// Against a real API (-url) there is no server-side count and no ideal time, and the summary says so.
func TestURLSummary(t *testing.T) {
	h, err := mockserver.NewHandler(mockserver.Config{Dialect: mockserver.DialectIETF, Tiers: []mockserver.Tier{{
		Name: "api", Rules: []mockserver.Rule{{Algorithm: mockserver.TokenBucket, Policy: mockserver.Policy{Limit: 1000, Window: time.Minute}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	code, stdout, stderr := runDemo(t, "-url", srv.URL+"/items", "-n", "20", "-c", "4", "-progress", "off")
	if code != exitOK {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for label, want := range map[string]string{
		"target":     srv.URL + "/items (its policy is not known here)",
		"requests":   "20 done, 0 failed, 4 workers",
		"ideal time": "unknown: -url sends to a server whose policy is not known",
		"goodput":    "unknown (no ideal time)",
		"429s":       "0 seen by the client (not counted at the server: -url has no embedded server)",
	} {
		if got := summaryLine(t, stdout, label); got != want {
			t.Errorf("%s: %q, want %q", label, got, want)
		}
	}
	if stderr != "" {
		t.Errorf("-progress off and -url: stderr should be empty, got:\n%s", stderr)
	}
}

// The concurrency algorithm limits requests in flight, so no ideal time is defined; the bar draws anywhere
// when asked for.
func TestConcurrencyWithBar(t *testing.T) {
	code, stdout, stderr := runDemo(t, "-algorithm", "concurrency", "-limit", "4", "-c", "4", "-n", "12", "-progress", "bar")
	if code != exitOK {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if got, want := summaryLine(t, stdout, "ideal time"), "not defined: concurrency limits requests in flight, not requests per window"; got != want {
		t.Errorf("ideal time: %q, want %q", got, want)
	}
	if got, want := summaryLine(t, stdout, "requests"), "12 done, 0 failed, 4 workers"; got != want {
		t.Errorf("requests: %q, want %q", got, want)
	}
	if !strings.Contains(stderr, "requests 12/12") {
		t.Errorf("the bar's last frame should show 12/12:\n%s", stderr)
	}
}

// An interrupted batch (Ctrl-C cancels the context) still prints its summary, compares nothing, and exits 1.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // interrupted before the first request
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-n", "10", "-progress", "off"}, &stdout, &stderr)
	if code != exitFailed {
		t.Errorf("exit status %d, want %d", code, exitFailed)
	}
	out := stdout.String()
	for label, want := range map[string]string{
		"requests":    "0 done, 0 failed, 8 workers",
		"interrupted": "after 0 of 10 requests",
		"ideal time":  "not compared: the batch was interrupted",
	} {
		if got := summaryLine(t, out, label); got != want {
			t.Errorf("%s: %q, want %q", label, got, want)
		}
	}
}

// Bad flags get exit status 2 and a message that names the flag and what is allowed.
func TestBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-algorithm", "leaky"}, `-algorithm "leaky" is not an algorithm (allowed: fixed-window, sliding-window-log, sliding-window-counter, token-bucket, leaky-bucket, leaky-bucket-queue, gcra, concurrency)`},
		{[]string{"-dialect", "gitlab"}, `-dialect "gitlab" is not a dialect (allowed: ietf, ietf-legacy, x-ratelimit, github, openai, tollbooth, anthropic, shopify, discord, none)`},
		{[]string{"-progress", "fancy"}, `-progress "fancy" is not a mode (allowed: auto, bar, lines, off)`},
		{[]string{"-n", "0"}, "-n 0: the number of requests must be at least 1"},
		{[]string{"-c", "-1"}, "-c -1: the number of workers must be at least 1"},
		{[]string{"-limit", "0"}, "-limit 0: the limit must be at least 1"},
		{[]string{"-window", "0s"}, "-window 0s: the window must be more than 0"},
		{[]string{"-url", "api.example.com"}, `-url "api.example.com": want an absolute http:// or https:// URL`},
		{[]string{"-url", "https://api.example.com", "-limit", "5"}, "-limit sets the embedded server's policy, which -url replaces"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-n", "many"}, `invalid value "many" for flag -n`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runDemo(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout should be empty, got:\n%s", stdout)
			}
		})
	}
}

func parseDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("not a duration: %q", s)
	}
	return d
}
