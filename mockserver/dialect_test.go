package mockserver_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// rateLimitHeaders returns every header of w except the ones every response has, as "Name: value" lines,
// sorted.
func rateLimitHeaders(w *httptest.ResponseRecorder) []string {
	var lines []string
	for name, values := range w.Result().Header {
		switch name {
		case "Content-Type", "Content-Length", "Date":
			continue
		}
		for _, v := range values {
			lines = append(lines, name+": "+v)
		}
	}
	slices.Sort(lines)
	return lines
}

// TestDialects writes every dialect at fixed virtual instants: the bubble starts at 2000-01-01T00:00:00Z
// (Unix 946684800), and 48 requests arrive 27.5 s later, so the minute window has 12 left and ends in 32.5 s.
// A 61st request in the minute is then rejected.
func TestDialects(t *testing.T) {
	minuteAndDay := []mockserver.Rule{fixedWindow("minute", 60, time.Minute), fixedWindow("day", 1000, 24*time.Hour)}
	requestsAndTokens := []mockserver.Rule{
		fixedWindow("requests", 60, time.Minute),
		{Name: "tokens", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 1000, Window: time.Minute}, Dimension: "tokens"},
	}
	cases := []struct {
		dialect  string
		rules    []mockserver.Rule
		allowed  []string // after 48 requests
		rejected []string // the 61st
	}{
		{mockserver.DialectIETF, minuteAndDay, []string{
			`Ratelimit: "minute";r=12;t=33, "day";r=952;t=86373`,
			`Ratelimit-Policy: "minute";q=60;w=60, "day";q=1000;w=86400`,
		}, []string{
			`Ratelimit: "minute";r=0;t=33, "day";r=940;t=86373`,
			`Ratelimit-Policy: "minute";q=60;w=60, "day";q=1000;w=86400`,
			`Retry-After: 33`,
		}},
		{mockserver.DialectIETFLegacy, minuteAndDay, []string{
			`Ratelimit-Limit: 60`, `Ratelimit-Remaining: 12`, `Ratelimit-Reset: 33`,
		}, []string{
			`Ratelimit-Limit: 60`, `Ratelimit-Remaining: 0`, `Ratelimit-Reset: 33`, `Retry-After: 33`,
		}},
		{mockserver.DialectXRateLimit, minuteAndDay, []string{
			`X-Ratelimit-Limit: 60`, `X-Ratelimit-Remaining: 12`, `X-Ratelimit-Reset: 33`,
		}, []string{
			`Retry-After: 33`, `X-Ratelimit-Limit: 60`, `X-Ratelimit-Remaining: 0`, `X-Ratelimit-Reset: 33`,
		}},
		{mockserver.DialectGitHub, minuteAndDay, []string{
			`X-Ratelimit-Limit: 60`, `X-Ratelimit-Remaining: 12`, `X-Ratelimit-Reset: 946684860`,
			`X-Ratelimit-Resource: minute`, `X-Ratelimit-Used: 48`,
		}, []string{
			`Retry-After: 33`, `X-Ratelimit-Limit: 60`, `X-Ratelimit-Remaining: 0`, `X-Ratelimit-Reset: 946684860`,
			`X-Ratelimit-Resource: minute`, `X-Ratelimit-Used: 60`,
		}},
		{mockserver.DialectOpenAI, requestsAndTokens, []string{
			`X-Ratelimit-Limit-Requests: 60`, `X-Ratelimit-Limit-Tokens: 1000`,
			`X-Ratelimit-Remaining-Requests: 12`, `X-Ratelimit-Remaining-Tokens: 520`,
			`X-Ratelimit-Reset-Requests: 32.5s`, `X-Ratelimit-Reset-Tokens: 32.5s`,
		}, []string{
			`Retry-After: 33`,
			`X-Ratelimit-Limit-Requests: 60`, `X-Ratelimit-Limit-Tokens: 1000`,
			`X-Ratelimit-Remaining-Requests: 0`, `X-Ratelimit-Remaining-Tokens: 400`,
			`X-Ratelimit-Reset-Requests: 32.5s`, `X-Ratelimit-Reset-Tokens: 32.5s`,
		}},
		{mockserver.DialectNone, minuteAndDay, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.dialect, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHandler(t, mockserver.Config{Dialect: c.dialect, Tiers: oneTier(c.rules...).Tiers,
					CostHeaders: map[string]string{"tokens": "X-Tokens"}})
				time.Sleep(27500 * time.Millisecond)
				var w *httptest.ResponseRecorder
				for range 48 {
					w = get(h, "/", "X-Tokens", "10")
				}
				wantStatus(t, w, http.StatusOK)
				wantHeader(t, w, "Date", "Sat, 01 Jan 2000 00:00:27 GMT")
				slices.Sort(c.allowed)
				slices.Sort(c.rejected)
				if got := rateLimitHeaders(w); !slices.Equal(got, c.allowed) {
					t.Errorf("allowed response:\n got %q\nwant %q", got, c.allowed)
				}
				for range 12 {
					get(h, "/", "X-Tokens", "10")
				}
				w = get(h, "/", "X-Tokens", "10")
				wantStatus(t, w, http.StatusTooManyRequests)
				if got := rateLimitHeaders(w); !slices.Equal(got, c.rejected) {
					t.Errorf("rejected response:\n got %q\nwant %q", got, c.rejected)
				}
				if c.dialect == mockserver.DialectNone && strings.Contains(w.Body.String(), "retry_after") {
					t.Errorf("the none dialect tells the wait in its body: %s", w.Body)
				}
			})
		})
	}
}

