// Command testing is a recipe: how to test your own API client against mockserver. The client under test
// is IssuesClient (issues.go), a small client of a GitHub-like API, built on ratekit; the tests in
// issues_test.go are the recipe proper, as Go tests. This program runs the same checks once, in real time,
// against a policy of your choice. From the repository root:
//
//	go run ./examples/testing
//	go run ./examples/testing -algorithm sliding-window-log -dialect ietf -limit 20 -window 5s -n 50
//	go test ./examples/testing
//
// The steps, each marked in the code:
//
//  1. Put the mock server's rate limiting in front of a fake of the real API (mockserver.Handler.Wrap),
//     with the algorithm, the limit and the header dialect the real API has.
//  2. Serve it: httptest.NewServer here (a real socket); an in-memory RoundTripper inside a
//     testing/synctest bubble in issues_test.go, where a minute's wait takes no real time.
//  3. Run your client against it, pointed at the server's URL.
//  4. Check the results, and ask the mock server (GET /_stats) what it saw: how many requests each key
//     sent, and how many it had to reject.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ratekit/ratekit/examples/internal/cli"
	"github.com/ratekit/ratekit/mockserver"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// token is the API key the client under test sends; the mock server keys its limits by it.
const token = "test-token"

// run is the recipe as a program; it returns 0 when every check passes.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("testing", "how to test your own API client against mockserver: runs the recipe's checks once, in real time, against a policy of your choice.", stderr)
	algorithm := fs.String("algorithm", mockserver.TokenBucket, "the mock server's algorithm: "+strings.Join(mockserver.Algorithms(), ", "))
	dialect := fs.String("dialect", mockserver.DialectGitHub, "the mock server's headers: "+strings.Join(mockserver.Dialects(), ", "))
	limit := fs.Int64("limit", 50, "requests per -window")
	window := fs.Duration("window", 10*time.Second, "the window of -limit")
	n := fs.Int(cli.Requests, 60, "issues to fetch")
	workers := fs.Int(cli.Concurrency, 4, "the client's workers")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *n < 1 || *workers < 1 {
		fmt.Fprintf(stderr, "testing: -n %d -c %d: both must be at least 1\n", *n, *workers)
		return 2
	}

	// 1. The mock server's limits in front of a fake API. NewHandler checks the algorithm, the dialect and
	// the policy, and names the field and the allowed values when one is wrong.
	api, err := rateLimited(*algorithm, *dialect, *limit, *window)
	if err != nil {
		fmt.Fprintln(stderr, "testing:", err)
		return 2
	}
	// 2. Serve it.
	srv := httptest.NewServer(api)
	defer srv.Close()
	fmt.Fprintf(stdout, "mock API at %s: %s, %d requests per %s, dialect %s, keyed by API key\n",
		srv.URL, *algorithm, *limit, *window, *dialect)

	// 3. Run the client under test against it.
	client := NewIssuesClient(srv.URL+"/repos/octo/demo", token, nil)
	numbers := make([]int, *n)
	for i := range numbers {
		numbers[i] = i + 1
	}
	start := time.Now()
	issues, fetchErr := client.Issues(ctx, numbers, *workers)
	fmt.Fprintf(stdout, "the client fetched %d issues with %d workers in %s\n\n", len(issues), *workers, time.Since(start).Round(10*time.Millisecond))

	// 4. Check what the client got, and what the server saw.
	stats, err := serverStats(ctx, srv.URL)
	if err != nil {
		fmt.Fprintln(stderr, "testing:", err)
		return 1
	}
	seen := stats[token]
	budget := max(*n/100, 1) // 1% of the requests; ratekit spends one rejection to learn a fixed window
	checks := []struct {
		ok   bool
		what string
	}{
		{fetchErr == nil, "the client returned no error" + errorSuffix(fetchErr)},
		{rightIssues(issues, numbers), "every issue arrived, in order, with its title"},
		{len(stats) == 1 && seen.Allowed == *n, fmt.Sprintf("the server admitted %d requests, all with the client's token (keys seen: %d)", seen.Allowed, len(stats))},
		{seen.Rejected <= budget, fmt.Sprintf("the server rejected %d requests (budget: %d, 1%% of them)", seen.Rejected, budget)},
	}
	failed := false
	for _, c := range checks {
		mark := "ok  "
		if !c.ok {
			mark, failed = "FAIL", true
		}
		fmt.Fprintf(stdout, "%s %s\n", mark, c.what)
	}
	if failed {
		fmt.Fprintln(stdout, "\nFAIL")
		return 1
	}
	fmt.Fprintln(stdout, "\nPASS")
	return 0
}

// errorSuffix is ": " and err, or nothing for no error.
func errorSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (got: " + err.Error() + ")"
}

// rightIssues reports whether issues are the issues numbered numbers, in order, as the fake API titles them.
func rightIssues(issues []Issue, numbers []int) bool {
	return slices.EqualFunc(issues, numbers, func(is Issue, n int) bool {
		return is.Number == n && is.Title == fmt.Sprintf("Issue %d", n)
	})
}

// keyStats is what the mock server's /_stats says about one key.
type keyStats struct {
	Allowed  int `json:"allowed"`
	Rejected int `json:"rejected"`
}

// serverStats asks the mock server what it saw, by key: GET /_stats.
func serverStats(ctx context.Context, base string) (map[string]keyStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_stats", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return decodeStats(resp.Body)
}

// decodeStats reads the JSON of /_stats into counts by key.
func decodeStats(r io.Reader) (map[string]keyStats, error) {
	var body struct {
		Keys []struct {
			Key string `json:"key"`
			keyStats
		} `json:"keys"`
	}
	if err := json.NewDecoder(r).Decode(&body); err != nil {
		return nil, fmt.Errorf("reading /_stats: %w", err)
	}
	stats := map[string]keyStats{}
	for _, k := range body.Keys {
		stats[k.Key] = k.keyStats
	}
	return stats, nil
}
