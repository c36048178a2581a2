package ratekit

import (
	"strings"
	"time"
)

// retryAfter returns the local time after which the server allows a retry, or the zero time when it did not
// say. retry-after-ms and x-ms-retry-after-ms (milliseconds, sent by Azure and the OpenAI SDKs' servers) are
// more precise than Retry-After and win when they parse.
//
// It is small enough to inline, so that a response without the fields (most) costs no call.
func (r *reader) retryAfter(f *fields) time.Time {
	if len(f.retryAfterMs)|len(f.retryIn)|len(f.retryAfter) == 0 {
		return time.Time{}
	}
	return r.retryAfterOf(f)
}

// retryAfterOf is retryAfter of fields present.
func (r *reader) retryAfterOf(f *fields) time.Time {
	if len(f.retryAfterMs) > 0 {
		if ms, ok := maxNumber(f.retryAfterMs); ok {
			if t, ok := r.c.afterSeconds(ms / 1000); ok {
				return t
			}
		}
		r.suspect("Retry-After-Ms", strings.Join(f.retryAfterMs, ", "))
	}
	// Traefik and vulcand/oxy send the exact wait as a Go duration beside Retry-After rounded up to whole
	// seconds ("X-Retry-In: 1.5s"): the more precise one wins.
	for _, v := range f.retryIn {
		if t, ok := r.durationAfter(v); ok && hasDurationUnit(trimOWS(v)) {
			return t
		}
		r.suspect("X-Retry-In", v)
	}
	var latest time.Time
	for _, line := range f.retryAfter {
		t, ok := r.retryAfterValue(line)
		if !ok {
			r.suspect("Retry-After", line)
			continue
		}
		if t.After(latest) {
			latest = t
		}
	}
	return latest
}

// retryAfterValue reads one Retry-After field line: delay-seconds (decimals tolerated: "2.0"), an HTTP-date
// in any of its three forms, or delays merged by a proxy ("120, 60": the longest wins). HTTP-dates contain
// commas, so the value is tried whole first and split only when every member is a number. A date in the past
// means "now"; negatives, garbage and waits beyond 40 days are rejected.
func (r *reader) retryAfterValue(v string) (time.Time, bool) {
	v = trimOWS(v)
	if n, ok := parseDecimal(v); ok {
		return r.c.afterSeconds(n)
	}
	if d, ok := parseHTTPDate(v); ok {
		return r.retryAt(d)
	}
	if n, ok := maxNumber([]string{v}); ok {
		return r.c.afterSeconds(n)
	}
	return r.mergedDates(v)
}

// mergedDates reads HTTP-dates a proxy merged into one line ("Fri, 31 Dec 1999 23:59:59 GMT, Fri, 31 Dec
// 1999 23:59:59 GMT"): the members split at commas are rejoined in pairs (IMF-fixdate and RFC 850 dates
// hold one comma, asctime dates none). Every member must be a date; the latest wins.
func (r *reader) mergedDates(v string) (time.Time, bool) {
	var latest time.Time
	seen := false
	for rest := v; rest != ""; {
		first, tail, more := strings.Cut(rest, ",")
		var d time.Time
		var ok bool
		if d, ok = parseHTTPDate(trimOWS(first)); ok {
			rest = tail
		} else if second, after, _ := strings.Cut(tail, ","); more {
			if d, ok = parseHTTPDate(trimOWS(first + "," + second)); !ok {
				return time.Time{}, false
			}
			rest = after
		} else {
			return time.Time{}, false
		}
		if more && rest == "" && strings.HasSuffix(v, ",") {
			return time.Time{}, false
		}
		if d.After(latest) || !seen {
			latest, seen = d, true
		}
	}
	if !seen {
		return time.Time{}, false
	}
	return r.retryAt(latest)
}

// retryAt converts a Retry-After date on the server's clock to local time: a date in the past means now,
// one beyond 40 days is rejected.
func (r *reader) retryAt(d time.Time) (time.Time, bool) {
	t := r.c.local(d)
	switch {
	case t.Before(r.c.received):
		return r.c.received, true
	case t.Sub(r.c.received) > maxAhead:
		return time.Time{}, false
	}
	return t, true
}

// maxNumber returns the largest of the comma-separated numbers in lines. It reports false unless every
// member of every line is a non-negative decimal number.
func maxNumber(lines []string) (float64, bool) {
	return foldNumbers(lines, func(a, b float64) float64 { return max(a, b) })
}

// minNumber returns the smallest of the comma-separated numbers in lines, like maxNumber.
func minNumber(lines []string) (float64, bool) {
	return foldNumbers(lines, func(a, b float64) float64 { return min(a, b) })
}

func foldNumbers(lines []string, pick func(a, b float64) float64) (float64, bool) {
	var acc float64
	seen := false
	for _, line := range lines {
		for rest := line; ; {
			member, tail, more := strings.Cut(rest, ",")
			n, ok := parseDecimal(trimOWS(member))
			if !ok {
				return 0, false
			}
			if seen {
				acc = pick(acc, n)
			} else {
				acc, seen = n, true
			}
			if !more {
				break
			}
			rest = tail
		}
	}
	return acc, seen
}
