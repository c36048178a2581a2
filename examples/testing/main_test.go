package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The program passes its checks with a policy that does not bind. (The binding cases, whose timing
// matters, run in virtual time in issues_test.go.)
func TestRunPasses(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-n", "12", "-limit", "100", "-window", "1m"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"ok   the client returned no error\n",
		"ok   every issue arrived, in order, with its title\n",
		"ok   the server admitted 12 requests, all with the client's token (keys seen: 1)\n",
		"ok   the server rejected 0 requests (budget: 1, 1% of them)\n",
		"\nPASS\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("a check failed:\n%s", out)
	}
}

// A quota the client cannot wait for (1 request an hour) fails the checks, says which, and exits 1. The
// sliding log's wait is an hour from the first request whenever the test starts; a fixed window's would end
// at the top of the UTC hour, within MaxWait in the last two minutes of every hour.
func TestRunFails(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-n", "3", "-c", "1", "-algorithm", "sliding-window-log", "-limit", "1", "-window", "1h"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit status %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"FAIL the client returned no error (got: issue 2: ",
		"longer than Transport.MaxWait; raise MaxWait to accept it",
		"FAIL every issue arrived, in order, with its title\n",
		"FAIL the server admitted 1 requests",
		"\nFAIL\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
}

// A bad policy is reported with the field and the allowed values, and exit status 2.
func TestRunBadPolicy(t *testing.T) {
	for args, want := range map[string]string{
		"-algorithm nope": `unknown algorithm "nope" (allowed: fixed-window, sliding-window-log`,
		"-dialect nope":   `"nope" (allowed: ietf, ietf-legacy, x-ratelimit, github, openai, tollbooth, anthropic, shopify, discord, none)`,
		"-n 0":            "-n 0 -c 4: both must be at least 1",
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
