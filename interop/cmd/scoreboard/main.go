// Command scoreboard sends the same batch to every real rate limiter of the interop suite with three clients
// side by side, each told nothing about the policy:
//
//   - ratekit: a ratekit.Transport with its defaults;
//   - retryablehttp: github.com/hashicorp/go-retryablehttp with its defaults (4 retries, 1 s to 30 s
//     backoff, Retry-After honoured on 429 and 503);
//   - net/http: a plain http.Client, which does not retry.
//
// Every (peer, client) pair gets a fresh limiter (a fresh process for Redis, nginx, HAProxy, Node and
// Python) and all batches run at once, in real time, each bounded by -timeout. For each it prints the efficiency (the peer's
// ideal time for the batch over the time it took, at most 1, scaled by the share of requests that
// succeeded), the share of the server's answers that were rejections, and how many requests succeeded.
// Progress goes to stderr. Run it from the interop module:
//
//	cd interop && go run ./cmd/scoreboard            # about 45 seconds
//	go run ./cmd/scoreboard -peers nginx,throttled -policies 50/s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratekit/ratekit/interop"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scoreboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	peers := fs.String("peers", "", "comma-separated substrings of the peers to score (empty: all)")
	policies := fs.String("policies", "50/s,10/s", "policies to score, comma-separated, of "+strings.Join(policyNames(), ", "))
	workers := fs.Int("c", interop.BatchWorkers, "goroutines per batch")
	timeout := fs.Duration("timeout", 40*time.Second, "longest a batch may take; unfinished requests count as failed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	selected, err := selectPeers(*peers, *policies)
	if err == nil && *workers < 1 {
		err = fmt.Errorf("-c %d: want at least 1", *workers)
	}
	if err == nil && *timeout <= 0 {
		err = fmt.Errorf("-timeout %v: want more than 0", *timeout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "scoreboard:", err)
		return 2
	}
	results, skipped := score(ctx, stderr, selected, *workers, *timeout)
	if ctx.Err() != nil {
		return 1
	}
	printTable(stdout, selected, results, skipped)
	return 0
}

func policyNames() []string {
	var ns []string
	for _, p := range interop.Policies() {
		ns = append(ns, p.Name)
	}
	return ns
}

// selectPeers keeps the peers whose name contains one of the substrings, at the given policies.
func selectPeers(peers, policies string) ([]interop.Peer, error) {
	var pols []string
	for name := range strings.SplitSeq(policies, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(policyNames(), name) {
			return nil, fmt.Errorf("-policies: unknown %q; want some of %s", name, strings.Join(policyNames(), ", "))
		}
		pols = append(pols, name)
	}
	var subs []string
	for s := range strings.SplitSeq(peers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			subs = append(subs, s)
		}
	}
	var out []interop.Peer
	for _, p := range interop.AllPeers() {
		if !slices.Contains(pols, p.Policy.Name) {
			continue
		}
		if len(subs) > 0 && !slices.ContainsFunc(subs, func(s string) bool { return strings.Contains(p.Name(), s) }) {
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-peers %q -policies %q: no peer matches", peers, policies)
	}
	return out, nil
}

// score runs every peer with every client at once, reporting progress on w.
func score(ctx context.Context, w io.Writer, peers []interop.Peer, workers int, timeout time.Duration) ([][]interop.Result, map[string]string) {
	clients := interop.Clients()
	results := make([][]interop.Result, len(peers))
	skipped := map[string]string{}
	total := len(peers) * len(clients)
	var done atomic.Int64
	var mu sync.Mutex // guards w, skipped
	start := time.Now()
	fmt.Fprintf(w, "scoreboard: %d batches (%d peers x %d clients), all at once, each at most %v\n", total, len(peers), len(clients), timeout)

	progress, stopProgress := context.WithCancel(ctx)
	defer stopProgress()
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-progress.Done():
				return
			case <-tick.C:
				mu.Lock()
				fmt.Fprintf(w, "scoreboard: %d/%d batches done after %v\n", done.Load(), total, time.Since(start).Round(time.Second))
				mu.Unlock()
			}
		}
	}()

	var wg sync.WaitGroup
	for i, p := range peers {
		results[i] = make([]interop.Result, len(clients))
		for j, c := range clients {
			wg.Go(func() {
				bctx, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				r, err := interop.RunBatch(bctx, p, c, interop.BatchSize(p), workers)
				done.Add(1)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					skipped[p.Name()] = err.Error()
					fmt.Fprintf(w, "scoreboard: %s: %v\n", p.Name(), err)
					return
				}
				results[i][j] = r
				fmt.Fprintf(w, "scoreboard: %s\n", r)
			})
		}
	}
	wg.Wait()
	stopProgress()
	fmt.Fprintf(w, "scoreboard: all %d batches done in %v\n", total, time.Since(start).Round(time.Second))
	return results, skipped
}

// printTable writes the scores as a Markdown table: efficiency, rejected share, requests done per client.
func printTable(w io.Writer, peers []interop.Peer, results [][]interop.Result, skipped map[string]string) {
	clients := interop.Clients()
	fmt.Fprintf(w, "| peer (library, variant, policy) | algorithm | requests |")
	for _, c := range clients {
		fmt.Fprintf(w, " %s |", c.Name)
	}
	fmt.Fprintf(w, "\n| --- | --- | --- |%s\n", strings.Repeat(" --- |", len(clients)))
	sums := make([]float64, len(clients))
	rows := 0
	for i, p := range peers {
		if msg, ok := skipped[p.Name()]; ok {
			fmt.Fprintf(w, "| %s | %s | - | not run: %s |\n", p.Name(), p.Algorithm, msg)
			continue
		}
		rows++
		fmt.Fprintf(w, "| %s | %s | %d |", p.Name(), p.Algorithm, interop.BatchSize(p))
		for j, r := range results[i] {
			fmt.Fprintf(w, " %.2f, %.0f%% rejected%s |", r.Efficiency(), 100*r.RejectedShare(), completion(r))
			sums[j] += r.Efficiency()
		}
		fmt.Fprintln(w)
	}
	if rows > 0 {
		fmt.Fprintf(w, "| mean efficiency | | |")
		for _, s := range sums {
			fmt.Fprintf(w, " %.2f |", s/float64(rows))
		}
		fmt.Fprintln(w)
	}
}

func completion(r interop.Result) string {
	if r.Completed == r.N {
		return ""
	}
	return fmt.Sprintf(", %d/%d done", r.Completed, r.N)
}
