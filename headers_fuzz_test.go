package ratekit

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// headerBlock serialises a header as "name: value" lines, the fuzz target's input format.
func headerBlock(h http.Header) string {
	var b strings.Builder
	for name, values := range h {
		for _, v := range values {
			b.WriteString(name + ": " + v + "\n")
		}
	}
	return b.String()
}

// parseBlock reads a header block, keeping names as written (any case, as a hand-built header can hold).
func parseBlock(block string) http.Header {
	h := http.Header{}
	for line := range strings.SplitSeq(block, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		h[name] = append(h[name], strings.TrimPrefix(value, " "))
	}
	return h
}

// FuzzParseHeaders feeds arbitrary header blocks, receipt times and reset formats to the parser and checks
// the properties that must hold for any input. Its seed corpus is every table vector, so plain `go test`
// runs it on all of them.
func FuzzParseHeaders(f *testing.F) {
	for _, v := range allVectors {
		f.Add(headerBlock(v.h), t0.UnixNano(), uint8(v.format))
	}
	f.Add("Retry-After: 1e400\nX-RateLimit-Reset: 1e-400", int64(0), uint8(0))
	f.Add("X-RateLimit-Reset: 99999999999999999999999999999\nX-RateLimit-Remaining: 1", int64(-1<<62), uint8(3))
	f.Add("retry-after: 5\nRetry-After: 9\nDATE: garbage\ndate: "+t0.Format(http.TimeFormat), t0.UnixNano(), uint8(0))
	f.Fuzz(func(t *testing.T, block string, receivedNanos int64, format uint8) {
		h := parseBlock(block)
		received := time.Unix(0, receivedNanos)
		p := Parser{ResetFormat: ResetFormat(format % 6)}
		obs := p.Parse(h, received)
		checkObservationProperties(t, obs, received)
		require.Equal(t, obs, p.Parse(h, received), "two parses of one header differ")
	})
}

// checkObservationProperties asserts what holds for any Observation: waits are never negative nor beyond
// 40 days, counts are -1 or more, Remaining <= Limit when both are known, one quota per (policy, dimension).
func checkObservationProperties(t *testing.T, obs Observation, received time.Time) {
	t.Helper()
	inRange := func(what string, at time.Time) {
		if at.IsZero() {
			return
		}
		d := at.Sub(received)
		require.GreaterOrEqual(t, d, time.Duration(0), "%s after receipt", what)
		require.LessOrEqual(t, d, maxAhead, "%s after receipt: more than 40 days", what)
	}
	inRange("RetryAt", obs.RetryAt)
	for _, now := range []time.Time{received, received.Add(-time.Hour), received.Add(maxAhead * 2)} {
		w := obs.Wait(now)
		require.GreaterOrEqual(t, w, time.Duration(0), "Wait(%v)", now)
		require.LessOrEqual(t, w, maxAhead+time.Hour, "Wait(%v)", now)
	}
	require.LessOrEqual(t, len(obs.Quotas), maxQuotas, "quotas")
	seen := map[[2]string]bool{}
	for _, q := range obs.Quotas {
		inRange("Reset of "+q.String(), q.Reset)
		require.GreaterOrEqual(t, q.Limit, int64(-1), "negative limit: %+v", q)
		require.GreaterOrEqual(t, q.Remaining, int64(-1), "negative remaining: %+v", q)
		if q.Limit >= 0 {
			require.LessOrEqual(t, q.Remaining, q.Limit, "Remaining > Limit: %+v", q)
		}
		require.GreaterOrEqual(t, q.Window, time.Duration(0), "window out of range: %+v", q)
		require.LessOrEqual(t, q.Window, maxAhead, "window out of range: %+v", q)
		require.NotEmpty(t, q.Dimension, "empty dimension: %+v", q)
		if f, ok := q.UsedFraction(); ok {
			require.True(t, f >= 0 && f <= 1, "UsedFraction = %v: %+v", f, q)
		}
		key := [2]string{q.Policy, q.Dimension}
		require.False(t, seen[key], "two quotas for %q/%q", q.Policy, q.Dimension)
		seen[key] = true
	}
}

// FuzzParseHTTPDate checks the hand-written IMF-fixdate reader against http.ParseTime.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Mon, 23 Nov 2026 18:00:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Mon, 31 Nov 2026 18:00:00 GMT",
		"Mon, 23 Nov 2026 18:00:60 GMT", "Xyz, 23 Nov 2026 18:00:00 GMT", "Monday, 23-Nov-26 18:01:30 GMT", "Mon Nov 23 18:01:30 2026",
		"Mon, 29 Feb 2027 00:00:00 GMT", "Mon, 2a Nov 2026 18:00:00 GMT", "Wed, 02 Dec 2026 05:05:14 UTC", "Wed, 02 Dec 2026 05:05:14 PST"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseHTTPDate(s)
		// IMF-fixdate with the zone "UTC" (Go's time.RFC1123 of a UTC time) reads as the same date in GMT.
		std := s
		if len(s) == 29 && strings.HasSuffix(s, " UTC") {
			std = s[:26] + "GMT"
		}
		want, err := http.ParseTime(std)
		require.Equal(t, err == nil, ok, "parseHTTPDate(%q) = %v, %v; http.ParseTime = %v, %v", s, got, ok, want, err)
		if ok {
			require.True(t, got.Equal(want), "parseHTTPDate(%q) = %v; http.ParseTime = %v", s, got, want)
		}
	})
}

// FuzzLimitish checks the gate of the one pass over the header against a plain ASCII case-insensitive
// search: a rate-limit field the gate misses would be silently ignored.
func FuzzLimitish(f *testing.F) {
	for _, s := range []string{"X-RateLimit-Limit", "Retry-After", "anthropic-priority-x", "Content-Type", "LIMIT", "rEtRy"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		lower := []byte(name)
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + 'a' - 'A'
			}
		}
		l := string(lower)
		want := strings.Contains(l, "limit") || strings.Contains(l, "retry") || strings.HasPrefix(l, "anthropic-")
		require.Equal(t, want, limitish(name), "limitish(%q)", name)
	})
}
