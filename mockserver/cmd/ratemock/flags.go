package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/ratekit/ratekit/mockserver"
)

// options are ratemock's flags.
type options struct {
	addr       string
	configFile string
	store      string
	redis      string
	logLevel   string

	// The single rule built from flags when the config file has no tiers.
	algorithm string
	limit     int64
	window    time.Duration
	burst     int64

	anchor        string
	anchorOffset  time.Duration
	countRejected bool
	roundEstimate bool

	profile           string
	tier              string
	render            mockserver.Rendering
	dialect           string
	key               string
	trustedProxyHops  int
	trustedProxies    string
	adminToken        string
	rawKeys           bool
	logLinesPerSecond int
	maxStates         int
	apiKeyHeader      string
	userHeader        string
	costHeader        string
	status            int
	retryAfter        string
	failureMode       string
	statsMaxKeys      int

	storeFailureRate float64
	seed             uint64
	faults           mockserver.Faults

	set map[string]bool // flags given on the command line
}

// adminTokenEnv is the environment variable that sets -admin-token when the flag is not given: a token on the
// command line shows in ps.
const adminTokenEnv = "RATEMOCK_ADMIN_TOKEN"

// flagError is a bad flag value: ratemock prints it and exits with status 2.
type flagError struct {
	flag string // "-dialect", or "-config FILE" for a config file
	msg  string
}

func (e *flagError) Error() string { return e.flag + ": " + e.msg }

// usageText introduces the flags in -help.
const usageText = `usage: ratemock [flags]

ratemock is a rate-limited HTTP server for testing clients of rate-limited APIs. Every path answers 200 with
{"key","tier","route","cost","remaining"} until the client's quota runs out, then 429 (or -status) with
Retry-After and the rate-limit headers of -dialect. Tiers, routes and costs come from -config FILE (YAML);
without it, every client gets one rule: -limit requests per -window under -algorithm.

Reserved paths (never rate limited): /metrics (Prometheus), /_stats (GET, ?key=), /_reset (POST, ?key=),
/_store (POST ?down=true|false switches the store off and on, to see -failure-mode at work). They are for
tests: whoever reaches them can read every client's statistics, reset quotas and turn limiting off. -addr
listens on loopback by default; on any other address, set -admin-token (or $RATEMOCK_ADMIN_TOKEN) so that
they answer only requests carrying Authorization: Bearer TOKEN. Clients appear in /_stats, logs and Redis
key names as keyed hashes ("k_..."; /_stats?key= takes the raw key too), unless -raw-keys.

It prints "listening on http://HOST:PORT" as its first line on stdout, and stops on SIGINT or SIGTERM.

flags:
`

