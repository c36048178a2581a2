package freeport

import (
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGetReturnsAPortThatCanBeBound(t *testing.T) {
	port, err := Get()
	require.NoError(t, err)
	assert.Positive(t, port)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	require.NoError(t, err, "the port Get returned could not be bound")
	ln.Close()
}