// TestBindingRule checks which rule the single-quota dialects report: the one that rejected the request,
// else the one with the least remaining fraction.
func TestBindingRule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 10 per second and 100 per minute: after 10 requests the second is exhausted (0 of 10), the minute
		// is not (90 of 100).
		h := newHandler(t, mockserver.Config{Dialect: mockserver.DialectGitHub,
			Tiers: oneTier(fixedWindow("second", 10, time.Second), fixedWindow("minute", 100, time.Minute)).Tiers})
		var w *httptest.ResponseRecorder
		for range 5 {
			w = get(h, "/")
		}
		// 5 of 10 left (0.5) against 95 of 100 (0.95): the second binds.
		wantHeader(t, w, "X-Ratelimit-Resource", "second")
		wantHeader(t, w, "X-Ratelimit-Remaining", "5")
		time.Sleep(time.Second)
		for range 9 { // 10 requests in each of the next 9 seconds: 95 in the minute
			for range 10 {
				wantStatus(t, get(h, "/"), http.StatusOK)
			}
			time.Sleep(time.Second)
		}
		// 10 s in: 10 of 10 left in this second (1.0) against 5 of 100 (0.05).
		w = get(h, "/")
		wantStatus(t, w, http.StatusOK)
		wantHeader(t, w, "X-Ratelimit-Resource", "minute")
		wantHeader(t, w, "X-Ratelimit-Remaining", "4")
		for range 4 {
			get(h, "/")
		}
		w = get(h, "/")
		wantStatus(t, w, http.StatusTooManyRequests)
		// Only the minute objects (the second still has 5 left), so it binds.
		wantHeader(t, w, "X-Ratelimit-Resource", "minute")
		wantHeader(t, w, "X-Ratelimit-Remaining", "0")
		wantHeader(t, w, "Retry-After", "50")
	})
}

func TestRejectionStatusAndRetryAfterFormat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, mockserver.Config{RejectStatus: http.StatusForbidden, RetryAfter: mockserver.RetryAfterHTTPDate,
			Dialect: mockserver.DialectGitHub, Tiers: oneTier(fixedWindow("core", 1, time.Hour)).Tiers})
		time.Sleep(90*time.Second + 300*time.Millisecond)
		wantStatus(t, get(h, "/"), http.StatusOK)
		w := get(h, "/")
		wantStatus(t, w, http.StatusForbidden)
		wantHeader(t, w, "Date", "Sat, 01 Jan 2000 00:01:30 GMT")
		wantHeader(t, w, "Retry-After", "Sat, 01 Jan 2000 01:00:00 GMT")
		wantHeader(t, w, "X-Ratelimit-Remaining", "0")
		wantHeader(t, w, "X-Ratelimit-Reset", "946688400")
		wantBody(t, w, `{"error":"rate_limited","message":"rate limit exceeded: rule \"core\" of tier \"default\" allows 1 requests per 1h0m0s; retry in 3510 s","retry_after":3510}`)
	})
}

// TestGCRAHeaders checks a bucket algorithm, whose reset is when the bucket is full again, with rounding up.
func TestGCRAHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 3 per 10 s: one unit every 3.333 s, burst 3.
		h := newHandler(t, mockserver.Config{Dialect: mockserver.DialectOpenAI,
			Tiers: oneTier(mockserver.Rule{Algorithm: mockserver.GCRA, Policy: mockserver.Policy{Limit: 3, Window: 10 * time.Second}}).Tiers})
		w := get(h, "/")
		wantHeader(t, w, "X-Ratelimit-Remaining-Requests", "2")
		wantHeader(t, w, "X-Ratelimit-Reset-Requests", "3.334s")
		get(h, "/")
		get(h, "/")
		w = get(h, "/")
		wantStatus(t, w, http.StatusTooManyRequests)
		wantHeader(t, w, "Retry-After", "4") // 3.333... s, rounded up
		wantHeader(t, w, "X-Ratelimit-Reset-Requests", "10s")
	})
}
