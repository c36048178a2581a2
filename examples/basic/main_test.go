package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Every dialect that reports a quota is read into the same Quota, by ParseHeaders and by the Transport.
func TestQuotaInEveryDialect(t *testing.T) {
	tests := []struct {
		dialect string
		name    string // how the quota is named: policy/dimension, or the dimension when the dialect names no policy
	}{
		{"github", "core/requests"},
		{"ietf", "core/requests"},
		{"ietf-legacy", "requests"},
		{"x-ratelimit", "requests"},
		{"openai", "requests"},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"-dialect", tt.dialect, "-n", "2"}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit status %d\n%s%s", code, stdout.String(), stderr.String())
			}
			out := stdout.String()
			if n := strings.Count(out, "GET /repos/ratekit/ratekit: 200 OK\n"); n != 2 {
				t.Errorf("%d successful calls, want 2:\n%s", n, out)
			}
			// Once from the headers, once from the Snapshot; the same count both times. A minute's window may
			// turn over between the calls, so 58 or 59 remain.
			m := regexp.MustCompile(regexp.QuoteMeta(tt.name)+`: (\d+) of 60 left`).FindAllStringSubmatch(out, -1)
			if len(m) != 2 {
				t.Fatalf("want the quota %q twice (ParseHeaders and Snapshot), got %d times:\n%s", tt.name, len(m), out)
			}
			if m[0][1] != m[1][1] {
				t.Errorf("ParseHeaders says %s left, the Snapshot %s", m[0][1], m[1][1])
			}
			if left, _ := strconv.Atoi(m[0][1]); left != 58 && left != 59 {
				t.Errorf("%d left after 2 calls, want 58 (or 59 if the window turned over)", left)
			}
			if !strings.Contains(out, "wait before the next request: 0s\n") {
				t.Errorf("a quota with requests left should need no wait:\n%s", out)
			}
		})
	}
}

// A server that sends no headers gives no quota, and the example says so instead of printing nothing.
func TestNoHeaders(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-dialect", "none", "-n", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"rate-limit headers:\n  none\n", "nothing: the server reports no quota", "no quota reported"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output does not contain %q:\n%s", want, stdout.String())
		}
	}
}

func TestBadFlags(t *testing.T) {
	for args, want := range map[string]string{
		"-dialect gitlab": `-dialect "gitlab" is not a dialect (allowed: ietf, ietf-legacy, x-ratelimit, github, openai, tollbooth, anthropic, shopify, discord, none)`,
		"-n 0":            "-n 0: make at least 1 call",
		"-n x":            `invalid value "x" for flag -n`,
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), strings.Fields(args), &stdout, &stderr); code != 2 {
			t.Errorf("%s: exit status %d, want 2", args, code)
		}
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: stderr does not contain %q:\n%s", args, want, stderr.String())
		}
	}
}
