package mockserver_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// A stand-alone mock API: every client IP may send 2 requests per minute (token bucket); the third is
// rejected with Retry-After and a JSON body.
func ExampleNewHandler() {
	h, err := mockserver.NewHandler(mockserver.Config{
		Dialect: mockserver.DialectXRateLimit,
		Tiers: []mockserver.Tier{{Name: "free", Rules: []mockserver.Rule{
			{Name: "minute", Algorithm: mockserver.TokenBucket, Policy: mockserver.Policy{Limit: 2, Window: time.Minute}},
		}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/items", nil))
		fmt.Printf("%d remaining=%s retry-after=%q\n", w.Code, w.Header().Get("X-RateLimit-Remaining"), w.Header().Get("Retry-After"))
		fmt.Print(w.Body)
	}
	// Output:
	// 200 remaining=1 retry-after=""
	// {"key":"192.0.2.1","tier":"free","cost":1,"remaining":1}
	// 200 remaining=0 retry-after=""
	// {"key":"192.0.2.1","tier":"free","cost":1,"remaining":0}
	// 429 remaining=0 retry-after="30"
	// {"error":"rate_limited","message":"rate limit exceeded: rule \"minute\" of tier \"free\" allows 2 requests per 1m0s; retry in 30 s","retry_after":30}
}

// Middleware: the same rate limiting in front of your own API, with tiers by API key and a costly route.
func ExampleHandler_Wrap() {
	limits, err := mockserver.NewHandler(mockserver.Config{
		Key:     mockserver.KeyAPIKey,
		Dialect: mockserver.DialectGitHub,
		Tiers: []mockserver.Tier{
			{Name: "free", Rules: []mockserver.Rule{
				{Name: "core", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 60, Window: time.Hour}}}},
			{Name: "pro", Keys: []string{"key-pro"}, Rules: []mockserver.Rule{
				{Name: "core", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 5000, Window: time.Hour}}}},
		},
		Routes: []mockserver.Route{{Pattern: "/search", Cost: 5}},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "results\n")
	})
	h := limits.Wrap(api)

	for _, key := range []string{"key-free", "key-pro", ""} {
		r := httptest.NewRequest(http.MethodGet, "/search?q=go", nil)
		if key != "" {
			r.Header.Set("X-API-Key", key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%d resource=%q used=%q limit=%q\n", w.Code, w.Header().Get("X-RateLimit-Resource"),
			w.Header().Get("X-RateLimit-Used"), w.Header().Get("X-RateLimit-Limit"))
	}
	// Output:
	// 200 resource="core" used="5" limit="60"
	// 200 resource="core" used="5" limit="5000"
	// 401 resource="" used="" limit=""
}

// A Config error names the field and the values it accepts.
func ExampleConfigError() {
	_, err := mockserver.NewHandler(mockserver.Config{Dialect: "x-rate-limit"})
	fmt.Println(err)
	// Output:
	// mockserver: Config.Dialect: unknown dialect "x-rate-limit" (allowed: ietf, ietf-legacy, x-ratelimit, github, openai, tollbooth, anthropic, shopify, discord, none)
}
