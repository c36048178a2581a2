package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCompareSmallBatch(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-n", "20", "-c", "4", "-limit", "10", "-window", "300ms",
		"-algorithms", "token-bucket,fixed-window", "-dialects", "ietf,none"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"ratekit", "retryablehttp", "net/http", "token-bucket/ietf", "fixed-window/none", "mean", "12 batches of 20 requests"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCompareBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-algorithms", "tokenbucket"}, `-algorithms: unknown "tokenbucket"; want some of fixed-window`},
		{[]string{"-dialects", "xrl"}, `-dialects: unknown "xrl"`},
		{[]string{"-n", "0"}, "-n 0: want at least 1"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut.String(), c.want)
		}
	}
}
