package ratekit

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// fields holds the field lines of every rate-limit header in a response, found in one pass over the header
// map. Names are matched case-insensitively (HTTP/2 sends lowercase, Go canonicalises, and hand-built
// headers can hold anything), without allocating.
type fields struct {
	date                     []string
	retryAfter, retryAfterMs []string

	// IETF draft 8 and later (lists), draft 7 (dictionary), and their Beta- twins (Jira).
	ietfState, ietfPolicy []string
	betaState, betaPolicy []string
	// IETF drafts up to 6, GitLab, Twitch and Heroku: RateLimit-Limit, -Remaining, -Reset, and GitLab's
	// -ResetTime, -Name and -Observed.
	rlLimit, rlRemaining, rlReset, rlResetTime, rlName, rlObserved []string

	// X-RateLimit-* (index 0) and X-Rate-Limit-* (index 1: X/Twitter, Okta).
	x [2]xFields

	shopify []string

	// Per-dimension headers: x-ratelimit-{limit,remaining,reset}-<dimension>[-<period>] (OpenAI, Groq,
	// Azure, Cerebras) and anthropic-{ratelimit,priority}-<dimension>-{limit,remaining,reset}.
	dims  [maxDims]dimFields
	ndims int

	found  bool // any rate-limit field at all (Date alone is not one)
	merges int  // names merged with another of the same letters in another case, up to maxMerges
}

// maxMerges bounds the names merged because they differ only in case ("Retry-After" and "retry-after" in
// a hand-built header). A received header has none (net/http canonicalises names); beyond the bound,
// further spellings are ignored, so a header of a million spellings of one name costs linear time.
const maxMerges = 16

// maxDims bounds the per-dimension quotas read from one response: Anthropic sends the most, eight.
const maxDims = 8

type xFields struct {
	limit, remaining, reset, resetAfter, used, resource, bucket []string
}

// dimFields are the fields of one (family, policy, dimension).
type dimFields struct {
	anthropic               bool
	policy, dimension       string
	window                  time.Duration
	limit, remaining, reset []string
	resetFieldName          string // for the Parser's Suspect hook
}

// mayLimit reports whether h may hold a rate-limit field: a cheap test of first letters and prefixes that
// lets a response without any skip the full scan. It may say yes wrongly, never no.
func mayLimit(h http.Header) bool {
	for name := range h {
		if len(name) < 4 {
			continue
		}
		switch name[0] | 0x20 {
		case 'r':
			if foldHasPrefix(name, "retry-after") || foldHasPrefix(name, "ratelimit") {
				return true
			}
		case 'x':
			if foldHasPrefix(name, "x-ra") || foldHasPrefix(name, "x-ms-retry") || foldHasPrefix(name, "x-shopify-shop-api") {
				return true
			}
		case 'a':
			if foldHasPrefix(name, "anthropic-") {
				return true
			}
		case 'b':
			if foldHasPrefix(name, "beta-ratelimit") {
				return true
			}
		}
	}
	return false
}

// scan collects the rate-limit fields of h. It reports whether there was any.
func (f *fields) scan(h http.Header) bool {
	for name, lines := range h {
		if len(name) < 4 || len(lines) == 0 {
			continue
		}
		switch name[0] | 0x20 { // ASCII lowercase of the first letter; other bytes never match below
		case 'd':
			if foldEqual(name, "date") {
				f.merge(&f.date, lines)
			}
		case 'r':
			f.scanR(name, lines)
		case 'b':
			if foldHasPrefix(name, "beta-ratelimit") {
				switch rest := name[len("beta-ratelimit"):]; {
				case rest == "":
					f.set(&f.betaState, lines)
				case foldEqual(rest, "-policy"):
					f.set(&f.betaPolicy, lines)
				}
			}
		case 'x':
			f.scanX(name, lines)
		case 'a':
			if foldHasPrefix(name, "anthropic-ratelimit-") {
				f.anthropic(name, "", name[len("anthropic-ratelimit-"):], lines)
			} else if foldHasPrefix(name, "anthropic-priority-") {
				f.anthropic(name, "priority", name[len("anthropic-priority-"):], lines)
			}
		}
	}
	if f.ndims > 1 {
		// Fix the order, which map iteration randomises, so merging quotas is deterministic.
		slices.SortFunc(f.dims[:f.ndims], func(a, b dimFields) int {
			switch {
			case a.anthropic != b.anthropic:
				if a.anthropic {
					return 1
				}
				return -1
			case a.policy != b.policy:
				return strings.Compare(a.policy, b.policy)
			}
			return strings.Compare(a.dimension, b.dimension)
		})
	}
	return f.found
}

