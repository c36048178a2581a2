package main

// The recipe proper: Go tests of a client of a rate-limited API (IssuesClient) against mockserver. Copy
// what you need: the in-memory transport, the /_stats reader, and the shape of each test.

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/mockserver"
)

// TestMain fails the package's tests if any of them leaves a goroutine behind: a client that leaks a
// goroutine per request shows up here.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// handlerTransport serves each request with an http.Handler in the caller's goroutine: no socket, no
// background goroutine, so a whole client-server exchange can run inside a testing/synctest bubble, where
// a wait of minutes passes in microseconds of real time.
type handlerTransport struct{ handler http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil { // a RoundTripper must close the request's body
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	in := req.Clone(req.Context())
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.RemoteAddr = "192.0.2.1:1234" // as a server would see a client
	in.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.handler.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// statsOf asks the mock server handler what it saw (GET /_stats), without a socket.
func statsOf(t *testing.T, api http.Handler) map[string]keyStats {
	t.Helper()
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_stats", nil))
	stats, err := decodeStats(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return stats
}

// count returns 1, 2, ..., n.
func count(n int) []int {
	numbers := make([]int, n)
	for i := range numbers {
		numbers[i] = i + 1
	}
	return numbers
}

// Over a real socket (httptest.NewServer), with a quota that does not bind: the client sends its token,
// decodes what it gets, and the server counts every request against that token.
func TestIssuesOverHTTP(t *testing.T) {
	api, err := rateLimited(mockserver.FixedWindow, mockserver.DialectGitHub, 5000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	client := NewIssuesClient(srv.URL+"/repos/octo/demo", token, nil)
	issues, err := client.Issues(t.Context(), count(20), 4)
	if err != nil {
		t.Fatal(err)
	}
	if !rightIssues(issues, count(20)) {
		t.Errorf("issues: %v", issues)
	}
	stats, err := serverStats(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if want := (map[string]keyStats{token: {Allowed: 20}}); len(stats) != 1 || stats[token] != want[token] {
		t.Errorf("the server saw %v, want %v", stats, want)
	}
}

// In virtual time (synctest), in every dialect that reports the quota: the client fetches 50 issues
// through a token bucket of 10 a minute without a single rejection, and as fast as the bucket allows.
func TestIssuesWithinLimit(t *testing.T) {
	dialects := []string{mockserver.DialectIETF, mockserver.DialectIETFLegacy, mockserver.DialectXRateLimit,
		mockserver.DialectGitHub, mockserver.DialectOpenAI}
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api, err := rateLimited(mockserver.TokenBucket, dialect, 10, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				client := NewIssuesClient("http://api.example/repos/octo/demo", token, handlerTransport{api})

				start := time.Now()
				issues, err := client.Issues(t.Context(), count(50), 4)
				elapsed := time.Since(start) // virtual time: exact, whatever the machine's speed
				if err != nil {
					t.Fatal(err)
				}
				if !rightIssues(issues, count(50)) {
					t.Errorf("issues: %v", issues)
				}
				// 10 at once, then one every 6 s: the 50th is allowed 40 × 6 s = 4 minutes after the first.
				// Faster is impossible; one more interval would be a client that wastes its quota.
				if least := 4 * time.Minute; elapsed < least || elapsed >= least+6*time.Second {
					t.Errorf("took %s, want %s (or less than 6 s more)", elapsed, least)
				}
				if s := statsOf(t, api)[token]; s.Allowed != 50 || s.Rejected != 0 {
					t.Errorf("the server admitted %d and rejected %d, want 50 and 0", s.Allowed, s.Rejected)
				}
			})
		})
	}
}

// A quota that will not come back within the client's patience (ratekit's MaxWait, 2 minutes by default)
// fails at once with a *ratekit.RateLimitError that says when to come back, instead of hanging for an hour,
// and without sending a request the server would reject.
func TestGivesUpInsteadOfHanging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api, err := rateLimited(mockserver.FixedWindow, mockserver.DialectGitHub, 1, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		client := NewIssuesClient("http://api.example/repos/octo/demo", token, handlerTransport{api})
		if _, err := client.Issue(t.Context(), 1); err != nil {
			t.Fatal(err)
		}

		start := time.Now()
		_, err = client.Issue(t.Context(), 2)
		var rl *ratekit.RateLimitError
		if !errors.As(err, &rl) || !errors.Is(err, ratekit.ErrWaitTooLong) {
			t.Fatalf("got %v, want a *ratekit.RateLimitError for a wait longer than MaxWait", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the client waited %s before giving up, want no wait", waited)
		}
		if rl.Wait < 59*time.Minute || rl.Wait > time.Hour+time.Second {
			t.Errorf("the error says to wait %s, want about the hour's remainder", rl.Wait)
		}
		if s := statsOf(t, api)[token]; s.Allowed != 1 || s.Rejected != 0 {
			t.Errorf("the server admitted %d and rejected %d, want 1 and 0: the second request is never sent", s.Allowed, s.Rejected)
		}
	})
}
