// Command retryablehttp shows the two ways to use ratekit with github.com/hashicorp/go-retryablehttp, and
// what each does against a server that rejects a burst. From the repository root:
//
//	go run ./examples/retryablehttp
//	go run ./examples/retryablehttp -n 60 -c 8 -dialect github
//
// The two ways:
//
//  1. Keep retryablehttp's transport and give it ratekit's judgement: ratekit.RetryablehttpCheckRetry
//     retries 429s (and never a POST after a 5xx), ratekit.RetryablehttpBackoff waits as long as the server
//     asked, in any header dialect. Requests still leave as fast as the workers send them, so a burst meets
//     the limit and is retried.
//  2. Put a ratekit Transport under retryablehttp (MaxRetries: -1, so that only retryablehttp retries):
//     requests are paced before they leave, from what the server's headers say, and a pause the server
//     asks for holds every worker at once.
//
// Each way runs the same batch (-n requests by -c workers) against its own embedded mock API that allows
// 20 requests per 2 s (a token bucket: a burst of 20, then 10 a second) and tells it in the headers of
// -dialect. The mock server's /_stats endpoint says how many requests it rejected.
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
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/examples/internal/cli"
	"github.com/ratekit/ratekit/mockserver"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// The mock API's policy: a token bucket of 20 requests per 2 s.
const (
	limit  = 20
	window = 2 * time.Second
)

// run is the example; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("retryablehttp", "the two ways to use ratekit with go-retryablehttp, and what each does against a server that rejects a burst.", stderr)
	n := fs.Int(cli.Requests, 40, "requests per way")
	workers := fs.Int(cli.Concurrency, 4, "workers sending at once")
	dialect := fs.String("dialect", mockserver.DialectIETF, "the mock server's headers: "+strings.Join(mockserver.Dialects(), ", "))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case *n < 1 || *workers < 1:
		fmt.Fprintf(stderr, "retryablehttp: -n %d -c %d: both must be at least 1\n", *n, *workers)
		return 2
	case !slices.Contains(mockserver.Dialects(), *dialect):
		fmt.Fprintf(stderr, "retryablehttp: -dialect %q is not a dialect (allowed: %s)\n", *dialect, strings.Join(mockserver.Dialects(), ", "))
		return 2
	}
	fmt.Fprintf(stdout, "mock API: token-bucket, %d requests per %s, dialect %s; %d requests by %d workers each way\n",
		limit, window, *dialect, *n, *workers)

	ways := []struct {
		title     string
		configure func(*retryablehttp.Client)
	}{
		{"1. retryablehttp with ratekit.RetryablehttpCheckRetry and ratekit.RetryablehttpBackoff", func(c *retryablehttp.Client) {
			c.CheckRetry = ratekit.RetryablehttpCheckRetry
			c.Backoff = ratekit.RetryablehttpBackoff
		}},
		{"2. retryablehttp over a ratekit.Transport (MaxRetries: -1: only retryablehttp retries)", func(c *retryablehttp.Client) {
			c.HTTPClient.Transport = &ratekit.Transport{Base: c.HTTPClient.Transport, MaxRetries: -1}
		}},
	}
	code := 0
	for _, way := range ways {
		res, err := runWay(ctx, *dialect, *n, *workers, way.configure)
		if err != nil {
			fmt.Fprintln(stderr, "retryablehttp:", err)
			return 1
		}
		fmt.Fprintf(stdout, "\n%s\n", way.title)
		fmt.Fprintf(stdout, "   %d of %d done in %s; the server rejected %d; retryablehttp retried %d times\n",
			res.done, *n, res.elapsed.Round(10*time.Millisecond), res.rejected, res.retries)
		if res.firstErr != nil {
			fmt.Fprintf(stdout, "   first failure: %v\n", res.firstErr)
			code = 1
		}
	}
	return code
}

// wayResult is what one way did.
type wayResult struct {
	done     int // requests answered 200
	retries  int64
	rejected int // as the server counted them
	elapsed  time.Duration
	firstErr error
}

// runWay sends n requests with workers goroutines through a retryablehttp client set up by configure,
// against a fresh mock API.
func runWay(ctx context.Context, dialect string, n, workers int, configure func(*retryablehttp.Client)) (wayResult, error) {
	api, err := mockserver.NewHandler(mockserver.Config{
		Dialect: dialect,
		Tiers: []mockserver.Tier{{Name: "api", Rules: []mockserver.Rule{
			{Algorithm: mockserver.TokenBucket, Policy: mockserver.Policy{Limit: limit, Window: window}},
		}}},
	})
	if err != nil {
		return wayResult{}, err
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	var retries atomic.Int64
	client := retryablehttp.NewClient()
	client.Logger = nil // retryablehttp logs every request to stderr by default
	client.RetryMax = 10
	client.RequestLogHook = func(_ retryablehttp.Logger, _ *http.Request, attempt int) {
		if attempt > 0 {
			retries.Add(1)
		}
	}
	configure(client)
	defer client.HTTPClient.CloseIdleConnections()

	var (
		res  wayResult
		mu   sync.Mutex
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				err := get(ctx, client, srv.URL+"/items")
				mu.Lock()
				if err == nil {
					res.done++
				} else if res.firstErr == nil {
					res.firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.retries = retries.Load()
	res.rejected, err = rejectedByServer(ctx, srv.URL)
	return res, err
}

// get sends one GET and reads the answer; a status other than 200 is an error.
func get(ctx context.Context, client *retryablehttp.Client, url string) error {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s (%v)", resp.Status, ratekit.GiveUpReason(resp))
	}
	return nil
}

// rejectedByServer reads the mock server's /_stats: how many requests it rejected, over every key.
func rejectedByServer(ctx context.Context, base string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_stats", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var stats struct {
		Keys []struct {
			Rejected int `json:"rejected"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		return 0, fmt.Errorf("reading /_stats: %w", err)
	}
	total := 0
	for _, k := range stats.Keys {
		total += k.Rejected
	}
	return total, nil
}