func (f *fields) scanR(name string, lines []string) {
	switch {
	case foldEqual(name, "retry-after"):
		f.set(&f.retryAfter, lines)
	case foldEqual(name, "retry-after-ms"):
		f.set(&f.retryAfterMs, lines)
	case foldHasPrefix(name, "ratelimit"):
		var dst *[]string
		switch rest := name[len("ratelimit"):]; {
		case rest == "":
			dst = &f.ietfState
		case foldEqual(rest, "-policy"):
			dst = &f.ietfPolicy
		case foldEqual(rest, "-limit"):
			dst = &f.rlLimit
		case foldEqual(rest, "-remaining"):
			dst = &f.rlRemaining
		case foldEqual(rest, "-reset"):
			dst = &f.rlReset
		case foldEqual(rest, "-resettime"):
			dst = &f.rlResetTime
		case foldEqual(rest, "-name"):
			dst = &f.rlName
		case foldEqual(rest, "-observed"):
			dst = &f.rlObserved
		default:
			return
		}
		f.set(dst, lines)
	}
}

func (f *fields) scanX(name string, lines []string) {
	var x *xFields
	var rest string
	switch {
	case foldHasPrefix(name, "x-ratelimit-"):
		x, rest = &f.x[0], name[len("x-ratelimit-"):]
	case foldHasPrefix(name, "x-rate-limit-"):
		x, rest = &f.x[1], name[len("x-rate-limit-"):]
	case foldEqual(name, "x-ms-retry-after-ms"):
		f.set(&f.retryAfterMs, lines)
		return
	case foldEqual(name, "x-shopify-shop-api-call-limit"):
		f.set(&f.shopify, lines)
		return
	default:
		return
	}
	var dst *[]string
	switch {
	case foldEqual(rest, "limit"):
		dst = &x.limit
	case foldEqual(rest, "remaining"):
		dst = &x.remaining
	case foldEqual(rest, "reset"):
		dst = &x.reset
	case foldEqual(rest, "reset-after"):
		dst = &x.resetAfter
	case foldEqual(rest, "used"):
		dst = &x.used
	case foldEqual(rest, "resource"):
		dst = &x.resource
	case foldEqual(rest, "bucket"):
		dst = &x.bucket
	case foldHasPrefix(rest, "limit-"):
		f.dimension(name, rest[len("limit-"):], fieldLimit, lines)
		return
	case foldHasPrefix(rest, "remaining-"):
		f.dimension(name, rest[len("remaining-"):], fieldRemaining, lines)
		return
	case foldHasPrefix(rest, "reset-"):
		f.dimension(name, rest[len("reset-"):], fieldReset, lines)
		return
	default:
		return
	}
	f.set(dst, lines)
}

// Which field of a dimension a header carries.
const (
	fieldLimit = iota
	fieldRemaining
	fieldReset
)

// dimension records an x-ratelimit-<field>-<suffix> header. The suffix is a dimension ("requests",
// "tokens", "tokens_usage_based": the set is open) optionally followed by a period, as Cerebras sends
// ("requests-day"): the period becomes the policy and its window.
func (f *fields) dimension(name, suffix string, field int, lines []string) {
	policy := ""
	var window time.Duration
	if i := strings.LastIndexByte(suffix, '-'); i > 0 {
		if p, w, ok := period(suffix[i+1:]); ok {
			policy, window, suffix = p, w, suffix[:i]
		}
	}
	if suffix == "" {
		return
	}
	d := f.dimFields(false, policy, lowerName(suffix))
	if d == nil {
		return
	}
	d.window = window
	f.setDim(d, name, field, lines)
}

