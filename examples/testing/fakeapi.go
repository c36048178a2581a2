package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// fakeIssuesAPI is a stand-in for the real API's answers: GET /repos/{owner}/{repo}/issues/{number} returns
// {"number": N, "title": "Issue N"}. It knows nothing about rate limits; the mock server's Wrap adds them.
func fakeIssuesAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("number"))
		if err != nil || n < 1 {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Issue{Number: n, Title: fmt.Sprintf("Issue %d", n)})
	})
	return mux
}

// rateLimited puts a mock server's rate limiting, with one rule of algorithm and policy for every API key
// (the Bearer token), in front of the fake API; dialect sets the headers it answers with. Its /_stats
// endpoint reports, per token, how many requests it admitted and rejected.
func rateLimited(algorithm, dialect string, limit int64, window time.Duration) (http.Handler, error) {
	limiter, err := mockserver.NewHandler(mockserver.Config{
		Key:     mockserver.KeyAPIKey,
		RawKeys: true, // a test double: /_stats lists the tokens themselves, not their hashes
		Dialect: dialect,
		Tiers: []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{
			{Algorithm: algorithm, Policy: mockserver.Policy{Limit: limit, Window: window}},
		}}},
	})
	if err != nil {
		return nil, err
	}
	// Under Wrap the admin paths are the API's own; the test double serves /_stats beside it, unlimited.
	mux := http.NewServeMux()
	mux.Handle("/_stats", limiter.StatsHandler())
	mux.Handle("/", limiter.Wrap(fakeIssuesAPI()))
	return mux, nil
}
