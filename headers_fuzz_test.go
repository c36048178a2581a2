package ratekit

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
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
		if again := p.Parse(h, received); !reflect.DeepEqual(obs, again) {
			t.Fatalf("two parses of one header differ:\n%+v\n%+v", obs, again)
		}
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
		if d := at.Sub(received); d < 0 || d > maxAhead {
			t.Fatalf("%s is %v after receipt: outside [0, 40 days]", what, d)
		}
	}
	inRange("RetryAt", obs.RetryAt)
	for _, now := range []time.Time{received, received.Add(-time.Hour), received.Add(maxAhead * 2)} {
		if w := obs.Wait(now); w < 0 || w > maxAhead+time.Hour {
			t.Fatalf("Wait(%v) = %v", now, w)
		}
	}
	if len(obs.Quotas) > maxQuotas {
		t.Fatalf("%d quotas, more than %d", len(obs.Quotas), maxQuotas)
	}
	seen := map[[2]string]bool{}
	for _, q := range obs.Quotas {
		inRange("Reset of "+q.String(), q.Reset)
		switch {
		case q.Limit < -1 || q.Remaining < -1:
			t.Fatalf("negative count: %+v", q)
		case q.Limit >= 0 && q.Remaining > q.Limit:
			t.Fatalf("Remaining > Limit: %+v", q)
		case q.Window < 0 || q.Window > maxAhead:
			t.Fatalf("window out of range: %+v", q)
		case q.Dimension == "":
			t.Fatalf("empty dimension: %+v", q)
		}
		if f, ok := q.UsedFraction(); ok && (f < 0 || f > 1) {
			t.Fatalf("UsedFraction = %v: %+v", f, q)
		}
		key := [2]string{q.Policy, q.Dimension}
		if seen[key] {
			t.Fatalf("two quotas for %q/%q", q.Policy, q.Dimension)
		}
		seen[key] = true
	}
}

// FuzzParseHTTPDate checks the hand-written IMF-fixdate reader against http.ParseTime.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Mon, 23 Nov 2026 18:00:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Mon, 31 Nov 2026 18:00:00 GMT",
		"Mon, 23 Nov 2026 18:00:60 GMT", "Xyz, 23 Nov 2026 18:00:00 GMT", "Monday, 23-Nov-26 18:01:30 GMT", "Mon Nov 23 18:01:30 2026",
		"Mon, 29 Feb 2027 00:00:00 GMT", "Mon, 2a Nov 2026 18:00:00 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseHTTPDate(s)
		want, err := http.ParseTime(s)
		if ok != (err == nil) || (ok && !got.Equal(want)) {
			t.Fatalf("parseHTTPDate(%q) = %v, %v; http.ParseTime = %v, %v", s, got, ok, want, err)
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
		if got := limitish(name); got != want {
			t.Fatalf("limitish(%q) = %v, want %v", name, got, want)
		}
	})
}
