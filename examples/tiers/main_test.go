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

// row is one client's line of the table.
type row struct {
	requests int
	lastWord string
}

// Each key goes at its own plan's pace: at least its burst, the better plans further, and the server's
// last word names the plan's quotas (both of them for enterprise).
func TestPlansSideBySide(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-duration", "1500ms"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	rows := map[string]row{}
	re := regexp.MustCompile(`^(\w+)\s{2,}(.+?)\s{2,}(\d+)\s{2,}[\d.]+/s\s{2,}\d+\s{2,}(.+)$`)
	for l := range strings.Lines(out) {
		if m := re.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			n, _ := strconv.Atoi(m[3])
			rows[m[1]] = row{requests: n, lastWord: m[4]}
		}
	}
	free, pro, ent := rows["free"], rows["pro"], rows["enterprise"]
	if len(rows) != 3 {
		t.Fatalf("want rows for free, pro and enterprise, got %v:\n%s", rows, out)
	}
	// Bursts are available at once: free 5, pro 50. (Enterprise's 500 would test the machine's speed.)
	for name, burst := range map[string]int{"free": 5, "pro": 50} {
		if rows[name].requests < burst {
			t.Errorf("%s made %d requests, fewer than its burst of %d:\n%s", name, rows[name].requests, burst, out)
		}
	}
	if !(free.requests < pro.requests && pro.requests < ent.requests) {
		t.Errorf("requests free %d, pro %d, enterprise %d: each plan should go further than the one below:\n%s",
			free.requests, pro.requests, ent.requests, out)
	}
	if !strings.Contains(free.lastWord, "/60 left") || !strings.Contains(pro.lastWord, "/600 left") {
		t.Errorf("the server's last word should be each key's own quota:\n%s", out)
	}
	if !strings.Contains(ent.lastWord, "minute ") || !strings.Contains(ent.lastWord, "day ") || !strings.Contains(ent.lastWord, "/100000 left") {
		t.Errorf("enterprise's last word should report the minute and the day (ietf):\n%s", out)
	}
}

func TestBadFlags(t *testing.T) {
	for args, want := range map[string]string{
		"-dialect gitlab": `-dialect "gitlab" is not a dialect (allowed: ietf, ietf-legacy, x-ratelimit, github, openai, tollbooth, anthropic, shopify, discord, none)`,
		"-duration 0s":    "-duration 0s: must be more than 0",
		"-c 0":            "-c 0: at least 1 worker per client",
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
