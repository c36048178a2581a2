package ratekit_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/ratekit/ratekit"
)

// LogHooks turns what a Transport does into log records. Here the server refuses the first request for a
// second, then answers with a quota nearly spent: one retry, the server's pause, and a low quota are logged.
// (The example's server answers in memory, so that the host and key are the same on every run.)
func ExampleLogHooks() {
	calls := 0
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("X-RateLimit-Limit", "100")
		w.Header().Set("X-RateLimit-Remaining", "9")
		w.Header().Set("X-RateLimit-Reset", "60")
	})
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch {
			case a.Key == slog.TimeKey || a.Key == "reset": // times change from run to run
				return slog.Attr{}
			case a.Value.Kind() == slog.KindDuration: // so do the last milliseconds of a wait
				return slog.Duration(a.Key, a.Value.Duration().Round(time.Second))
			}
			return a
		},
	}))

	client := ratekit.NewClient(ratekit.LogHooks(&ratekit.Transport{Base: inMemory{api}}, logger))
	resp, err := client.Get("https://api.example.test/v1/items?page=2")
	if err != nil {
		fmt.Println(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// Output:
	// level=WARN msg="ratekit: retry" key=https://api.example.test method=GET host=api.example.test attempt=1 wait=1s status=429
	// level=INFO msg="ratekit: wait" key=https://api.example.test method=GET host=api.example.test wait=1s reason="paused by the server"
	// level=WARN msg="ratekit: quota low" key=https://api.example.test method=GET host=api.example.test requests.remaining=9 requests.limit=100
}

// inMemory is an http.RoundTripper that answers with a Handler, without a socket.
type inMemory struct{ h http.Handler }

func (t inMemory) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
