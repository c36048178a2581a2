package cli

import (
	"bytes"
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelpStartsWithTheDescription(t *testing.T) {
	var stderr bytes.Buffer
	fs := NewFlagSet("batch", "sends a batch of requests through ratekit.", &stderr)
	fs.Int(Requests, 10, "requests to send")
	err := fs.Parse([]string{"-help"})
	require.True(t, errors.Is(err, flag.ErrHelp), "err = %v", err)
	assert.Equal(t, "batch: sends a batch of requests through ratekit.\n\n"+
		"Usage, from the repository root:\n\n  go run ./examples/batch [flags]\n\nFlags:\n"+
		"  -n int\n    \trequests to send (default 10)\n", stderr.String())
}
