// Command basic is the smallest use of ratekit: wrap an http.Client, make a few calls, and read the quota
// the server reported, both from one response (ratekit.ParseHeaders) and from the Transport, which keeps a
// view per key (Transport.Snapshot). From the repository root:
//
//	go run ./examples/basic
//	go run ./examples/basic -dialect ietf -n 5
//
// The server is an embedded mock API (mockserver on a local port) that allows 60 requests a minute and says
// so in the headers of -dialect: github (default), ietf, ietf-legacy, x-ratelimit, openai or none. Whatever
// the dialect, ratekit reads it into the same Quota.
package main

import (
	"context"
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

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/examples/internal/cli"
	"github.com/ratekit/ratekit/mockserver"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the example; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("basic", "the smallest use of ratekit: a few calls to a mock API, and the quota ratekit read from their headers.", stderr)
	dialect := fs.String("dialect", mockserver.DialectGitHub, "the mock server's headers: "+strings.Join(mockserver.Dialects(), ", "))
	calls := fs.Int(cli.Requests, 3, "how many calls to make")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case !slices.Contains(mockserver.Dialects(), *dialect):
		fmt.Fprintf(stderr, "basic: -dialect %q is not a dialect (allowed: %s)\n", *dialect, strings.Join(mockserver.Dialects(), ", "))
		return 2
	case *calls < 1:
		fmt.Fprintf(stderr, "basic: -n %d: make at least 1 call\n", *calls)
		return 2
	}

	// A mock API: 60 requests a minute per client, in fixed windows, told in the chosen dialect.
	api, err := mockserver.NewHandler(mockserver.Config{
		Dialect: *dialect,
		Tiers: []mockserver.Tier{{Name: "free", Rules: []mockserver.Rule{
			{Name: "core", Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 60, Window: time.Minute}},
		}}},
	})
	if err != nil {
		fmt.Fprintln(stderr, "basic:", err)
		return 1
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	fmt.Fprintf(stdout, "mock API at %s: fixed-window, 60 requests per minute, dialect %s\n\n", srv.URL, *dialect)

	// The ratekit lines: a client whose Transport keeps within the server's limits (the Transport is kept
	// only to print its Snapshot below). Everything else is plain net/http.
	tr := &ratekit.Transport{}
	client := ratekit.NewClient(tr)

	var last *http.Response
	for range *calls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/repos/ratekit/ratekit", nil)
		if err != nil {
			fmt.Fprintln(stderr, "basic:", err)
			return 1
		}
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintln(stderr, "basic:", err)
			return 1
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Fprintf(stdout, "GET %s: %s\n", req.URL.Path, resp.Status)
		last = resp
	}

	// What the last response said, in the dialect's own words and as ratekit reads them.
	now := time.Now()
	fmt.Fprintln(stdout, "\nthe last response's rate-limit headers:")
	var names []string
	for name := range last.Header {
		if lower := strings.ToLower(name); strings.Contains(lower, "ratelimit") || strings.Contains(lower, "retry-after") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(stdout, "  %s: %s\n", name, strings.Join(last.Header.Values(name), ", "))
	}
	if len(names) == 0 {
		fmt.Fprintln(stdout, "  none")
	}
	obs := ratekit.ParseHeaders(last.Header, now)
	fmt.Fprintln(stdout, "\nread with ratekit.ParseHeaders:")
	if obs.Empty() {
		fmt.Fprintln(stdout, "  nothing: the server reports no quota (ratekit then paces by the 429s it meets)")
	}
	for _, q := range obs.Quotas {
		fmt.Fprintf(stdout, "  %s\n", describe(q, now))
	}
	fmt.Fprintf(stdout, "  wait before the next request: %s\n", obs.Wait(now))

	// What the Transport keeps per key (here one key, the server's scheme and host).
	fmt.Fprintln(stdout, "\nthe Transport's view (Transport.Snapshot):")
	for _, key := range tr.Snapshot() {
		fmt.Fprintf(stdout, "  key %s: %d in flight, %d waiting\n", key.Key, key.InFlight, key.Waiting)
		for _, q := range key.Quotas {
			fmt.Fprintf(stdout, "    %s\n", describe(q, now))
		}
		if len(key.Quotas) == 0 {
			fmt.Fprintln(stdout, "    no quota reported")
		}
	}
	return 0
}

// describe says a quota in words: "core/requests: 57 of 60 left, restored in 43s".
func describe(q ratekit.Quota, now time.Time) string {
	name := q.Dimension
	if q.Policy != "" {
		name = q.Policy + "/" + q.Dimension
	}
	s := fmt.Sprintf("%s: %d of %d left", name, q.Remaining, q.Limit)
	if in := q.ResetIn(now); in > 0 {
		s += fmt.Sprintf(", restored in %s", in.Round(time.Second))
	}
	return s
}