// parseFlags reads args into options. It returns flag.ErrHelp for -h and -help.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{set: map[string]bool{}}
	fs := flag.NewFlagSet("ratemock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0 picks a free port)")
	fs.StringVar(&o.configFile, "config", "", "YAML `FILE` with tiers, routes and cost headers (see example.yaml)")
	fs.StringVar(&o.store, "store", "memory", "where the rate-limit state lives: "+strings.Join(storeNames(), " or "))
	fs.StringVar(&o.redis, "redis", "127.0.0.1:6379", "Redis `ADDR` for -store redis")
	fs.StringVar(&o.logLevel, "log-level", "info", "log to stderr at `LEVEL`: debug, info (one line per rejection), warn, error, or off")

	fs.StringVar(&o.algorithm, "algorithm", mockserver.FixedWindow, "the rule's `ALGORITHM`: "+strings.Join(mockserver.Algorithms(), ", "))
	fs.Int64Var(&o.limit, "limit", 60, "the rule's limit: `N` units per -window (for concurrency: N requests in flight)")
	fs.DurationVar(&o.window, "window", time.Minute, "the rule's window")
	fs.Int64Var(&o.burst, "burst", 0, "the rule's burst, for token-bucket, leaky-bucket, leaky-bucket-queue and gcra (0: -limit)")

	fs.StringVar(&o.anchor, "anchor", "", "where the rule's windows start (fixed-window, sliding-window-counter): "+strings.Join(mockserver.Anchors(), ", ")+" (empty: epoch)")
	fs.DurationVar(&o.anchorOffset, "anchor-offset", 0, "shift the rule's windows by this much from the anchor")
	fs.BoolVar(&o.countRejected, "count-rejected", false, "rejected requests count against the rule (fixed-window, sliding-window-counter)")
	fs.BoolVar(&o.roundEstimate, "round-estimate", false, "the sliding-window-counter rounds its estimate to the nearest unit, as go-chi/httprate")

	fs.StringVar(&o.profile, "profile", "", "imitate a public limiter `NAME` exactly: "+strings.Join(mockserver.Profiles(), ", ")+
		"; it takes -limit, -window, -burst (or the config's rules) and fixes the algorithm, dialect, rendering, Retry-After and status; "+
		"or an API `NAME`: "+strings.Join(mockserver.VendorProfiles(), ", ")+", which brings its tiers (pick one with -tier), keys, routes and costs")
	fs.StringVar(&o.tier, "tier", "", "the `TIER` of clients no tier lists (a vendor profile's plan: -profile github -tier unauthenticated, -profile openai -tier tier-3)")
	fs.StringVar(&o.render.DelayRounding, "delay-rounding", "", "round delays (resets, Retry-After) `MODE`: up, down, nearest (empty: up)")
	fs.StringVar(&o.render.EpochRounding, "epoch-rounding", "", "round epochs and HTTP-dates `MODE`: up, down, nearest (empty: up)")
	fs.StringVar(&o.render.Precision, "precision", "", "round delays and epochs to `UNIT`: s or ms (ms: \"0.981\"; empty: s)")
	fs.StringVar(&o.render.Reset, "reset", "", "what Reset means: until-full, next-unit, window-end or constant (empty: until-full)")
	fs.DurationVar(&o.render.ResetConstant, "reset-constant", 0, "the value of every reset with -reset constant (0: 1s)")
	fs.StringVar(&o.render.ResetAs, "reset-form", "", "write resets in this `FORM` instead of the dialect's: delta, delta-ms, epoch, epoch-ms")
	fs.StringVar(&o.render.Limit, "limit-as", "", "what the limit header reports: quota, burst or rate (per second) (empty: quota)")
	fs.StringVar(&o.render.LimitFormat, "limit-format", "", "write the limit as integer or float (\"50.00\") (empty: integer)")
	fs.StringVar(&o.dialect, "dialect", mockserver.DialectIETF, "rate-limit headers: "+strings.Join(mockserver.Dialects(), ", "))
	fs.StringVar(&o.key, "key", mockserver.KeyIP, "what identifies a client: ip, api-key (X-API-Key or Authorization: Bearer), user, route, or several joined by + (api-key+route)")
	fs.IntVar(&o.trustedProxyHops, "trusted-proxy-hops", 0, "`N` proxies of yours stand in front of ratemock: the client IP is the N-th X-Forwarded-For entry from the right (0: X-Forwarded-For is ignored)")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", "", "comma-separated `CIDRS` of your proxies (10.0.0.0/8,fd00::/8): X-Forwarded-For is read from the right past them, as nginx real_ip_recursive")
	fs.StringVar(&o.adminToken, "admin-token", "", "require `Authorization: Bearer TOKEN` on /metrics, /_stats, /_reset and /_store (default $RATEMOCK_ADMIN_TOKEN; empty: anyone who reaches the port)")
	fs.BoolVar(&o.rawKeys, "raw-keys", false, "show raw keys (API keys, IPs) in /_stats, logs and Redis key names instead of keyed hashes (tests only)")
	fs.IntVar(&o.logLinesPerSecond, "log-lines-per-second", 10, "write at most `N` log lines a second (rejections, store failures), counting the others (-1: no bound)")
	fs.IntVar(&o.maxStates, "max-states", mockserver.DefaultMemoryStoreCapacity, "the memory store holds at most `N` (key, rule) states, forgetting the least recently used first")
	fs.StringVar(&o.apiKeyHeader, "api-key-header", "X-API-Key", "the `HEADER` carrying the API key for -key api-key")
	fs.StringVar(&o.userHeader, "user-header", "X-User-ID", "the `HEADER` carrying the user for -key user")
	fs.StringVar(&o.costHeader, "cost-header", "", "a request `HEADER` that sets the request's cost (e.g. X-Cost); empty: none")
	fs.IntVar(&o.status, "status", 429, "the `STATUS` of rejections: 429, 403 (as GitHub) or 503")
	fs.StringVar(&o.retryAfter, "retry-after", mockserver.RetryAfterSeconds, "Retry-After `FORMAT`: "+strings.Join(mockserver.RetryAfterFormats(), ", "))
	fs.StringVar(&o.failureMode, "failure-mode", mockserver.FailOpen, "when the store fails: fail-open (serve) or fail-closed (503)")
	fs.IntVar(&o.statsMaxKeys, "stats-max-keys", 10000, "how many keys /_stats remembers")

	fs.Uint64Var(&o.seed, "seed", 1, "seed of every injected fault: the same seed and requests give the same faults")
	fs.Float64Var(&o.storeFailureRate, "store-failure-rate", 0, "fraction (0 to 1) of store decisions that fail")
	fs.Float64Var(&o.faults.ErrorRate, "error-rate", 0, "fraction (0 to 1) of allowed requests answered with -error-status")
	fs.IntVar(&o.faults.ErrorStatus, "error-status", 500, "the `STATUS` of injected errors (500 to 599)")
	fs.Float64Var(&o.faults.DropRate, "drop-rate", 0, "fraction (0 to 1) of allowed requests whose connection is dropped")
	fs.DurationVar(&o.faults.Latency, "latency", 0, "latency added to every response")
	fs.DurationVar(&o.faults.LatencyJitter, "latency-jitter", 0, "a further random latency, up to this")
	fs.DurationVar(&o.faults.ClockSkew, "clock-skew", 0, "make the server's clock lie by this much (Date header, epoch resets)")
	fs.StringVar(&o.faults.ResetAs, "reset-as", "", "write resets in the wrong `FORM`: delta, delta-ms, epoch or epoch-ms")

	if err := fs.Parse(args); err != nil {
		return nil, err // the flag package has printed the problem and the usage
	}
	if fs.NArg() > 0 {
		return nil, &flagError{flag: "ratemock", msg: fmt.Sprintf("unexpected argument %q: every setting is a flag (see -help)", fs.Arg(0))}
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if !o.set["admin-token"] {
		o.adminToken = os.Getenv(adminTokenEnv)
	}
	o.faults.Seed = o.seed
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return nil, &flagError{flag: "-addr", msg: fmt.Sprintf("%q is not HOST:PORT (for example 127.0.0.1:8080, or :0 for a free port)", o.addr)}
	}
	if _, err := o.logger(io.Discard); err != nil {
		return nil, err
	}
	return o, nil
}

