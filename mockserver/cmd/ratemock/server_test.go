package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestServerBoundsEveryConnection: idle keep-alive connections, slow headers, slow bodies and slow readers are
// all cut off (an http.Server without timeouts keeps 2,000 idle connections open for ever).
func TestServerBoundsEveryConnection(t *testing.T) {
	srv := newServer(http.NotFoundHandler(), io.Discard)
	for name, d := range map[string]any{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		assert.Positive(t, d, name)
	}
	assert.LessOrEqual(t, srv.ReadHeaderTimeout, srv.ReadTimeout)
	assert.Positive(t, srv.MaxHeaderBytes)
	assert.Less(t, srv.MaxHeaderBytes, http.DefaultMaxHeaderBytes)
}
