package mockserver_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// statuses sends n requests through h and returns their statuses, turning a dropped connection
// (panic(http.ErrAbortHandler)) into status 0.
func statuses(t *testing.T, h http.Handler, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = serveOrDrop(t, h, request(http.MethodGet, "/")).Code
	}
	return out
}

// serveOrDrop serves r, and returns a recorder with Code 0 when the handler dropped the connection.
func serveOrDrop(t *testing.T, h http.Handler, r *http.Request) (w *httptest.ResponseRecorder) {
	t.Helper()
	w = httptest.NewRecorder()
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			w.Code = 0
		}
	}()
	h.ServeHTTP(w, r)
	return w
}

func TestErrorAndDropFaultsAreDeterministicForASeed(t *testing.T) {
	cfg := mockserver.Config{Dialect: mockserver.DialectXRateLimit, Tiers: oneTier(fixedWindow("hour", 1000, time.Hour)).Tiers,
		Faults: mockserver.Faults{Seed: 7, ErrorRate: 0.3, ErrorStatus: 502, DropRate: 0.2}}
	first := statuses(t, newHandler(t, cfg), 200)
	again := statuses(t, newHandler(t, cfg), 200)
	if !slices.Equal(first, again) {
		t.Fatalf("same seed, different faults:\n%v\n%v", first, again)
	}
	counts := map[int]int{}
	for _, s := range first {
		counts[s]++
	}
	// With 200 requests the rates are loose bounds, but they are fixed by the seed: no flakiness.
	if counts[502] < 40 || counts[502] > 80 || counts[0] < 20 || counts[0] > 60 || counts[200]+counts[502]+counts[0] != 200 {
		t.Errorf("outcomes %v: want about 30%% 502, 20%% dropped, the rest 200", counts)
	}
	cfg.Faults.Seed = 8
	if other := statuses(t, newHandler(t, cfg), 200); slices.Equal(first, other) {
		t.Error("another seed gave the same faults")
	}
}

func TestInjectedErrorsCountAgainstTheQuota(t *testing.T) {
	h := newHandler(t, mockserver.Config{Dialect: mockserver.DialectXRateLimit, Tiers: oneTier(fixedWindow("hour", 3, time.Hour)).Tiers,
		Faults: mockserver.Faults{ErrorRate: 1}})
	for i, want := range []string{"2", "1", "0"} {
		w := get(h, "/")
		wantStatus(t, w, http.StatusInternalServerError)
		wantHeader(t, w, "X-Ratelimit-Remaining", want)
		if i == 0 {
			wantBody(t, w, `{"error":"injected_fault","message":"mockserver: injected server error (Faults.ErrorRate)"}`)
		}
	}
	wantStatus(t, get(h, "/"), http.StatusTooManyRequests) // rejections are delivered, not failed
}

// TestDroppedConnectionOverASocket checks that a drop reaches a real client as a broken connection: the one
// place where a socket is needed.
func TestDroppedConnectionOverASocket(t *testing.T) {
	h := newHandler(t, mockserver.Config{Faults: mockserver.Faults{DropRate: 1}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a dropped connection", resp.StatusCode)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Errorf("error %v, want an EOF or reset", err)
	}
	resp, err = srv.Client().Get(srv.URL + "/metrics") // the reserved paths are never faulted
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `mockserver_faults_total{fault="drop"} 1`) {
		t.Errorf("metrics do not count the drop:\n%s", body)
	}
}

func TestLatencyIsAddedToEveryResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, Tiers: oneTier(fixedWindow("minute", 1, time.Minute)).Tiers,
			Faults: mockserver.Faults{Seed: 3, Latency: 2 * time.Second, LatencyJitter: time.Second}})
		took := func(header ...string) (int, time.Duration) {
			start := time.Now()
			w := get(h, "/", header...)
			return w.Code, time.Since(start)
		}
		var waits []time.Duration
		for _, hdr := range [][]string{{"X-API-Key", "a"}, {"X-API-Key", "a"}, nil} {
			status, d := took(hdr...)
			if d < 2*time.Second || d >= 3*time.Second {
				t.Errorf("status %d took %v, want 2s plus jitter below 1s", status, d)
			}
			waits = append(waits, d)
		}
		h2 := newHandler(t, mockserver.Config{Key: mockserver.KeyAPIKey, Tiers: oneTier(fixedWindow("minute", 1, time.Minute)).Tiers,
			Faults: mockserver.Faults{Seed: 3, Latency: 2 * time.Second, LatencyJitter: time.Second}})
		for i, hdr := range [][]string{{"X-API-Key", "a"}, {"X-API-Key", "a"}, nil} {
			start := time.Now()
			get(h2, "/", hdr...)
			if d := time.Since(start); d != waits[i] {
				t.Errorf("request %d: latency %v with the same seed, first time %v", i, d, waits[i])
			}
		}
		start := time.Now()
		get(h, "/_stats")
		if d := time.Since(start); d != 0 {
			t.Errorf("a reserved path was delayed %v", d)
		}
	})
}

