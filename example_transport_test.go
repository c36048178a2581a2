package ratekit_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/mockserver"
)

// A client wrapped by ratekit learns the server's quota from its headers and paces itself.
func ExampleNewClient() {
	// A server that allows 100 requests an hour and says so as GitHub does.
	api, _ := mockserver.NewHandler(mockserver.Config{
		Dialect: mockserver.DialectGitHub,
		Tiers: []mockserver.Tier{{Name: "free", Rules: []mockserver.Rule{
			{Name: "core", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 100, Window: time.Hour}},
		}}},
		DefaultTier: "free",
	})
	srv := httptest.NewServer(api)
	defer srv.Close()

	client := ratekit.NewClient()
	for range 3 {
		resp, err := client.Get(srv.URL + "/repos")
		if err != nil {
			fmt.Println(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, key := range client.Transport.(*ratekit.Transport).Snapshot() {
		q := key.Quotas[0]
		fmt.Printf("%s/%s: %d of %d left\n", q.Policy, q.Dimension, q.Remaining, q.Limit)
	}
	// Output:
	// core/requests: 97 of 100 left
}

// When the server asks for a longer wait than the caller accepts, ratekit says so at once instead of
// sleeping.
func ExampleRateLimitError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()

	client := &http.Client{Transport: &ratekit.Transport{MaxWait: time.Minute}}
	_, err := client.Get(srv.URL)
	var rl *ratekit.RateLimitError
	if errors.As(err, &rl) {
		fmt.Println("asked to wait", rl.Wait.Round(time.Second), "- more than MaxWait:", errors.Is(err, ratekit.ErrWaitTooLong))
	}
	// Output:
	// asked to wait 1h0m0s - more than MaxWait: true
}

// go-retryablehttp with ratekit's judgement: Retry-After in every form, and no retried POST after a 503.
func ExampleCheckRetry() {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After-Ms", "20")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()

	client := retryablehttp.NewClient()
	client.Logger = nil
	client.CheckRetry = ratekit.CheckRetry
	client.Backoff = ratekit.Backoff
	resp, err := client.Post(srv.URL, "application/json", []byte(`{"n":1}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body), "after", calls, "calls")
	// Output:
	// 200 ok after 2 calls
}
