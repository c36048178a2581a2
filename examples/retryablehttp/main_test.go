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

// Both ways complete every request; each rejection is retried once; the burst of the first way meets the
// limit, and the ratekit Transport of the second way is rejected no more often.
func TestBothWays(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-n", "24", "-c", "3"}, &stdout, &stderr)
	out := stdout.String()
	if code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
	ways := regexp.MustCompile(`(?m)^   (\d+) of 24 done in \S+; the server rejected (\d+); retryablehttp retried (\d+) times$`).FindAllStringSubmatch(out, -1)
	if len(ways) != 2 {
		t.Fatalf("want a result line for each of the 2 ways, got %d:\n%s", len(ways), out)
	}
	var rejected [2]int
	for i, m := range ways {
		done, _ := strconv.Atoi(m[1])
		rejected[i], _ = strconv.Atoi(m[2])
		retries, _ := strconv.Atoi(m[3])
		if done != 24 {
			t.Errorf("way %d: %d of 24 done", i+1, done)
		}
		if retries != rejected[i] {
			t.Errorf("way %d: %d retries for %d rejections: each rejection should be retried exactly once", i+1, retries, rejected[i])
		}
	}
	if rejected[0] == 0 {
		t.Errorf("way 1 sends 24 requests at once into a bucket of 20: the server should reject some:\n%s", out)
	}
	if rejected[1] > rejected[0] {
		t.Errorf("the ratekit Transport was rejected %d times, more than retryablehttp alone (%d):\n%s", rejected[1], rejected[0], out)
	}
}

func TestBadFlags(t *testing.T) {
	for args, want := range map[string]string{
		"-dialect gitlab": `-dialect "gitlab" is not a dialect (allowed: ietf, ietf-legacy, x-ratelimit, github, openai, tollbooth, anthropic, shopify, discord, none)`,
		"-n 0":            "-n 0 -c 4: both must be at least 1",
		"-c 0":            "-n 40 -c 0: both must be at least 1",
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
