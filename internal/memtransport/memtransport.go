// Package memtransport is an http.RoundTripper that serves requests with an http.Handler in the caller's
// goroutine: no sockets, no background goroutines. Inside a testing/synctest bubble it makes a whole
// client-server exchange run in virtual time, so a test of a 60 s Retry-After takes microseconds.
package memtransport

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/ratekit/ratekit/internal/ctxsleep"
)

// ErrConnectionReset is returned for a request whose handler aborted the response
// (panic(http.ErrAbortHandler)), as a real connection would be reset.
var ErrConnectionReset = errors.New("memtransport: connection reset by peer")

// Transport serves each request with Handler. It is safe for concurrent use if Handler is.
type Transport struct {
	Handler http.Handler
	// Latency is added before the handler runs (one way); zero: none.
	Latency time.Duration
	// RemoteAddr is the client address the handler sees. Empty: 192.0.2.1:1234 (TEST-NET-1).
	RemoteAddr string

	mu       sync.Mutex
	requests int // guarded by mu
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip serves req. It reads and closes req's body, gives the handler a copy of the request, and
// returns the recorded response with its body readable.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := ctxsleep.Sleep(ctx, t.Latency); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.requests++
	t.mu.Unlock()

	in := req.Clone(ctx)
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.ContentLength = int64(len(body))
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = t.RemoteAddr
	if in.RemoteAddr == "" {
		in.RemoteAddr = "192.0.2.1:1234"
	}
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	rec := httptest.NewRecorder()
	if aborted := serve(t.Handler, rec, in); aborted {
		return nil, ErrConnectionReset
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// Requests is how many requests reached the handler.
func (t *Transport) Requests() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.requests
}

func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}
