package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/ratekit/ratekit/internal/harness/oracle"
	"github.com/ratekit/ratekit/mockserver"
)

// summary is the report printed on stdout when the batch ends.
type summary struct {
	opts        *options
	res         result
	rec         *recorder
	interrupted bool

	// Known only with the embedded server.
	serverRejected int           // 429s the server answered, retried ones included
	ideal          time.Duration // the oracle's time for the requests completed; 0: not defined
	idealErr       error
}

// idealTime is how long the completed requests take at best against the embedded server's policy: a client
// that knew the policy and sent each request the instant the server takes it (internal/harness/oracle).
func idealTime(o *options, completed int, start time.Time) (time.Duration, error) {
	return oracle.IdealTime(o.algorithm, o.policy(), completed, start)
}

// print writes the summary, one "label  value" line per measure.
func (s *summary) print(w io.Writer) {
	o, res, rec := s.opts, s.res, s.rec
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-13s %s\n", label, fmt.Sprintf(format, args...))
	}
	embedded := o.url == ""

	if embedded {
		line("policy", "%s, %s headers (embedded mock server)", o.describePolicy(), o.dialect)
	} else {
		line("target", "%s (its policy is not known here)", o.url)
	}
	line("requests", "%d done, %d failed, %d workers", res.completed, res.failed, o.workers)
	if s.interrupted {
		line("interrupted", "after %d of %d requests", res.sent, o.n)
	}
	if res.firstErr != "" {
		line("first failure", "%s", res.firstErr)
	}
	line("wall time", "%s", round(res.elapsed))
	switch {
	case !embedded:
		line("ideal time", "unknown: -url sends to a server whose policy is not known")
		line("goodput", "unknown (no ideal time)")
	case s.interrupted:
		line("ideal time", "not compared: the batch was interrupted")
	case s.idealErr != nil:
		line("ideal time", "unknown: %v", s.idealErr)
	case o.algorithm == mockserver.Concurrency:
		line("ideal time", "not defined: concurrency limits requests in flight, not requests per window")
	case res.completed == 0:
		line("ideal time", "not defined: no request completed")
	case s.ideal == 0:
		line("ideal time", "0s: the quota takes all %d requests at once; the wall time is all network and server time", res.completed)
	default:
		line("ideal time", "%s: the least time the policy allows for %d requests", round(s.ideal), res.completed)
		line("goodput", "%.1f%% (ideal time / wall time)", 100*s.ideal.Seconds()/res.elapsed.Seconds())
	}

	rec.mu.Lock()
	retries, retried429, longest, why := rec.retries, rec.retried429, rec.longestWait, rec.longestWhy
	rec.mu.Unlock()
	seen := retried429 + res.statuses[http.StatusTooManyRequests]
	if embedded {
		line("429s", "%d answered by the server, %d seen by the client", s.serverRejected, seen)
	} else {
		line("429s", "%d seen by the client (not counted at the server: -url has no embedded server)", seen)
	}
	line("retries", "%d", retries)
	if longest > 0 {
		line("longest wait", "%s (%s)", round(longest), why)
	} else {
		line("longest wait", "none: no request waited")
	}
	if len(res.latencies) > 0 {
		line("latency", "p50 %s, p99 %s, max %s (per request, waits included)",
			round(percentile(res.latencies, 50)), round(percentile(res.latencies, 99)), round(slices.Max(res.latencies)))
	}
}

// percentile is the p-th percentile of ds by the nearest-rank method (p in (0, 100]).
func percentile(ds []time.Duration, p int) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

// round keeps three significant figures or so: 19.87s, 152ms, 1.24ms.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
