package ratekit

import (
	"strings"
	"time"
)

// ietfSeparate reads the separate fields of IETF drafts up to 6, which GitLab, Twitch and Heroku also send:
// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset. The same names carry a delay in seconds (the
// drafts) or Unix epoch seconds (GitLab, Twitch), so the reset goes through the ResetFormat classification.
// GitLab adds RateLimit-ResetTime (an HTTP-date), RateLimit-Name and RateLimit-Observed (the units used).
// Draft 3 put the policies inside the limit: `RateLimit-Limit: 10, 10;w=1, 50;w=60`.
func (r *reader) ietfSeparate(f *fields) {
	if len(f.rlLimit)|len(f.rlRemaining)|len(f.rlReset)|len(f.rlResetTime) == 0 {
		return // most responses; small enough to inline, so they cost no call
	}
	r.ietfSeparateOf(f)
}

// ietfSeparateOf is ietfSeparate of fields present.
func (r *reader) ietfSeparateOf(f *fields) {
	q := unknownQuota(firstValue(f.rlName), "")
	if n, ok := minCount(f.rlLimit); ok {
		q.Limit = n
	} else if len(f.rlLimit) > 0 {
		r.draft3Limit("RateLimit-Limit", f.rlLimit, &q)
	}
	if q.Window == 0 {
		q.Window = r.separateWindow
	}
	q.Remaining = remainingOf(f.rlRemaining, q.Limit, f.rlObserved)
	q.Reset = r.reset("RateLimit-Reset", f.rlReset, r.p.ResetFormat)
	if q.Reset.IsZero() {
		q.Reset = r.reset("RateLimit-ResetTime", f.rlResetTime, ResetDate)
	}
	r.add(q)
}

// draft3Limit reads `RateLimit-Limit: 10, 10;w=1, 50;w=60` (or w written window=): the first member is the
// limit in force; a policy with the same limit gives it its window; other policies become quotas of their
// own, with nothing known of what remains.
func (r *reader) draft3Limit(field string, lines []string, q *Quota) {
	scratch := getSFScratch() // recycled: not zeroed (sfv_scratch.go)
	defer putSFScratch(scratch)
	list := &scratch.policies
	if !list.parseList(lines) || list.len() == 0 {
		r.suspect(field, strings.Join(lines, ", "))
		return
	}
	first, ok := list.member(0).val.integer()
	if !ok || first < 0 {
		return
	}
	q.Limit = first
	q.Window = ietfWindow(list, list.member(0))
	for i := 1; i < list.len(); i++ {
		m := list.member(i)
		if n, ok := m.val.integer(); ok && n == first {
			// The limit in force, restated with its window: read before ietfPolicy names it after its
			// serialization, a string built only for a quota of its own.
			if w := ietfWindow(list, m); q.Window == 0 {
				q.Window = w
				continue
			} else if w == q.Window {
				continue
			}
		}
		extra := r.ietfPolicy(list, m)
		if extra.Limit == first && q.Window == 0 {
			q.Window = extra.Window
			continue
		}
		if extra.Limit == first && extra.Window == q.Window {
			continue
		}
		r.add(extra)
	}
}

// xRateLimit reads X-RateLimit-* and X-Rate-Limit-*: one name, many meanings (docs/HEADERS.md). GitHub adds
// -used and -resource (the policy: core, search, graphql); Reddit sends -used and -remaining without a limit
// (limit = used + remaining); Discord sends -reset-after in float seconds (preferred over its epoch -reset)
// and -bucket (the policy). The reset goes through the ResetFormat classification.
func (r *reader) xRateLimit(f *fields) {
	for i := range f.x {
		x := &f.x[i]
		if len(x.limit) == 0 && len(x.remaining) == 0 && len(x.reset) == 0 && len(x.resetAfter) == 0 {
			continue
		}
		policy := firstValue(x.resource)
		if policy == "" {
			policy = firstValue(x.bucket)
		}
		q := unknownQuota(policy, "")
		limit, okLimit := minCount(x.limit)
		used, okUsed := minCount(x.used)
		remaining, okRemaining := minCount(x.remaining)
		names := &xFieldNames[i]
		switch {
		case okLimit:
			q.Limit = limit
		case len(x.limit) > 0:
			// draft-polli-ratelimit-headers-00 style, as WHOOP and Envoy send it: the limit in force, then
			// each policy with its window, `100, 100;window=60, 10000;window=86400`.
			r.draft3Limit(names.limit, x.limit, &q)
		}
		if q.Limit < 0 && okUsed && okRemaining {
			q.Limit = used + remaining
		}
		q.Remaining = remainingFrom(remaining, okRemaining, q.Limit, used, okUsed)
		if w, ok := windowValue(firstValue(x.duration)); ok {
			q.Window = w // tollbooth's X-Rate-Limit-Duration
		}
		if len(x.resetAfter) > 0 {
			q.Reset = r.reset(names.resetAfter, x.resetAfter, ResetDelaySeconds)
		}
		if q.Reset.IsZero() {
			q.Reset = r.reset(names.reset, x.reset, r.p.ResetFormat)
		}
		r.add(q)
	}
}

