// Command compare prints a scoreboard: the same batch of requests against every kind of rate-limited server
// (each algorithm of mockserver, in each header dialect), sent by three clients side by side:
//
//   - ratekit: a ratekit.Transport with its defaults, told nothing about the policy;
//   - retryablehttp: github.com/hashicorp/go-retryablehttp with its defaults (4 retries, 1 s to 30 s backoff,
//     Retry-After honoured on 429 and 503);
//   - net/http: a plain http.Client, which does not retry.
//
// For each it reports goodput (the quota's ideal time for the batch over the time it took, scaled by the
// share of requests that succeeded: 1 is as fast as the quota allows), the share of the server's answers
// that were rejections, and the 99th percentile of the time requests spent waiting. The servers run in
// memory and the batches run in real time, all at once, with a quota compressed to seconds:
//
//	go run ./examples/compare            # about 50 seconds
//	go run ./examples/compare -dialects github,none -algorithms fixed-window,gcra
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/examples/internal/cli"
	"github.com/ratekit/ratekit/internal/harness/scoreboard"
	"github.com/ratekit/ratekit/mockserver"

	"github.com/ratekit/ratekit/internal/ctxsleep"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// clients are the contenders, in the order of the table's columns.
var clients = []struct {
	name string
	make func(base http.RoundTripper) *http.Client
}{
	{"ratekit", func(base http.RoundTripper) *http.Client {
		return &http.Client{Transport: &ratekit.Transport{Base: base, MaxWait: 10 * time.Minute}}
	}},
	{"retryablehttp", func(base http.RoundTripper) *http.Client {
		c := retryablehttp.NewClient()
		c.Logger = nil
		c.HTTPClient = &http.Client{Transport: base}
		return c.StandardClient()
	}},
	{"net/http", func(base http.RoundTripper) *http.Client { return &http.Client{Transport: base} }},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("compare", "a scoreboard: the same batch against every mockserver algorithm in every header dialect, sent by a plain client, a retrying client and ratekit.", stderr)
	n := fs.Int(cli.Requests, 150, "requests per batch")
	workers := fs.Int(cli.Concurrency, 8, "goroutines per batch")
	limit := fs.Int64("limit", 50, "the quota: requests per window")
	window := fs.Duration("window", 10*time.Second, "the quota's window")
	latency := fs.Duration("latency", 2*time.Millisecond, "one-way network latency")
	algorithms := fs.String("algorithms", strings.Join(mockserver.Algorithms(), ","), "algorithms to score, comma-separated")
	dialects := fs.String("dialects", strings.Join(mockserver.Dialects(), ","), "header dialects to score, comma-separated")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	algs, err := oneOf("-algorithms", *algorithms, mockserver.Algorithms())
	if err == nil {
		var ds []string
		if ds, err = oneOf("-dialects", *dialects, mockserver.Dialects()); err == nil {
			err = validate(*n, *workers, *limit, *window)
			if err == nil {
				return score(ctx, stdout, stderr, cells(algs, ds, *n, *workers, *limit, *window, *latency))
			}
		}
	}
	fmt.Fprintln(stderr, "compare:", err)
	return 2
}

func validate(n, workers int, limit int64, window time.Duration) error {
	switch {
	case n < 1:
		return fmt.Errorf("-n %d: want at least 1", n)
	case workers < 1:
		return fmt.Errorf("-c %d: want at least 1", workers)
	case limit < 1:
		return fmt.Errorf("-limit %d: want at least 1", limit)
	case window < time.Millisecond:
		return fmt.Errorf("-window %v: want at least 1ms", window)
	}
	return nil
}

// oneOf splits a comma-separated list and checks each name against allowed.
func oneOf(flagName, list string, allowed []string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(allowed, name) {
			return nil, fmt.Errorf("%s: unknown %q; want some of %s", flagName, name, strings.Join(allowed, ", "))
		}
		out = append(out, name)
	}
	return out, nil
}