func TestClockSkewShiftsDateAndAbsoluteTimesOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, mockserver.Config{Dialect: mockserver.DialectGitHub, RetryAfter: mockserver.RetryAfterHTTPDate,
			Tiers:  oneTier(fixedWindow("core", 1, time.Minute)).Tiers,
			Faults: mockserver.Faults{ClockSkew: -90 * time.Second}})
		time.Sleep(10 * time.Second)
		get(h, "/")
		w := get(h, "/")
		wantStatus(t, w, http.StatusTooManyRequests)
		wantHeader(t, w, "Date", "Fri, 31 Dec 1999 23:58:40 GMT")        // 00:00:10 - 90 s
		wantHeader(t, w, "X-Ratelimit-Reset", "946684770")               // 00:01:00 - 90 s
		wantHeader(t, w, "Retry-After", "Fri, 31 Dec 1999 23:59:30 GMT") // Date + 50 s
		if !strings.Contains(w.Body.String(), `"retry_after":50`) {      // delays are not skewed
			t.Errorf("body %s, want retry_after 50", w.Body)
		}
	})
}

func TestResetAsWritesResetsInTheWrongForm(t *testing.T) {
	cases := []struct {
		dialect, resetAs, header, want string
	}{
		{mockserver.DialectXRateLimit, "epoch", "X-Ratelimit-Reset", "946684860"},
		{mockserver.DialectXRateLimit, "delta-ms", "X-Ratelimit-Reset", "32500"},
		{mockserver.DialectIETFLegacy, "epoch-ms", "Ratelimit-Reset", "946684860000"},
		{mockserver.DialectGitHub, "delta", "X-Ratelimit-Reset", "33"},
		{mockserver.DialectOpenAI, "delta-ms", "X-Ratelimit-Reset-Requests", "32500"},
		{mockserver.DialectIETF, "delta-ms", "RateLimit", `"minute";r=59;t=32500`},
	}
	for _, c := range cases {
		t.Run(c.dialect+"/"+c.resetAs, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHandler(t, mockserver.Config{Dialect: c.dialect, Tiers: oneTier(fixedWindow("minute", 60, time.Minute)).Tiers,
					Faults: mockserver.Faults{ResetAs: c.resetAs}})
				time.Sleep(27500 * time.Millisecond)
				wantHeader(t, get(h, "/"), c.header, c.want)
			})
		})
	}
}

func TestStoreFailureFailsOpenOrClosed(t *testing.T) {
	newFailing := func(t *testing.T) *mockserver.FailingStore {
		fs, err := mockserver.NewFailingStore(mockserver.NewMemoryStore(), 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	t.Run("fail-open", func(t *testing.T) {
		fs := newFailing(t)
		h := newHandler(t, mockserver.Config{Store: fs})
		wantStatus(t, get(h, "/"), http.StatusOK)
		fs.SetDown(true)
		w := get(h, "/")
		wantStatus(t, w, http.StatusOK)
		wantBody(t, w, `{"key":"192.0.2.1","tier":"default","cost":1,"remaining":-1}`)
		if got := rateLimitHeaders(w); len(got) != 0 {
			t.Errorf("a request served without a decision carries %q", got)
		}
		fs.SetDown(false)
		wantBody(t, get(h, "/"), `{"key":"192.0.2.1","tier":"default","cost":1,"remaining":58}`)
		wantMetric(t, h, `mockserver_store_failures_total{mode="fail-open"} 1`)
	})
	t.Run("fail-closed", func(t *testing.T) {
		fs := newFailing(t)
		h := newHandler(t, mockserver.Config{Store: fs, FailureMode: mockserver.FailClosed})
		fs.SetDown(true)
		w := get(h, "/")
		wantStatus(t, w, http.StatusServiceUnavailable)
		wantHeader(t, w, "Retry-After", "1")
		wantBody(t, w, `{"error":"store_unavailable","message":"the rate-limit store is unavailable (fail-closed): mockserver: injected store failure","retry_after":1}`)
		wantMetric(t, h, `mockserver_store_failures_total{mode="fail-closed"} 1`)
		wantStatus(t, get(h, "/_stats"), http.StatusOK) // reports the failure per key rather than failing
		w = do(h, http.MethodPost, "/_reset")
		wantStatus(t, w, http.StatusServiceUnavailable)
	})
}

func TestFailingStoreRateIsDeterministic(t *testing.T) {
	run := func(seed uint64) []bool {
		fs, err := mockserver.NewFailingStore(mockserver.NewMemoryStore(), 0.25, seed)
		if err != nil {
			t.Fatal(err)
		}
		rules := []mockserver.Rule{fixedWindow("minute", 1000, time.Minute)}
		var failed []bool
		for range 100 {
			_, err := fs.Allow(t.Context(), "k", rules, []int64{1}, time.Unix(0, 0), nil)
			if err != nil && !errors.Is(err, mockserver.ErrStoreFailure) {
				t.Fatal(err)
			}
			failed = append(failed, err != nil)
		}
		return failed
	}
	a, b := run(42), run(42)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different failures")
	}
	n := 0
	for _, f := range a {
		if f {
			n++
		}
	}
	if n < 10 || n > 40 {
		t.Errorf("%d of 100 calls failed at rate 0.25", n)
	}
	for _, rate := range []float64{-0.1, 1.5} {
		if _, err := mockserver.NewFailingStore(mockserver.NewMemoryStore(), rate, 1); err == nil || !strings.Contains(err.Error(), "between 0 and 1") {
			t.Errorf("rate %v: error %v, want one saying between 0 and 1", rate, err)
		}
	}
}