// xFieldNames are the names of the fields of fields.x, for the Parser's Suspect hook: constants, so that
// reporting them allocates nothing (Discord's reset-after and WHOOP's limit are read on every response).
var xFieldNames = [2]struct{ limit, reset, resetAfter string }{
	{"X-RateLimit-Limit", "X-RateLimit-Reset", "X-RateLimit-Reset-After"},
	{"X-Rate-Limit-Limit", "X-Rate-Limit-Reset", "X-Rate-Limit-Reset-After"},
}

// shopify reads X-Shopify-Shop-Api-Call-Limit: "32/40", used over bucket size.
func (r *reader) shopify(f *fields) {
	if len(f.shopify) == 0 {
		return // most responses; small enough to inline, so they cost no call
	}
	r.shopifyOf(f)
}

// shopifyOf is shopify of a field present.
func (r *reader) shopifyOf(f *fields) {
	v := firstValue(f.shopify)
	if v == "" {
		return
	}
	usedText, sizeText, ok := strings.Cut(v, "/")
	used, okUsed := parseCount(usedText)
	size, okSize := parseCount(sizeText)
	if !ok || !okUsed || !okSize {
		r.suspect("X-Shopify-Shop-Api-Call-Limit", v)
		return
	}
	q := unknownQuota("", "")
	q.Limit = size
	q.Remaining = max(size-used, 0)
	r.add(q)
}

// windowValue reads a window given in seconds (decimals allowed: tollbooth's "1") or as a Go duration
// ("1m0s", as later tollbooth versions write it).
func windowValue(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var w time.Duration
	if n, ok := parseDecimal(v); ok {
		w = time.Duration(n * float64(time.Second))
	} else if d, err := time.ParseDuration(v); err == nil && hasDurationUnit(v) {
		w = d
	}
	return w, w > 0 && w <= maxAhead
}

// remainingOf reads a remaining count; without one, it is limit - used when both are known, else -1.
func remainingOf(remaining []string, limit int64, used []string) int64 {
	n, okN := minCount(remaining)
	u, okU := minCount(used)
	return remainingFrom(n, okN, limit, u, okU)
}

// remainingFrom is remainingOf of the counts already read (ok: read).
func remainingFrom(remaining int64, okRemaining bool, limit, used int64, okUsed bool) int64 {
	switch {
	case okRemaining:
		return remaining
	case okUsed && limit >= 0:
		return max(limit-used, 0)
	}
	return -1
}

// minCount reads a count (see parseCount) from field lines a proxy may have merged ("5, 5"): the smallest
// member wins, so a merged remaining never overstates what is left.
//
// It is small enough to inline, so that the many absent fields of a response cost no call.
func minCount(lines []string) (int64, bool) {
	if len(lines) == 0 {
		return 0, false
	}
	return minCountOf(lines)
}

// minCountOf is minCount of lines present.
func minCountOf(lines []string) (int64, bool) {
	if len(lines) == 1 {
		if n, ok := plainInt(lines[0]); ok {
			return n, true // the common case: one line of digits
		}
	}
	f, ok := minNumber(lines)
	if !ok || f >= 1<<62 {
		return 0, false
	}
	return int64(f), true
}

// firstValue is the first field line, trimmed.
func firstValue(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return trimOWS(lines[0])
}

// durationAfter reads a Go duration ("6m0s", "2m59.56s", "12ms"), as OpenAI writes its resets.
func (r *reader) durationAfter(v string) (time.Time, bool) {
	d, err := time.ParseDuration(trimOWS(v))
	if err != nil || d < 0 {
		return time.Time{}, false
	}
	return r.c.afterSeconds(d.Seconds())
}
