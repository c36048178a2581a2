package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ratekit/ratekit/internal/redistest"
)

// unusedAddr returns an address of 127.0.0.1 where nothing listens (a port that was free a moment ago).
func unusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRunWithRedisStoreSharesTheQuota: two ratemocks with -store redis on one Redis share every client's quota,
// as a fleet of mock servers behind a load balancer would, and keep their state under the ratemock: prefix.
func TestRunWithRedisStoreSharesTheQuota(t *testing.T) {
	srv := redistest.Start(t)
	args := []string{"-store", "redis", "-redis", srv.Addr(), "-algorithm", "fixed-window", "-limit", "3", "-window", "1h"}
	a, b := start(t, args...), start(t, args...)
	for i, tt := range []struct {
		server *started
		want   int
	}{{a, 200}, {b, 200}, {a, 200}, {b, 429}, {a, 429}} {
		if status, _, body := tt.server.do(t, http.MethodGet, "/anything"); status != tt.want {
			t.Fatalf("request %d: status %d, want %d (%s)", i, status, tt.want, body)
		}
	}
	keys, err := srv.Client().Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "ratemock:{k_") || strings.Contains(keys[0], "127.0.0.1") {
		t.Errorf("keys in Redis: %q, want one ratemock:{k_...}:... key, named by a hash of the client's IP", keys)
	}
	for _, s := range []*started{a, b} {
		if code := s.stop(); code != 0 {
			t.Errorf("exit status %d, want 0; stderr:\n%s", code, s.stderr)
		}
	}
}
