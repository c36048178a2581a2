// Command tiers shows one ratekit Transport serving clients of different plans on one API: a free key,
// a pro key and an enterprise key run side by side, and each goes as fast as its own plan allows. From
// the repository root:
//
//	go run ./examples/tiers
//	go run ./examples/tiers -duration 10s -c 4 -dialect github
//
// The embedded mock API keys clients by API key (an Authorization: Bearer token) and has three tiers:
// free 60 requests a minute, pro 600 a minute, enterprise 6000 a minute plus 100000 a day. The minute
// quotas are token buckets that allow a short burst (a twelfth of the minute) and then a steady rate.
//
// The Transport's KeyFunc is ratekit.KeyByAPIKey, so it keeps one quota per API key: the free key waiting
// for its next request never holds back the pro key. Each client stops at -duration; a request whose wait
// would pass that deadline fails at once (a *ratekit.RateLimitError) instead of sleeping into it.
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
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/examples/internal/cli"
	"github.com/ratekit/ratekit/mockserver"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// plan is a tier of the mock API and the API key of the client on it.
type plan struct {
	tier   string
	apiKey string
	rules  []mockserver.Rule
}

// perMinute is a token bucket of limit requests a minute with bursts of a twelfth of it (5 s worth).
func perMinute(limit int64) mockserver.Rule {
	return mockserver.Rule{Algorithm: mockserver.TokenBucket,
		Policy: mockserver.Policy{Limit: limit, Window: time.Minute, Burst: limit / 12}}
}

func plans() []plan {
	return []plan{
		{"free", "key-free", []mockserver.Rule{perMinute(60)}},
		{"pro", "key-pro", []mockserver.Rule{perMinute(600)}},
		{"enterprise", "key-enterprise", []mockserver.Rule{perMinute(6000),
			{Algorithm: mockserver.FixedWindow, Policy: mockserver.Policy{Limit: 100000, Window: 24 * time.Hour}}}},
	}
}

// run is the example; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("tiers", "one ratekit Transport serving a free, a pro and an enterprise API key side by side, each as fast as its own plan allows.", stderr)
	duration := fs.Duration("duration", 4*time.Second, "how long the clients run")
	workers := fs.Int(cli.Concurrency, 2, "workers per client")
	dialect := fs.String("dialect", mockserver.DialectIETF, "the mock server's headers: "+strings.Join(mockserver.Dialects(), ", "))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case *duration <= 0:
		fmt.Fprintf(stderr, "tiers: -duration %s: must be more than 0 (for example 4s)\n", *duration)
		return 2
	case *workers < 1:
		fmt.Fprintf(stderr, "tiers: -c %d: at least 1 worker per client\n", *workers)
		return 2
	case !slices.Contains(mockserver.Dialects(), *dialect):
		fmt.Fprintf(stderr, "tiers: -dialect %q is not a dialect (allowed: %s)\n", *dialect, strings.Join(mockserver.Dialects(), ", "))
		return 2
	}

	// The mock API: one tier per plan, each listing its API key; keys are read from Authorization: Bearer.
	cfg := mockserver.Config{Key: mockserver.KeyAPIKey, Dialect: *dialect}
	for _, p := range plans() {
		cfg.Tiers = append(cfg.Tiers, mockserver.Tier{Name: p.tier, Keys: []string{p.apiKey}, Rules: p.rules})
	}
	api, err := mockserver.NewHandler(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "tiers:", err)
		return 1
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	// One client for every plan: ratekit keeps a separate quota per API key.
	client := &http.Client{Transport: &ratekit.Transport{KeyFunc: ratekit.KeyByAPIKey}}

	fmt.Fprintf(stdout, "%d clients side by side for %s, %d workers each, one ratekit.Transport keyed by API key (dialect %s)\n\n",
		len(plans()), *duration, *workers, *dialect)
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	results := make([]clientResult, len(plans()))
	var wg sync.WaitGroup
	for i, p := range plans() {
		wg.Go(func() { results[i] = runClient(ctx, client, srv.URL+"/v1/items", p.apiKey, *workers) })
	}
	wg.Wait()
	rejected, err := rejectedByServer(srv.URL)
	if err != nil {
		fmt.Fprintln(stderr, "tiers:", err)
		return 1
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "tier\tplan\trequests\trate\trejected\tthe server's last word")
	code := 0
	for i, p := range plans() {
		r := results[i]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f/s\t%d\t%s\n", p.tier, describePlan(p.rules), r.done,
			float64(r.done)/duration.Seconds(), rejected[p.apiKey], describeQuotas(r.last, r.lastAt))
		if r.err != nil {
			code = 1
			defer fmt.Fprintf(stdout, "%s: %v\n", p.tier, r.err)
		}
	}
	tw.Flush()
	return code
}

// clientResult is what one client did.
type clientResult struct {
	done   int         // requests answered 200
	last   http.Header // the header of the last of them
	lastAt time.Time   // when it arrived
	err    error       // a failure other than the deadline
}

// runClient sends requests with apiKey from workers goroutines until ctx ends.
func runClient(ctx context.Context, client *http.Client, url, apiKey string, workers int) clientResult {
	var (
		res clientResult
		mu  sync.Mutex
		wg  sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					mu.Lock()
					res.err = err
					mu.Unlock()
					return
				}
				req.Header.Set("Authorization", "Bearer "+apiKey)
				resp, err := client.Do(req)
				if errors.Is(err, context.DeadlineExceeded) {
					return // time is up, or the next slot is past it
				}
				mu.Lock()
				if err != nil {
					res.err = err
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						res.done++
						res.last, res.lastAt = resp.Header, time.Now()
					}
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return res
}

// rejectedByServer reads the mock server's /_stats: how many requests it rejected, by key (here the API key).
func rejectedByServer(base string) (map[string]int, error) {
	resp, err := http.Get(base + "/_stats")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var stats struct {
		Keys []struct {
			Key      string `json:"key"`
			Rejected int    `json:"rejected"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		return nil, fmt.Errorf("reading /_stats: %w", err)
	}
	rejected := map[string]int{}
	for _, k := range stats.Keys {
		rejected[k.Key] = k.Rejected
	}
	return rejected, nil
}

// describePlan says the rules of a tier: "60/min (burst 5)", "6000/min (burst 500) + 100000/day".
func describePlan(rules []mockserver.Rule) string {
	var parts []string
	for _, r := range rules {
		per := r.Policy.Window.String()
		switch r.Policy.Window {
		case time.Minute:
			per = "min"
		case 24 * time.Hour:
			per = "day"
		}
		s := fmt.Sprintf("%d/%s", r.Policy.Limit, per)
		if r.Policy.Burst > 0 {
			s += fmt.Sprintf(" (burst %d)", r.Policy.Burst)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " + ")
}

// describeQuotas says what the last successful response reported: "minute 0/60 left, full in 1m0s".
func describeQuotas(h http.Header, at time.Time) string {
	if h == nil {
		return "no successful response"
	}
	obs := ratekit.ParseHeaders(h, at)
	if obs.Empty() {
		return "no rate-limit headers"
	}
	var parts []string
	for _, q := range obs.Quotas {
		s := fmt.Sprintf("%d/%d left", q.Remaining, q.Limit)
		if q.Policy != "" {
			s = q.Policy + " " + s
		}
		if in := q.ResetIn(at); in > 0 {
			s += ", full in " + in.Round(time.Second).String()
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