// anthropic records an anthropic-ratelimit-<dimension>-<field> header (or anthropic-priority-...).
func (f *fields) anthropic(name, policy, rest string, lines []string) {
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return
	}
	var field int
	switch tail := rest[i+1:]; {
	case foldEqual(tail, "limit"):
		field = fieldLimit
	case foldEqual(tail, "remaining"):
		field = fieldRemaining
	case foldEqual(tail, "reset"):
		field = fieldReset
	default:
		return
	}
	d := f.dimFields(true, policy, lowerName(rest[:i]))
	if d == nil {
		return
	}
	f.setDim(d, name, field, lines)
}

func (f *fields) setDim(d *dimFields, name string, field int, lines []string) {
	switch field {
	case fieldLimit:
		f.set(&d.limit, lines)
	case fieldRemaining:
		f.set(&d.remaining, lines)
	case fieldReset:
		f.set(&d.reset, lines)
		d.resetFieldName = name
	}
}

// set records the lines of a rate-limit field.
func (f *fields) set(dst *[]string, lines []string) {
	f.found = true
	f.merge(dst, lines)
}

// merge adds the lines of a field to those of its other spellings, if any.
func (f *fields) merge(dst *[]string, lines []string) {
	if len(*dst) > 0 {
		if f.merges == maxMerges {
			return
		}
		f.merges++
	}
	*dst = mergeLines(*dst, lines)
}

// mergeLines combines the lines of names that differ only in case ("Retry-After" and "retry-after" in a
// hand-built header), sorted so the result does not depend on the order of map iteration.
func mergeLines(have, lines []string) []string {
	if len(have) == 0 {
		return lines
	}
	merged := append(slices.Clip(have), lines...)
	slices.Sort(merged)
	return merged
}

// dimFields finds or adds the entry of (family, policy, dimension); nil when the table is full.
func (f *fields) dimFields(anthropic bool, policy, dimension string) *dimFields {
	for i := 0; i < f.ndims; i++ {
		d := &f.dims[i]
		if d.anthropic == anthropic && d.policy == policy && d.dimension == dimension {
			return d
		}
	}
	if f.ndims == maxDims {
		return nil
	}
	d := &f.dims[f.ndims]
	f.ndims++
	*d = dimFields{anthropic: anthropic, policy: policy, dimension: dimension}
	return d
}

// period recognises the window suffixes of per-period quotas.
func period(s string) (string, time.Duration, bool) {
	for _, p := range periods {
		if foldEqual(s, p.name) {
			return p.name, p.window, true
		}
	}
	return "", 0, false
}

var periods = [...]struct {
	name   string
	window time.Duration
}{
	{"second", time.Second},
	{"minute", time.Minute},
	{"hour", time.Hour},
	{"day", 24 * time.Hour},
	{"week", 7 * 24 * time.Hour},
}

// knownNames are the dimension names seen in the wild, returned without allocating.
var knownNames = [...]string{"requests", "tokens", "input-tokens", "output-tokens"}

// lowerName returns s in lowercase, as dimension names are reported.
func lowerName(s string) string {
	for _, k := range knownNames {
		if foldEqual(s, k) {
			return k
		}
	}
	return strings.ToLower(s)
}

// foldEqual reports whether s equals lower, a lowercase ASCII string, ignoring ASCII case.
func foldEqual(s, lower string) bool {
	return len(s) == len(lower) && foldHasPrefix(s, lower)
}

// foldHasPrefix reports whether s begins with lower, a lowercase ASCII string, ignoring ASCII case.
func foldHasPrefix(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if c != lower[i] && !('A' <= c && c <= 'Z' && c+('a'-'A') == lower[i]) {
			return false
		}
	}
	return true
}
