package ratekit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/ratekit/ratekit"
)

// A client wrapped by ratekit learns the server's quota from its headers and paces itself.
func ExampleNewClient() {
	// A server that allows 100 requests an hour and says so as GitHub does.
	var used int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		used++
		w.Header().Set("X-RateLimit-Limit", "100")
		w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(100-used))
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Hour).Unix()))
		w.Header().Set("X-RateLimit-Resource", "core")
	}))
	defer srv.Close()

	tr := &ratekit.Transport{}
	client := ratekit.NewClient(tr)
	for range 3 {
		resp, err := client.Get(srv.URL + "/repos")
		if err != nil {
			fmt.Println(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, key := range tr.Snapshot() {
		q := key.Quotas[0]
		fmt.Printf("%s/%s: %d of %d left\n", q.Policy, q.Dimension, q.Remaining, q.Limit)
	}
	// Output:
	// core/requests: 97 of 100 left
}

// A Transport is configured where it is made; its hooks say what it does. Here the server refuses the first
// request and asks for 20 ms: the Transport waits that long, retries, and returns the retry's answer.
func ExampleTransport() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After-Ms", "20")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()

	tr := &ratekit.Transport{
		MaxWait: 5 * time.Second, // refuse, with a *RateLimitError, any wait longer than this
		OnRetry: func(e ratekit.RetryEvent) {
			fmt.Println("retry", e.Attempt, "after status", e.Response.StatusCode)
		},
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body), "after", calls.Load(), "calls")
	// Output:
	// retry 1 after status 429
	// 200 ok after 2 calls
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

// RetryablehttpCheckRetry and RetryablehttpBackoff are go-retryablehttp's CheckRetry and Backoff with
// ratekit's judgement (client.CheckRetry, client.Backoff = ratekit.RetryablehttpCheckRetry,
// ratekit.RetryablehttpBackoff; examples/retryablehttp runs it): a 429 is retried after the wait the server asked for, in any of its forms; a POST refused by a 503
// is not retried, since the server may have acted on it.
func ExampleRetryablehttpCheckRetry() {
	answer := func(method string, status int, header ...string) *http.Response {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Request: httptest.NewRequest(method, "http://api.test/", nil)}
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		return resp
	}
	limited := answer(http.MethodPost, http.StatusTooManyRequests, "Retry-After-Ms", "20")
	retry, _ := ratekit.RetryablehttpCheckRetry(context.Background(), limited, nil)
	wait := ratekit.RetryablehttpBackoff(time.Second, 30*time.Second, 1, limited) // the 20 ms asked, plus up to 10%
	fmt.Println("429 POST: retry", retry, "after 20-22 ms:", wait >= 20*time.Millisecond && wait <= 22*time.Millisecond)
	retry, _ = ratekit.RetryablehttpCheckRetry(context.Background(), answer(http.MethodPost, http.StatusServiceUnavailable), nil)
	fmt.Println("503 POST: retry", retry)
	// Output:
	// 429 POST: retry true after 20-22 ms: true
	// 503 POST: retry false
}
