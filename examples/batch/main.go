// Command batch is ratekit's demo: a batch job sends several hundred requests with several workers through
// one ratekit client to a rate-limited API, and finishes as fast as the quota allows, without a storm of
// 429s. From the repository root:
//
//	go run ./examples/batch
//
// With no -url it starts an embedded mock server (mockserver.NewHandler on 127.0.0.1, a free port) that
// allows 100 requests per 10 s in fixed windows and says so in GitHub's headers, so 300 requests need three
// windows: 10 to 20 s, since windows are aligned to the clock and the first one is partly over. A progress
// bar runs on stderr (a line every 10% when stderr is not a terminal; see -progress), and a summary ends on
// stdout: requests done and failed, wall time, the ideal time the quota allows, goodput, 429s counted by
// the server and seen by the client, retries, the longest wait, and latency percentiles. Ctrl-C stops the
// batch and still prints the summary.
//
//	go run ./examples/batch -algorithm token-bucket -dialect ietf -limit 50 -window 5s
//	go run ./examples/batch -url https://api.example.com/v1/items -n 100 -c 4
//
// The only thing ratekit-specific is the client: every worker shares one http.Client whose Transport is a
// *ratekit.Transport. Its hooks (OnWait, OnRetry) and its Snapshot only feed the display and the summary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/harness/batch"
	"github.com/ratekit/ratekit/mockserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // some requests failed, or the server could not start
	exitUsage  = 2 // a bad flag
)

// run is the demo: it returns the exit status. Interrupting ctx stops the batch early; the summary still
// reports what was done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage // the flag package has printed why
	case err != nil:
		fmt.Fprintln(stderr, err)
		return exitUsage
	}

	target, srv := o.url, (*embeddedServer)(nil)
	if target == "" {
		srv, err = startServer(&o)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailed
		}
		defer srv.stop()
		target = srv.url + "/repos/ratekit/demo/issues"
		fmt.Fprintf(stderr, "embedded mock server on %s: %s, %s headers\n", srv.url, o.describePolicy(), o.dialect)
	}

	// One client for every worker. Its base keeps a connection per worker alive between requests (the
	// default keeps two per host).
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = o.workers
	defer base.CloseIdleConnections()
	rec := &recorder{}
	transport := &ratekit.Transport{Base: base, OnWait: rec.onWait, OnRetry: rec.onRetry}
	client := &http.Client{Transport: transport}

	display := newProgress(o.progress, stderr, o.n, func() string { return status(transport) })
	res := runBatch(ctx, client, target, o.n, o.workers, display.done)
	display.close()

	s := summary{opts: &o, res: res, rec: rec, interrupted: ctx.Err() != nil}
	if srv != nil {
		s.serverRejected, _ = srv.counter.Count(http.StatusTooManyRequests)
		s.ideal, s.idealErr = idealTime(&o, res.completed, res.start)
	}
	s.print(stdout)
	if res.failed > 0 || s.interrupted {
		return exitFailed
	}
	return exitOK
}

// embeddedServer is the mock API on a local port, with a counter of the statuses it answered.
type embeddedServer struct {
	url     string
	counter *batch.Counter
	http    *http.Server
	served  chan error
}

// startServer starts the mock server with the policy of the flags on 127.0.0.1, on a free port.
func startServer(o *options) (*embeddedServer, error) {
	h, err := mockserver.NewHandler(mockserver.Config{
		Dialect: o.dialect,
		Tiers: []mockserver.Tier{{Name: "demo", Rules: []mockserver.Rule{
			{Name: "core", Algorithm: o.algorithm, Policy: o.policy()},
		}}},
	})
	if err != nil {
		return nil, fmt.Errorf("batch: the embedded server's policy: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("batch: starting the embedded server: %w", err)
	}
	s := &embeddedServer{
		url:     "http://" + ln.Addr().String(),
		counter: &batch.Counter{Next: h},
		served:  make(chan error, 1),
	}
	s.http = &http.Server{Handler: s.counter, ReadHeaderTimeout: 10 * time.Second}
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

// stop shuts the server down, letting requests in progress finish for a moment.
func (s *embeddedServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		s.http.Close()
	}
	<-s.served
}