func cells(algs, dialects []string, n, workers int, limit int64, window, latency time.Duration) []scoreboard.Cell {
	var cs []scoreboard.Cell
	for _, alg := range algs {
		for _, d := range dialects {
			c := scoreboard.Cell{Algorithm: alg, Dialect: d, Policy: mockserver.Policy{Limit: limit, Window: window},
				N: n, Workers: workers, Latency: latency}
			if alg == mockserver.Concurrency {
				// A few requests in flight, each held by the server for a while.
				c.Policy = mockserver.Policy{Limit: 4}
				c.Faults = mockserver.Faults{Latency: 20 * time.Millisecond}
			}
			cs = append(cs, c)
		}
	}
	return cs
}

// score runs every cell with every client at once and prints the table to w, and its progress to progress:
// when the batches start, and a line as each tenth of them completes.
func score(ctx context.Context, w, progress io.Writer, cs []scoreboard.Cell) int {
	results := make([][]scoreboard.Result, len(cs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	total, done := len(cs)*len(clients), 0
	// Windows are aligned to the Unix epoch: start every batch just after one opens, so that every
	// client meets the same phase and the table does not depend on when it was run.
	startAt := nextWindow(time.Now(), cs[0].Policy.Window).Add(20 * time.Millisecond)
	fmt.Fprintf(progress, "compare: %d batches (%d servers, %d clients) start together in %v, as a window opens\n",
		total, len(cs), len(clients), time.Until(startAt).Round(100*time.Millisecond))
	if err := ctxsleep.Sleep(ctx, time.Until(startAt)); err != nil {
		return 1
	}
	start := time.Now()
	for i, c := range cs {
		results[i] = make([]scoreboard.Result, len(clients))
		for j, cl := range clients {
			wg.Go(func() {
				r, err := scoreboard.Run(ctx, c, cl.make)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				results[i][j] = r
				done++
				if done*10/total > (done-1)*10/total || done == total {
					fmt.Fprintf(progress, "compare: %d/%d batches done after %v (the last: %s, %s, %s)\n",
						done, total, time.Since(start).Round(100*time.Millisecond), c.Algorithm, c.Dialect, cl.name)
				}
			})
		}
	}
	wg.Wait()
	if firstErr != nil {
		fmt.Fprintln(w, "compare:", firstErr)
		return 1
	}
	if ctx.Err() != nil {
		return 1
	}
	printTable(w, cs, results)
	fmt.Fprintf(w, "\n%d batches of %d requests with %d goroutines, all at once, in %v.\n",
		len(cs)*len(clients), cs[0].N, cs[0].Workers, time.Since(start).Round(time.Second))
	return 0
}

// nextWindow is when the next window of length w opens, windows starting at multiples of w since the epoch.
func nextWindow(now time.Time, w time.Duration) time.Time {
	if w <= 0 {
		return now
	}
	ns := now.UnixNano()
	return time.Unix(0, (ns/int64(w)+1)*int64(w))
}

func printTable(w io.Writer, cs []scoreboard.Cell, results [][]scoreboard.Result) {
	fmt.Fprintf(w, "goodput (1 = as fast as the quota allows) / rejected answers / p99 wait\n\n")
	fmt.Fprintf(w, "%-34s", "server")
	for _, cl := range clients {
		fmt.Fprintf(w, " | %-25s", cl.name)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%s", strings.Repeat("-", 34))
	for range clients {
		fmt.Fprintf(w, "-|-%s", strings.Repeat("-", 25))
	}
	fmt.Fprintln(w)
	sums := make([]struct{ goodput, rejected float64 }, len(clients))
	for i, c := range cs {
		fmt.Fprintf(w, "%-34s", c.Label())
		for j, r := range results[i] {
			fmt.Fprintf(w, " | %5.2f %5.1f%% %12s", r.Goodput(), 100*r.RejectedShare(), r.P99Extra.Round(time.Millisecond))
			sums[j].goodput += r.Goodput()
			sums[j].rejected += r.RejectedShare()
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%-34s", "mean")
	for _, s := range sums {
		fmt.Fprintf(w, " | %5.2f %5.1f%% %12s", s.goodput/float64(len(cs)), 100*s.rejected/float64(len(cs)), "")
	}
	fmt.Fprintln(w)
}
