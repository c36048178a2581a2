package ratekit

import (
	"strings"
	"time"
)

// structuralGroup reads a group of fields recognised by the structure of their names (names.go). Every
// value is read by the unit it carries or its name states; a number of unknown meaning is left out (and
// reported to the Suspect hook), never guessed.
func (r *reader) structuralGroup(d *dimFields) {
	q := unknownQuota(d.policy, d.dimension)
	q.Window = d.window
	if w, ok := r.window(d); ok {
		q.Window = w
	}
	if d.fillRate {
		q.Window = 0 // the interval refills the fill rate, not the limit (Confluence Data Center)
	}
	if n, ok := minCount(d.limit); ok {
		q.Limit = n
	} else if len(d.limit) > 0 {
		r.namedCounts(d, d.limit, fieldLimit)
	}
	remaining, okRemaining := minCount(d.remaining)
	if !okRemaining && len(d.remaining) > 0 {
		r.namedCounts(d, d.remaining, fieldRemaining)
	}
	if used, ok := minCount(d.used); ok && q.Limit < 0 && okRemaining {
		q.Limit = used + remaining
	}
	q.Remaining = remainingOf(d.remaining, q.Limit, d.used)
	q.Reset = r.structuralReset(d)
	r.pairs(d, &q)
	r.add(q)
}

// structuralReset reads reset values: a duration with its unit ("1.5s"), a date, a number in the unit the
// name states (-ms, -seconds), or an epoch (a number too large for a delay). A bare small number could be
// seconds or milliseconds: it is left out unless the Parser pins ResetFormat.
func (r *reader) structuralReset(d *dimFields) time.Time {
	var latest time.Time
	for unit, lines := range d.unitReset {
		for _, v := range lines {
			t, ok := r.structuralResetValue(trimOWS(v), nameUnit(unit))
			if !ok {
				r.suspect(d.resetFieldName, v)
				continue
			}
			if t.After(latest) {
				latest = t
			}
		}
	}
	return latest
}

func (r *reader) structuralResetValue(v string, unit nameUnit) (time.Time, bool) {
	n, isNumber := maxNumber([]string{v})
	if !isNumber {
		if hasDurationUnit(v) {
			return r.durationAfter(v)
		}
		return r.c.reset(v, ResetDate)
	}
	format := r.p.ResetFormat
	switch {
	case unit == unitMillis && n >= epochMillisMin:
		format = ResetEpochMilliseconds
	case unit == unitMillis:
		format = ResetDelayMilliseconds
	case unit == unitSeconds && n > maxAhead.Seconds():
		format = ResetEpochSeconds
	case unit == unitSeconds:
		format = ResetDelaySeconds
	case format == ResetAuto && n <= maxAhead.Seconds():
		return time.Time{}, false // seconds or milliseconds: no rule can tell
	}
	return r.c.reset(v, format)
}

// window reads a window field: a number in the unit the name states, a duration with its unit ("1m0s"), or
// a period word ("minute"). A bare number of unknown unit is left out. Of fields in several units, the
// first readable in the order none, seconds, milliseconds wins.
func (r *reader) window(d *dimFields) (time.Duration, bool) {
	for unit, lines := range d.unitWindow {
		if w, ok := r.windowValue(firstValue(lines), nameUnit(unit), d.resetFieldName); ok {
			return w, true
		}
	}
	return 0, false
}

func (r *reader) windowValue(v string, unit nameUnit, field string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var w time.Duration
	if n, ok := parseDecimal(v); ok {
		switch unit {
		case unitMillis:
			w = time.Duration(n * float64(time.Millisecond))
		case unitSeconds:
			w = time.Duration(n * float64(time.Second))
		default:
			r.suspect(field, v)
			return 0, false
		}
	} else if _, pw, ok := period(v); ok {
		w = pw
	} else if pd, err := time.ParseDuration(v); err == nil && hasDurationUnit(v) {
		w = pd
	}
	if w <= 0 || w > maxAhead {
		return 0, false
	}
	return w, true
}

// hasDurationUnit reports whether v ends in a Go duration unit: a number with its unit.
func hasDurationUnit(v string) bool {
	return v != "" && strings.ContainsAny(v[len(v)-1:], "hmsµ") && strings.ContainsAny(v[:1], "0123456789.")
}

// namedCounts reads a count field that lists counts per name, as Azure Resource Manager sends them
// (x-ms-ratelimit-remaining-resource: Microsoft.Compute/GetVMScaleSet3Min;197,Microsoft.Compute/...;1297):
// a quota per name.
func (r *reader) namedCounts(d *dimFields, lines []string, field int) {
	for _, line := range lines {
		for item := range strings.SplitSeq(line, ",") {
			name, count, ok := strings.Cut(trimOWS(item), ";")
			n, okN := parseCount(count)
			if !ok || !okN || name == "" {
				continue
			}
			q := unknownQuota(name, d.dimension)
			if field == fieldLimit {
				q.Limit = n
			} else {
				q.Remaining = n
			}
			r.add(q)
		}
	}
}

// pairs reads values that name their own fields, separated by semicolons or commas:
//   - Zendesk's `total=100; remaining=99; resets=41`: the group's limit, remaining and reset (seconds, as in
//     the IETF dictionary form);
//   - Salesforce's `api-usage=18/5000; per-app-api-usage=17/250(appName=x)`: used/limit, a quota per name.
func (r *reader) pairs(d *dimFields, q *Quota) {
	used := int64(-1)
	for _, line := range d.pairs {
		for item := range strings.FieldsFuncSeq(line, func(c rune) bool { return c == ';' || c == ',' }) {
			key, v, ok := strings.Cut(trimOWS(item), "=")
			if !ok || key == "" {
				continue
			}
			if usedText, limitText, ok := strings.Cut(v, "/"); ok {
				if i := strings.IndexByte(limitText, '('); i >= 0 {
					limitText = limitText[:i]
				}
				u, okU := parseCount(usedText)
				l, okL := parseCount(limitText)
				if okU && okL {
					pq := unknownQuota(key, d.dimension)
					pq.Limit, pq.Remaining = l, max(l-u, 0)
					r.add(pq)
				}
				continue
			}
			r.pair(key, v, q, &used, d.resetFieldName)
		}
	}
	if used >= 0 && q.Remaining < 0 && q.Limit >= 0 {
		q.Remaining = max(q.Limit-used, 0)
	}
}

func (r *reader) pair(key, v string, q *Quota, used *int64, field string) {
	k := strings.ToLower(key)
	n, ok := parseCount(v)
	switch k {
	case "total", "limit", "max", "quota", "q":
		if ok {
			q.Limit = n
		}
	case "remaining", "r":
		if ok {
			q.Remaining = n
		}
	case "used":
		if ok {
			*used = n
		}
	case "reset", "resets", "t":
		secs, okSecs := parseDecimal(trimOWS(v))
		if t, okT := r.c.afterSeconds(secs); okSecs && okT {
			q.Reset = t
		} else {
			r.suspect(field, v)
		}
	case "window", "w":
		if secs, ok := parseDecimal(trimOWS(v)); ok && secs > 0 && secs <= maxAhead.Seconds() {
			q.Window = time.Duration(secs * float64(time.Second))
		}
	}
}
