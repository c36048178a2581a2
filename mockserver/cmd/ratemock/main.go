// Command ratemock is a rate-limited HTTP server for testing clients of rate-limited APIs, in any language.
// It serves mockserver.Handler: every algorithm, every header dialect, tiers, costs and faults.
//
//	ratemock -addr 127.0.0.1:0 -algorithm token-bucket -limit 10 -window 1s -dialect github
//	ratemock -config example.yaml -key api-key -dialect openai
//
// It prints "listening on http://HOST:PORT" as its first line on stdout, logs one line per rejected request
// on stderr, and shuts down gracefully on SIGINT or SIGTERM. A bad flag or config file is reported with the
// field and the allowed values, and exit status 2. Run ratemock -help for every flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the server could not start or failed
	exitUsage = 2 // a bad flag or config file
)

// Connection bounds of the server. WriteTimeout leaves room for the longest hold a test asks for
// (-latency, leaky-bucket-queue delays) to end well before it.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
)

// shutdownGrace is how long requests in progress get to finish after SIGINT or SIGTERM.
const shutdownGrace = 5 * time.Second

// run is ratemock: it serves until ctx is done, and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		var fe *flagError
		if errors.As(err, &fe) {
			fmt.Fprintln(stderr, "ratemock:", err)
		}
		return exitUsage // the flag package has already printed its own errors
	}
	h, store, closeStore, err := o.build(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ratemock:", err)
		return exitUsage
	}
	defer closeStore()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		fmt.Fprintln(stderr, "ratemock:", err)
		return exitError
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())

	if o.adminToken == "" && !loopback(ln.Addr()) {
		fmt.Fprintln(stderr, "ratemock: warning: listening beyond loopback without -admin-token: anyone who reaches",
			ln.Addr(), "can read /_stats, reset quotas (/_reset) and turn limiting off (/_store)")
	}

	mux := http.NewServeMux()
	mux.Handle(storeSwitchPath, h.Admin(storeSwitch(store)))
	mux.Handle("/", h)
	srv := newServer(mux, stderr)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintln(stderr, "ratemock:", err)
		return exitError
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		fmt.Fprintln(stderr, "ratemock: shutdown:", err)
	}
	<-served // http.ErrServerClosed
	return exitOK
}

