package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ratekit/ratekit/examples/internal/cli"
	"github.com/ratekit/ratekit/mockserver"
)

// Progress display modes (-progress).
const (
	progressAuto  = "auto"  // a bar when stderr is a terminal, else a line every 10%
	progressBar   = "bar"   // always the bar
	progressLines = "lines" // a line every 10%
	progressOff   = "off"   // nothing
)

var progressModes = []string{progressAuto, progressBar, progressLines, progressOff}

// options are the command line of the demo.
type options struct {
	n, workers int

	// The embedded server's policy; unused with -url.
	algorithm string
	dialect   string
	limit     int64
	window    time.Duration

	url      string // a real API instead of the embedded server
	progress string
}

// errUsage is a bad command line whose message the flag package has already printed.
var errUsage = errors.New("batch: bad command line")

// parseFlags reads the command line. A bad value is an error naming the flag and the allowed values.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := cli.NewFlagSet("batch", "a batch job sends hundreds of requests with several workers through one ratekit client to a rate-limited API, and finishes as fast as the quota allows, without a storm of 429s.", stderr)
	fs.IntVar(&o.n, cli.Requests, 300, "number of requests")
	fs.IntVar(&o.workers, cli.Concurrency, 8, "number of workers sending requests at once")
	fs.StringVar(&o.algorithm, "algorithm", mockserver.FixedWindow,
		"the embedded server's algorithm: "+strings.Join(mockserver.Algorithms(), ", "))
	fs.StringVar(&o.dialect, "dialect", mockserver.DialectGitHub,
		"the embedded server's rate-limit headers: "+strings.Join(mockserver.Dialects(), ", "))
	fs.Int64Var(&o.limit, "limit", 100, "the embedded server's limit: requests per -window (in flight, for concurrency)")
	fs.DurationVar(&o.window, "window", 10*time.Second, "the embedded server's window")
	fs.StringVar(&o.url, "url", "", "send the requests to this URL (a real API) instead of the embedded server")
	fs.StringVar(&o.progress, "progress", progressAuto, "progress display: "+strings.Join(progressModes, ", "))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("batch: unexpected argument %q: every setting is a flag (see -help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return o, o.validate(set)
}

// validate checks every value; set holds the flags given on the command line.
func (o *options) validate(set map[string]bool) error {
	switch {
	case o.n < 1:
		return fmt.Errorf("batch: -n %d: the number of requests must be at least 1", o.n)
	case o.workers < 1:
		return fmt.Errorf("batch: -c %d: the number of workers must be at least 1", o.workers)
	case !slices.Contains(progressModes, o.progress):
		return fmt.Errorf("batch: -progress %q is not a mode (allowed: %s)", o.progress, strings.Join(progressModes, ", "))
	}
	if o.url != "" {
		u, err := url.Parse(o.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("batch: -url %q: want an absolute http:// or https:// URL", o.url)
		}
		for _, name := range []string{"algorithm", "dialect", "limit", "window"} {
			if set[name] {
				return fmt.Errorf("batch: -%s sets the embedded server's policy, which -url replaces: use one or the other", name)
			}
		}
		return nil
	}
	switch {
	case !slices.Contains(mockserver.Algorithms(), o.algorithm):
		return fmt.Errorf("batch: -algorithm %q is not an algorithm (allowed: %s)", o.algorithm, strings.Join(mockserver.Algorithms(), ", "))
	case !slices.Contains(mockserver.Dialects(), o.dialect):
		return fmt.Errorf("batch: -dialect %q is not a dialect (allowed: %s)", o.dialect, strings.Join(mockserver.Dialects(), ", "))
	case o.limit < 1:
		return fmt.Errorf("batch: -limit %d: the limit must be at least 1", o.limit)
	case o.window <= 0:
		return fmt.Errorf("batch: -window %s: the window must be more than 0 (for example 10s or 1m)", o.window)
	}
	return nil
}

// policy is the embedded server's policy.
func (o *options) policy() mockserver.Policy {
	return mockserver.Policy{Limit: o.limit, Window: o.window}
}

// describePolicy says the embedded server's policy in words: "fixed-window, 100 requests per 10s".
func (o *options) describePolicy() string {
	if o.algorithm == mockserver.Concurrency {
		return fmt.Sprintf("%s, %d requests in flight", o.algorithm, o.limit)
	}
	return fmt.Sprintf("%s, %d requests per %s", o.algorithm, o.limit, o.window)
}
