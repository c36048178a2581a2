package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-policies", "7/s"}, `-policies: unknown "7/s"; want some of 50/s, 10/s, 100/min`},
		{[]string{"-peers", "no-such-peer"}, "no peer matches"},
		{[]string{"-c", "0"}, "-c 0: want at least 1"},
		{[]string{"-timeout", "0s"}, "-timeout 0s: want more than 0"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errs bytes.Buffer
			assert.Equal(t, 2, run(context.Background(), c.args, &out, &errs))
			assert.Contains(t, errs.String(), c.want)
			assert.Empty(t, out.String())
		})
	}
}

func TestHelp(t *testing.T) {
	var out, errs bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-help"}, &out, &errs))
	assert.Contains(t, errs.String(), "-timeout")
}

// TestBoundedRun: a batch that cannot finish within -timeout is cut there, and the table says how many
// requests were done.
func TestBoundedRun(t *testing.T) {
	var out, errs bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"-peers", "throttled", "-policies", "10/s", "-timeout", "1s"}, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	assert.Less(t, time.Since(start), 30*time.Second)
	assert.Contains(t, out.String(), "| throttled 10/s | token-bucket | 200 |")
	assert.Contains(t, out.String(), "/200 done |", "the ratekit batch was cut after 1 s")
	assert.Contains(t, errs.String(), "scoreboard: 3 batches")
}
