// Package freeport finds a free TCP port of 127.0.0.1, for a server a test or an example starts (redistest's
// redis-server, examples/fleet's). It imports nothing but the standard library and not package testing, so
// that a program may use it too.
package freeport

import (
	"fmt"
	"net"
)

// Get returns a TCP port of 127.0.0.1 that was free a moment ago. Another process may take it before the
// caller binds it: a caller that starts a server on it should retry on another port when the bind fails.
func Get() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
