// Command fleet shows several processes sharing one API key's quota, first each on its own, then through
// Redis with package redisquota. Its workers are separate ratekit Transports, as separate processes would
// have, all sending requests with one API key to an embedded mock server:
//
//	go run ./examples/fleet
//	go run ./examples/fleet -members 4 -n 90 -algorithm sliding-window-log
//
// Alone, each worker learns the quota from the server's headers, but none knows what the others spend: the
// fleet runs into the limit and the server answers 429 after 429. Sharing the pace through Redis, the fleet
// spends the quota as one client would. The program prints both runs side by side.
//
// Redis: REDIS_URL (redis://host:6379/0) when it is set; otherwise the program starts a redis-server of its
// own on a free port (no persistence) and kills it at exit. Without either, it shares the pace among the
// workers in this process with ratekit.NewLocalLimiter instead, and says so.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/examples/internal/cli"
	"github.com/ratekit/ratekit/mockserver"
	"github.com/ratekit/ratekit/redisquota"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -help printed the usage: not a failure
		}
		fmt.Fprintln(os.Stderr, "fleet:", err)
		stop()
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	members     int
	requests    int
	concurrency int
	algorithm   string
	limit       int64
	window      time.Duration
}

// parseFlags reads the flags; a bad value is an error naming the flag and what it allows.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := cli.NewFlagSet("fleet", "several processes sharing one API key's quota, first each on its own, then through Redis with package redisquota.", stderr)
	fs.IntVar(&o.members, "members", 8, "workers sharing the API key: separate Transports, as separate processes")
	fs.IntVar(&o.requests, cli.Requests, 45, "requests each member sends")
	fs.IntVar(&o.concurrency, cli.Concurrency, 4, "goroutines per member sending at once")
	fs.StringVar(&o.algorithm, "algorithm", mockserver.FixedWindow, "the server's algorithm: "+strings.Join(mockserver.Algorithms(), ", "))
	fs.Int64Var(&o.limit, "limit", 100, "requests the server allows per window")
	fs.DurationVar(&o.window, "window", 2*time.Second, "the server's window")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q: want flags only", fs.Args())
	case o.members < 1 || o.members > 1000:
		return nil, fmt.Errorf("-members %d: want 1 to 1000", o.members)
	case o.requests < 1:
		return nil, fmt.Errorf("-n %d: want 1 or more", o.requests)
	case o.concurrency < 1 || o.concurrency > 100:
		return nil, fmt.Errorf("-c %d: want 1 to 100", o.concurrency)
	case o.limit < 1:
		return nil, fmt.Errorf("-limit %d: want 1 or more", o.limit)
	case o.window < time.Millisecond:
		return nil, fmt.Errorf("-window %v: want 1ms or more", o.window)
	}
	if _, err := mockserver.NewLimiter(o.algorithm, mockserver.Policy{Limit: o.limit, Window: o.window}); err != nil {
		return nil, fmt.Errorf("-algorithm %s: %w", o.algorithm, err)
	}
	return o, nil
}

// run runs the fleet alone, then sharing, and prints both.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fleet: %d workers (separate ratekit Transports, as separate processes) x %d requests, %d goroutines each, one API key\n",
		o.members, o.requests, o.concurrency)
	fmt.Fprintf(stdout, "server: embedded mock server, %s, x-ratelimit headers\n", o.quota())

	shared, label, closeShared, err := sharing(ctx, o, stdout)
	if err != nil {
		return err
	}
	defer closeShared()

	fmt.Fprintln(stdout, "running alone ...")
	alone, err := runFleet(ctx, o, func(int) ratekit.Limiter { return nil })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "running shared (%s) ...\n", label)
	together, err := runFleet(ctx, o, shared)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	printTable(stdout, o, label, alone, together)
	for _, r := range []result{alone, together} {
		if r.firstErr != nil {
			return fmt.Errorf("%d of %d requests failed, the first with: %w", r.requests-r.completed, r.requests, r.firstErr)
		}
	}
	return ctx.Err()
}

// sharing returns the Limiter of each member for the shared run: a redisquota.Limiter with its own Redis
// client each (as separate processes), or one ratekit.LocalLimiter for all when there is no Redis.
func sharing(ctx context.Context, o *options, stdout io.Writer) (limiter func(member int) ratekit.Limiter, label string, closeAll func(), err error) {
	r, err := findRedis(ctx)
	if errors.Is(err, errNoRedis) {
		fmt.Fprintf(stdout, "shared quota: %v: sharing among the workers of this process with ratekit.NewLocalLimiter instead\n", err)
		local := ratekit.NewLocalLimiter()
		return func(int) ratekit.Limiter { return local }, "LocalLimiter, one process", func() {}, nil
	}
	if err != nil {
		return nil, "", nil, err
	}
	fmt.Fprintf(stdout, "shared quota: %s\n", r.where)
	prefix := "ratekit-example-fleet:" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	var closers []func() error
	limiters := make([]ratekit.Limiter, o.members)
	for i := range limiters {
		client := r.client()
		closers = append(closers, client.Close)
		l, err := redisquota.New(client, redisquota.WithKeyPrefix(prefix),
			redisquota.WithOnFallback(func(err error) { fmt.Fprintf(stdout, "worker %d: Redis failed, pacing alone: %v\n", i, err) }),
			redisquota.WithOnRecover(func() { fmt.Fprintf(stdout, "worker %d: Redis answers again\n", i) }))
		if err != nil {
			return nil, "", nil, err
		}
		limiters[i] = l
	}
	closeAll = func() {
		for _, c := range closers {
			_ = c()
		}
		if r.stop != nil {
			r.stop()
		}
	}
	return func(i int) ratekit.Limiter { return limiters[i] }, "redisquota", closeAll, nil
}

// printTable prints the two runs side by side.
func printTable(w io.Writer, o *options, label string, alone, together result) {
	row := func(name, a, b string) { fmt.Fprintf(w, "%-26s %14s %14s\n", name, a, b) }
	rate := func(r result, n int) string { return fmt.Sprintf("%.1f/s", float64(n)/r.wall.Seconds()) }
	row("", "alone", "shared")
	row("", "", "("+label+")")
	row("requests", strconv.Itoa(alone.requests), strconv.Itoa(together.requests))
	row("completed", strconv.Itoa(alone.completed), strconv.Itoa(together.completed))
	row("wall time", alone.wall.Round(10*time.Millisecond).String(), together.wall.Round(10*time.Millisecond).String())
	row("requests at the server", strconv.Itoa(alone.arrivals), strconv.Itoa(together.arrivals))
	row("429s at the server", strconv.Itoa(alone.rejected), strconv.Itoa(together.rejected))
	row("combined rate", rate(alone, alone.arrivals), rate(together, together.arrivals))
	row("served rate", rate(alone, alone.completed), rate(together, together.completed))
	row(fmt.Sprintf("most in one %v window", o.window), strconv.Itoa(alone.busiest), strconv.Itoa(together.busiest))
	fmt.Fprintf(w, "%-26s %14s\n", "quota", fmt.Sprintf("%.1f/s, %d per %v", o.rate(), o.limit, o.window))
	fmt.Fprintln(w, "(combined rate: the requests that reached the server, 429s included, per second of wall time; a short run")
	fmt.Fprintln(w, " may beat the quota's average by up to a window's worth, which the windows it spans allow.)")
}