// logger builds the logger of -log-level, writing to w; nil for "off".
func (o *options) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	switch o.logLevel {
	case "off":
		return nil, nil
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, &flagError{flag: "-log-level", msg: fmt.Sprintf("unknown level %q (allowed: debug, info, warn, error, off)", o.logLevel)}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// flagOf returns the flag that sets a Config field, or "" when no flag does.
func flagOf(field string) string {
	switch field {
	case "Dialect":
		return "-dialect"
	case "Key":
		return "-key"
	case "APIKeyHeader":
		return "-api-key-header"
	case "UserHeader":
		return "-user-header"
	case "RejectStatus":
		return "-status"
	case "RetryAfter":
		return "-retry-after"
	case "FailureMode":
		return "-failure-mode"
	case "StatsMaxKeys":
		return "-stats-max-keys"
	case "TrustedProxyHops":
		return "-trusted-proxy-hops"
	case "LogLinesPerSecond":
		return "-log-lines-per-second"
	case "Faults.ErrorRate":
		return "-error-rate"
	case "Faults.ErrorStatus":
		return "-error-status"
	case "Faults.DropRate":
		return "-drop-rate"
	case "Faults.Latency":
		return "-latency"
	case "Faults.LatencyJitter":
		return "-latency-jitter"
	case "Faults.ResetAs":
		return "-reset-as"
	case "Profile":
		return "-profile"
	case "DefaultTier":
		return "-tier"
	case "Render", "Render.DelayRounding":
		return map[string]string{"Render": "-delay-rounding, -epoch-rounding, -precision, -reset, -reset-constant, -reset-form, -limit-as, -limit-format",
			"Render.DelayRounding": "-delay-rounding"}[field]
	case "Render.EpochRounding":
		return "-epoch-rounding"
	case "Render.Precision":
		return "-precision"
	case "Render.Reset":
		return "-reset"
	case "Render.ResetConstant":
		return "-reset-constant"
	case "Render.ResetAs":
		return "-reset-form"
	case "Render.Limit":
		return "-limit-as"
	case "Render.LimitFormat":
		return "-limit-format"
	}
	return ""
}

// explain turns an error of mockserver.NewHandler into a flagError naming the flag, or the config file and the
// place in it, that set the bad value.
func (o *options) explain(err error, file *fileConfig) error {
	var ce *mockserver.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	msg := ce.Reason
	if len(ce.Allowed) > 0 {
		msg += " (allowed: " + strings.Join(ce.Allowed, ", ") + ")"
	}
	flagName := flagOf(ce.Field)
	fromFile := file != nil && file.sets(ce.Field) && !o.set[strings.TrimPrefix(flagName, "-")]
	switch {
	case ce.Field == `CostHeaders["requests"]` && o.costHeader != "":
		return &flagError{flag: "-cost-header", msg: msg}
	case !fromFile && flagName != "":
		return &flagError{flag: flagName, msg: msg}
	case file == nil || len(file.Tiers) == 0 && strings.HasPrefix(ce.Field, "Tiers[0].Rules[0]."):
		switch ce.Field {
		case "Tiers[0].Rules[0].Algorithm":
			return &flagError{flag: "-algorithm", msg: msg}
		case "Tiers[0].Rules[0].Anchor":
			return &flagError{flag: "-anchor", msg: msg}
		case "Tiers[0].Rules[0].AnchorOffset":
			return &flagError{flag: "-anchor-offset", msg: msg}
		case "Tiers[0].Rules[0].CountRejected":
			return &flagError{flag: "-count-rejected", msg: msg}
		case "Tiers[0].Rules[0].RoundEstimate":
			return &flagError{flag: "-round-estimate", msg: msg}
		}
		for _, name := range []string{"limit", "window", "burst"} {
			if strings.Contains(msg, " policy: "+name+" ") {
				return &flagError{flag: "-" + name, msg: msg}
			}
		}
		return &flagError{flag: "-limit, -window, -burst", msg: msg}
	}
	return &flagError{flag: "-config " + o.configFile, msg: fileField(ce.Field) + ": " + msg}
}

// overRender returns r with every rendering flag given on the command line put over it.
func (o *options) overRender(r mockserver.Rendering) mockserver.Rendering {
	for name, set := range map[string]func(){
		"delay-rounding": func() { r.DelayRounding = o.render.DelayRounding },
		"epoch-rounding": func() { r.EpochRounding = o.render.EpochRounding },
		"precision":      func() { r.Precision = o.render.Precision },
		"reset":          func() { r.Reset = o.render.Reset },
		"reset-constant": func() { r.ResetConstant = o.render.ResetConstant },
		"reset-form":     func() { r.ResetAs = o.render.ResetAs },
		"limit-as":       func() { r.Limit = o.render.Limit },
		"limit-format":   func() { r.LimitFormat = o.render.LimitFormat },
	} {
		if o.set[name] {
			set()
		}
	}
	return r
}