// build makes the store and the handler that the flags and the config file describe. closeStore releases what
// the store holds (the Redis client); run calls it once the server has stopped. On an error, build has released
// it already.
func (o *options) build(stderr io.Writer) (h *mockserver.Handler, store *mockserver.FailingStore, closeStore func(), err error) {
	var file *fileConfig
	if o.configFile != "" {
		if file, err = loadConfigFile(o.configFile); err != nil {
			return nil, nil, nil, err
		}
	}
	logger, err := o.logger(stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	proxies, err := o.proxyPrefixes()
	if err != nil {
		return nil, nil, nil, err
	}
	store, closeStore, err = newStore(o)
	if err != nil {
		return nil, nil, nil, err
	}
	release := closeStore // the results are nil by the time a deferred call runs after an error
	defer func() {
		if err != nil {
			release()
		}
	}()
	cfg := mockserver.Config{
		Store:             store,
		Dialect:           o.dialect,
		Key:               o.key,
		TrustedProxyHops:  o.trustedProxyHops,
		TrustedProxies:    proxies,
		AdminToken:        o.adminToken,
		RawKeys:           o.rawKeys,
		LogLinesPerSecond: o.logLinesPerSecond,
		APIKeyHeader:      o.apiKeyHeader,
		UserHeader:        o.userHeader,
		RejectStatus:      o.status,
		RetryAfter:        o.retryAfter,
		Profile:           o.profile,
		Render:            o.render,
		FailureMode:       o.failureMode,
		Faults:            o.faults,
		Logger:            logger,
		StatsMaxKeys:      o.statsMaxKeys,
	}
	if file != nil {
		file.apply(&cfg, o)
	}
	if o.set["tier"] {
		cfg.DefaultTier = o.tier
	}
	algorithm := o.algorithm
	if cfg.Profile != "" {
		// A profile fixes these: the flags' defaults must not contradict it. Given explicitly (on the command
		// line or in the file), they are checked against it.
		if !o.set["dialect"] && (file == nil || file.Dialect == "") {
			cfg.Dialect = ""
		}
		if !o.set["retry-after"] && (file == nil || file.RetryAfter == "") {
			cfg.RetryAfter = ""
		}
		if !o.set["status"] {
			cfg.RejectStatus = 0
		}
		if !o.set["algorithm"] {
			algorithm = ""
		}
	}
	vendor := slices.Contains(mockserver.VendorProfiles(), cfg.Profile)
	if vendor {
		// A vendor profile brings its tiers, keys and routes: the flags' defaults must not be taken for them.
		if !o.set["key"] && (file == nil || file.Key == "") {
			cfg.Key = ""
		}
		if !o.set["api-key-header"] {
			cfg.APIKeyHeader = ""
		}
		for _, name := range []string{"algorithm", "limit", "window", "burst", "anchor", "anchor-offset", "count-rejected", "round-estimate"} {
			if o.set[name] {
				return nil, nil, nil, &flagError{flag: "-" + name, msg: "cannot be combined with -profile " + cfg.Profile +
					", which brings its tiers: pick one with -tier"}
			}
		}
	}
	if len(cfg.Tiers) == 0 && !vendor {
		cfg.Tiers = []mockserver.Tier{{Name: "default", Rules: []mockserver.Rule{{Algorithm: algorithm,
			Policy: mockserver.Policy{Limit: o.limit, Window: o.window, Burst: o.burst}, Anchor: o.anchor,
			AnchorOffset: o.anchorOffset, CountRejected: o.countRejected, RoundEstimate: o.roundEstimate}}}}
	} else {
		for _, name := range []string{"algorithm", "limit", "window", "burst", "anchor", "anchor-offset", "count-rejected", "round-estimate"} {
			if o.set[name] {
				return nil, nil, nil, &flagError{flag: "-" + name, msg: "cannot be combined with the tiers of -config " +
					o.configFile + ": set the rules in the file"}
			}
		}
	}
	if o.costHeader != "" {
		if _, dup := cfg.CostHeaders[mockserver.DimensionRequests]; dup {
			return nil, nil, nil, &flagError{flag: "-cost-header", msg: "conflicts with cost_headers.requests in -config " + o.configFile}
		}
		if cfg.CostHeaders == nil {
			cfg.CostHeaders = map[string]string{}
		}
		cfg.CostHeaders[mockserver.DimensionRequests] = o.costHeader
	}
	h, err = mockserver.NewHandler(cfg)
	if err != nil {
		return nil, nil, nil, o.explain(err, file)
	}
	return h, store, closeStore, nil
}

// loopback reports whether addr is a loopback address (127.0.0.0/8, ::1), where only this machine reaches it.
func loopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// proxyPrefixes parses -trusted-proxies.
func (o *options) proxyPrefixes() ([]netip.Prefix, error) {
	if o.trustedProxies == "" {
		return nil, nil
	}
	var ps []netip.Prefix
	for _, s := range strings.Split(o.trustedProxies, ",") {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen()) // one address
			} else {
				return nil, &flagError{flag: "-trusted-proxies", msg: fmt.Sprintf("%q is not a network (want CIDRs such as 10.0.0.0/8,fd00::/8, or addresses)", s)}
			}
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// newServer is ratemock's http.Server for handler, logging its own errors to stderr.
func newServer(handler http.Handler, stderr io.Writer) *http.Server {
	return &http.Server{
		Handler: handler,
		// Bounds on every connection, so that slow or idle clients cannot hold connections (and their
		// memory and file descriptors) open: http.Server has none by default.
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(slog.NewTextHandler(stderr, nil).WithAttrs([]slog.Attr{slog.String("from", "net/http")}), slog.LevelWarn),
	}
}
