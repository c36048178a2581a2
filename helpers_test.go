package ratekit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ratekit/ratekit/internal/memtransport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is a scripted HTTP server for Transport tests: it answers the n-th request (from 1) with answer,
// and records when each request arrived and what it carried.
type server struct {
	answer func(n int, w http.ResponseWriter, r *http.Request)

	mu    sync.Mutex
	hits  []hit
	start time.Time
}

type hit struct {
	at     time.Duration // since the server was made
	method string
	path   string
	body   string
	header http.Header
}

func newServer(answer func(n int, w http.ResponseWriter, r *http.Request)) *server {
	return &server{answer: answer, start: time.Now()}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.hits = append(s.hits, hit{at: time.Since(s.start), method: r.Method, path: r.URL.Path, body: string(body), header: r.Header.Clone()})
	n := len(s.hits)
	s.mu.Unlock()
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	s.answer(n, w, r)
}

func (s *server) Hits() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

// transport is an in-memory RoundTripper for s, with a one-way latency.
func (s *server) transport(latency time.Duration) *memtransport.Transport {
	return &memtransport.Transport{Handler: s, Latency: latency}
}

// status answers with a status and headers given as name, value pairs.
func status(w http.ResponseWriter, code int, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		w.Header().Set(kv[i], kv[i+1])
	}
	w.WriteHeader(code)
	io.WriteString(w, http.StatusText(code))
}

// get sends a GET to url through rt with ctx and returns the status, draining and closing the body.
func get(t *testing.T, ctx context.Context, rt http.RoundTripper, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

// getCancelledAfter sends a GET to testURL through rt with a context cancelled after d, and checks that it
// returns then, with context.Canceled and no response. Call it in a synctest bubble.
func getCancelledAfter(t *testing.T, rt http.RoundTripper, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(d, cancel)
	start := time.Now()
	resp, err := get(t, ctx, rt, testURL)
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, resp)
	assert.Equal(t, d, time.Since(start), "want a return when cancelled")
}

// trackedBody records whether it was read to the end and closed.
type trackedBody struct {
	r      io.Reader
	mu     sync.Mutex
	read   int
	closed bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.mu.Lock()
	b.read += n
	b.mu.Unlock()
	return n, err
}

func (b *trackedBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// hash is the short hash a key function appends for a secret.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) add() int64 { return c.n.Add(1) }
