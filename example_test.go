package ratekit_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/ratekit/ratekit"
)

// A GitHub response: the reset is an epoch time, read against the response's Date header.
func ExampleParseHeaders() {
	received := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("Date", "Mon, 23 Nov 2026 18:00:00 GMT")
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Used", "5000")
	h.Set("X-RateLimit-Reset", "1795458600")
	h.Set("X-RateLimit-Resource", "core")

	obs := ratekit.ParseHeaders(h, received)
	for _, q := range obs.Quotas {
		fmt.Println(q)
	}
	fmt.Println("wait:", obs.Wait(received))
	// Output:
	// core/requests 0/5000 reset 2026-11-23T18:30:00Z
	// wait: 30m0s
}

// An OpenAI response carries a quota per dimension; the binding one is the exhausted one.
func ExampleObservation_Binding() {
	received := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("X-Ratelimit-Limit-Requests", "500")
	h.Set("X-Ratelimit-Remaining-Requests", "499")
	h.Set("X-Ratelimit-Reset-Requests", "120ms")
	h.Set("X-Ratelimit-Limit-Tokens", "30000")
	h.Set("X-Ratelimit-Remaining-Tokens", "0")
	h.Set("X-Ratelimit-Reset-Tokens", "6m0s")

	obs := ratekit.ParseHeaders(h, received)
	q, _ := obs.Binding()
	fmt.Println("binding:", q.Dimension, "wait:", obs.Wait(received))
	// Output:
	// binding: tokens wait: 6m0s
}

// Some servers send their reset in milliseconds from now, which no rule can tell from seconds: pin it.
func ExampleParser() {
	received := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", "1500")

	auto := ratekit.ParseHeaders(h, received)
	pinned := ratekit.Parser{ResetFormat: ratekit.ResetDelayMilliseconds}
	fmt.Println("auto:  ", auto.Wait(received))
	fmt.Println("pinned:", pinned.Parse(h, received).Wait(received))
	// Output:
	// auto:   25m0s
	// pinned: 1.5s
}
