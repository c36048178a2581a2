package interop

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
)

// memTransport serves each request with a handler in the caller's goroutine: no sockets and no goroutines,
// so inside a testing/synctest bubble a whole exchange runs in virtual time. Safe for concurrent use if the
// handler is.
type memTransport struct {
	handler    http.Handler
	remoteAddr string
}

var _ http.RoundTripper = (*memTransport)(nil)

// RoundTrip serves req with the handler and returns the recorded response.
func (t *memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	in := req.Clone(req.Context())
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.ContentLength = int64(len(body))
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = t.remoteAddr
	if in.RemoteAddr == "" {
		in.RemoteAddr = "192.0.2.1:1234" // TEST-NET-1: one client, one key for every IP-keyed limiter
	}
	if in.Host == "" {
		in.Host = req.URL.Host
	}
	rec := httptest.NewRecorder()
	t.handler.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
