package ratekit

import (
	"math/bits"
	"slices"
	"strings"
	"time"
)

// fields holds the field lines of every rate-limit header in a response. Names are matched
// case-insensitively (HTTP/2 sends lowercase, Go canonicalises, and hand-built headers can hold anything),
// without allocating: canonical names by a direct switch first, then a case-insensitive fallback, then the
// structure of the name (names.go).
type fields struct {
	date                     []string
	retryAfter, retryAfterMs []string
	retryIn                  []string // Traefik and vulcand/oxy: X-Retry-In, a Go duration

	// IETF draft 8 and later (lists), draft 7 (dictionary), and their Beta- twins (Jira).
	ietfState, ietfPolicy []string
	betaState, betaPolicy []string
	// IETF drafts up to 6, GitLab, Twitch and Heroku: RateLimit-Limit, -Remaining, -Reset, and GitLab's
	// -ResetTime, -Name and -Observed.
	rlLimit, rlRemaining, rlReset, rlResetTime, rlName, rlObserved []string

	// X-RateLimit-* (index 0) and X-Rate-Limit-* (index 1: X/Twitter, Okta, Zendesk, tollbooth).
	x [2]xFields

	shopify []string

	found  bool // any rate-limit field at all (Date alone is not one)
	merges int  // names merged with another of the same letters in another case, up to maxMerges
}

// maxMerges bounds the names merged because they differ only in case ("Retry-After" and "retry-after" in
// a hand-built header). A received header has none (net/http canonicalises names); beyond the bound,
// further spellings are ignored, so a header of a million spellings of one name costs linear time.
const maxMerges = 16

// maxDims bounds the per-dimension quotas read from one response: Anthropic sends the most, eight.
const maxDims = 8

// groups holds the per-quota groups of fields found by the form or the structure of their names:
// x-ratelimit-{limit,remaining,reset}-<dimension>[-<period>] (OpenAI, Groq, Azure, Cerebras, Kong),
// anthropic-{ratelimit,priority}-<dimension>-{limit,remaining,reset}, and any other name with a limit word
// and a field word (names.go). At 2.7 KB it is most of a parse's state, so it is kept apart from fields:
// parse zeroes one only when a field outside the canonical names of the common dialects may need it, and
// passes it by parameter, so that escape analysis keeps it on the stack.
type groups struct {
	d [maxDims]dimFields
	n int
}

type xFields struct {
	limit, remaining, reset, resetAfter, used, resource, bucket, duration []string
}

// dimFields are the fields of one (family, policy, dimension).
type dimFields struct {
	family                  dimFamily
	policy, dimension       string
	window                  time.Duration
	limit, remaining, reset []string
	used                    []string    // structural names only
	pairs                   []string    // structural names only: values that name their own fields
	unitReset, unitWindow   [3][]string // structural names only: reset and window lines by the unit their names state
	resetFieldName          string      // for the Parser's Suspect hook
	fillRate                bool        // a token bucket's refill is reported: the interval is not the limit's window
}

// dimFamily says how a group's reset values read.
type dimFamily uint8

const (
	familyOpenAI     dimFamily = iota // Go durations, else the pinned ResetFormat
	familyAnthropic                   // RFC 3339 dates
	familyStructural                  // units from the name or the value; a bare number only if it is an epoch
)

// candidate is a field whose name may be a rate-limit field, found in the one pass over the header.
type candidate struct {
	name  string
	lines []string
}

// maxCandidates is how many candidates the pass over the header keeps inline. A response with more (an
// Anthropic one sends about twenty) is scanned again by the slow path, which has room for all.
const maxCandidates = 8

// limitish reports whether a field name may be a rate-limit field: it contains "limit" or "retry" in any
// case, or begins with "anthropic-" (whose priority fields name no limit). It is the only work done for
// the ordinary fields of a response, so it reads a name eight bytes at a time: it looks for the rare
// letters m and y (the middle of "limit", the end of "retry"), which most names lack, and checks the
// letters around each one it finds. Names shorter than five letters hold neither word.
func limitish(name string) bool {
	n := len(name)
	switch {
	case n < len("limit"):
		return false
	case n < 8: // two overlapping halves: bytes 0-3, then n-4 to n-1
		w := uint64(load4(name, 0)) | uint64(load4(name, n-4))<<32
		return limitishHits(name, letterMY(w), 0, n-8)
	}
	for i := 0; i < n-8; i += 8 {
		if hits := letterMY(load8(name, i)); hits != 0 && limitishHits(name, hits, i, i) {
			return true
		}
	}
	// The last word overlaps the one before: checking a letter twice is harmless.
	if hits := letterMY(load8(name, n-8)); hits != 0 && limitishHits(name, hits, n-8, n-8) {
		return true
	}
	// The first letter alone rules out nearly every other name, before the prefix's words are loaded.
	return name[0]|0x20 == 'a' && n > len("anthropic-") && isAnthropicPrefix(name)
}

// isAnthropicPrefix is foldHasPrefix(name, "anthropic-") for a name of at least ten bytes, a word at a time:
// OR-ing 0x20 into a byte lowercases a letter and maps no other byte to a letter of "anthropi", and the
// hyphen, which OR-ing would confuse with a carriage return, is compared exactly.
func isAnthropicPrefix(name string) bool {
	const lowerCase = 0x2020202020202020
	return load8(name, 0)|lowerCase == load8("anthropic-", 0) && name[8]|0x20 == 'c' && name[9] == '-'
}

// limitishHits reports whether one of the m and y letters flagged in hits (letterMY of a word of name) is
// that of "limit" or "retry". Byte b of the word is name[lo+b] for b < 4, name[hi+b] for the others.
func limitishHits(name string, hits uint64, lo, hi int) bool {
	for ; hits != 0; hits &= hits - 1 {
		b := bits.TrailingZeros64(hits) / 8
		i := lo + b
		if b >= 4 {
			i = hi + b
		}
		if limitishAt(name, i) {
			return true
		}
	}
	return false
}

// limitishAt reports whether name[i] is the m of "limit" or the y of "retry", in any case. It compares four
// letters at a time, as isDate does: OR-ing 0x20 into a byte maps only L, I, M, R, E and T to l, i, m, r, e
// and t among the bytes that could become these letters.
func limitishAt(name string, i int) bool {
	const limi, retr = 'l' | 'i'<<8 | 'm'<<16 | 'i'<<24, 'r' | 'e'<<8 | 't'<<16 | 'r'<<24
	switch name[i] | 0x20 {
	case 'm':
		return i >= 2 && i+2 < len(name) && load4(name, i-2)|0x20202020 == limi && name[i+2]|0x20 == 't'
	case 'y':
		return i >= 4 && load4(name, i-4)|0x20202020 == retr
	}
	return false
}

// load4 reads s[i:i+4] as a little-endian word.
func load4(s string, i int) uint32 {
	s = s[i : i+4]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// load8 reads s[i:i+8] as a little-endian word (the compiler merges the byte loads into one).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// letterMY returns a mask with the high bit set in each byte of w that is m, M, y or Y, and perhaps in the
// bytes right after one of them that are l (after an m) or x (after a y), where a borrow of the
// has-zero-byte test crosses: a superset its callers narrow with limitishAt, which reads the letters. The
// exact form of the test, in which no borrow crosses bytes (^((v&lows + lows) | v | lows)), costs more
// operations a letter, on every word of every name.
func letterMY(w uint64) uint64 {
	const ones, case20, highs = 0x0101010101010101, 0x2020202020202020, 0x8080808080808080
	w |= case20 // ASCII lowercase for letters; no other byte becomes m or y (0x4d, 0x59 are M and Y)
	m, y := w^('m'*ones), w^('y'*ones)
	return ((m-ones)&^m | (y-ones)&^y) & highs
}

// isDate reports whether name is Date in any case, a word at a time: OR-ing 0x20 into a byte maps only
// D to d, A to a, T to t and E to e among the bytes that could become these letters.
func isDate(name string) bool {
	const date = 'd' | 'a'<<8 | 't'<<16 | 'e'<<24
	return len(name) == 4 && load4(name, 0)|0x20202020 == date
}

// add records one candidate field; fields of per-quota groups go in g.
func (f *fields) add(g *groups, name string, lines []string) {
	if len(lines) == 0 {
		return
	}
	if isDate(name) {
		f.merge(&f.date, lines)
		return
	}
	if dst := f.canonical(name); dst != nil {
		f.set(dst, lines)
		return
	}
	switch name[0] | 0x20 { // ASCII lowercase of the first letter; other bytes never match below
	case 'r':
		if f.scanR(name, lines) {
			return
		}
	case 'b':
		if foldHasPrefix(name, "beta-ratelimit") {
			switch rest := name[len("beta-ratelimit"):]; {
			case rest == "":
				f.set(&f.betaState, lines)
				return
			case foldEqual(rest, "-policy"):
				f.set(&f.betaPolicy, lines)
				return
			}
		}
	case 'x':
		if f.scanX(g, name, lines) {
			return
		}
	case 'a':
		if foldHasPrefix(name, "anthropic-ratelimit-") {
			f.anthropic(g, name, "", name[len("anthropic-ratelimit-"):], lines)
			return
		} else if foldHasPrefix(name, "anthropic-priority-") {
			f.anthropic(g, name, "priority", name[len("anthropic-priority-"):], lines)
			return
		}
	}
	f.structural(g, name, lines)
}

// sort fixes the order of the groups, which map iteration randomises, so merging quotas is
// deterministic.
func (g *groups) sort() {
	if g.n > 1 {
		slices.SortFunc(g.d[:g.n], func(a, b dimFields) int {
			switch {
			case a.family != b.family:
				return int(a.family) - int(b.family)
			case a.policy != b.policy:
				return strings.Compare(a.policy, b.policy)
			}
			return strings.Compare(a.dimension, b.dimension)
		})
	}
}

// canonical returns the slot of a field whose name is in the canonical form net/http gives every received
// field, or nil: a direct switch, the common case, before the case-insensitive matching.
func (f *fields) canonical(name string) *[]string {
	switch name {
	case "Retry-After":
		return &f.retryAfter
	case "Retry-After-Ms", "X-Ms-Retry-After-Ms":
		return &f.retryAfterMs
	case "X-Retry-In":
		return &f.retryIn
	case "Ratelimit":
		return &f.ietfState
	case "Ratelimit-Policy":
		return &f.ietfPolicy
	case "Beta-Ratelimit":
		return &f.betaState
	case "Beta-Ratelimit-Policy":
		return &f.betaPolicy
	case "Ratelimit-Limit":
		return &f.rlLimit
	case "Ratelimit-Remaining":
		return &f.rlRemaining
	case "Ratelimit-Reset":
		return &f.rlReset
	case "X-Ratelimit-Limit":
		return &f.x[0].limit
	case "X-Ratelimit-Remaining":
		return &f.x[0].remaining
	case "X-Ratelimit-Reset":
		return &f.x[0].reset
	case "X-Ratelimit-Used":
		return &f.x[0].used
	case "X-Ratelimit-Resource":
		return &f.x[0].resource
	case "X-Rate-Limit-Limit", "X-Rate-Limit":
		return &f.x[1].limit
	case "X-Rate-Limit-Remaining":
		return &f.x[1].remaining
	case "X-Rate-Limit-Reset":
		return &f.x[1].reset
	}
	return nil
}

func (f *fields) scanR(name string, lines []string) bool {
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
			return false
		}
		f.set(dst, lines)
	default:
		return false
	}
	return true
}

func (f *fields) scanX(g *groups, name string, lines []string) bool {
	var x *xFields
	var rest string
	switch {
	case foldHasPrefix(name, "x-ratelimit-"):
		x, rest = &f.x[0], name[len("x-ratelimit-"):]
	case foldHasPrefix(name, "x-rate-limit-"):
		x, rest = &f.x[1], name[len("x-rate-limit-"):]
	case foldEqual(name, "x-rate-limit"): // Zendesk: the limit alone
		f.set(&f.x[1].limit, lines)
		return true
	case foldEqual(name, "x-ms-retry-after-ms"):
		f.set(&f.retryAfterMs, lines)
		return true
	case foldEqual(name, "x-retry-in"):
		f.set(&f.retryIn, lines)
		return true
	case foldEqual(name, "x-shopify-shop-api-call-limit"):
		f.set(&f.shopify, lines)
		return true
	default:
		return false
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
	case foldEqual(rest, "duration"): // tollbooth: the window
		dst = &x.duration
	case foldHasPrefix(rest, "limit-"):
		return f.dimension(g, name, rest[len("limit-"):], fieldLimit, lines)
	case foldHasPrefix(rest, "remaining-"):
		return f.dimension(g, name, rest[len("remaining-"):], fieldRemaining, lines)
	case foldHasPrefix(rest, "reset-"):
		return f.dimension(g, name, rest[len("reset-"):], fieldReset, lines)
	default:
		return false
	}
	f.set(dst, lines)
	return true
}

// Which field of a group a header carries.
const (
	fieldLimit = iota
	fieldRemaining
	fieldReset
	fieldUsed
	fieldWindow
	fieldPairs
	fieldFillRate
)

// dimension records an x-ratelimit-<field>-<suffix> header. The suffix is a dimension ("requests",
// "tokens", "tokens_usage_based": the set is open) optionally followed by a period, as Cerebras sends
// ("requests-day"): the period becomes the policy and its window. A period alone is Kong's form
// (X-RateLimit-Limit-Minute), a quota of requests. A suffix of more words goes to the structural reader.
func (f *fields) dimension(g *groups, name, suffix string, field int, lines []string) bool {
	policy := ""
	var window time.Duration
	if p, w, ok := period(suffix); ok {
		policy, window, suffix = p, w, "requests"
	} else if i := strings.LastIndexByte(suffix, '-'); i > 0 {
		if p, w, ok := period(suffix[i+1:]); ok {
			policy, window, suffix = p, w, suffix[:i]
		}
	}
	if suffix == "" || strings.IndexByte(suffix, '-') >= 0 && !dimensionWord(suffix) {
		return false
	}
	d := g.find(familyOpenAI, policy, lowerName(suffix))
	if d == nil {
		return true
	}
	d.window = window
	f.setDim(d, name, field, lines)
	return true
}

// anthropic records an anthropic-ratelimit-<dimension>-<field> header (or anthropic-priority-...).
func (f *fields) anthropic(g *groups, name, policy, rest string, lines []string) {
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
	d := g.find(familyAnthropic, policy, lowerName(rest[:i]))
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
	case fieldUsed:
		f.set(&d.used, lines)
	case fieldPairs:
		f.set(&d.pairs, lines)
		d.resetFieldName = name
	case fieldFillRate:
		f.found = true
		d.fillRate = true
	}
}

// set records the lines of a rate-limit field.
func (f *fields) set(dst *[]string, lines []string) {
	f.found = true
	f.merge(dst, lines)
}

// merge adds the lines of a field to those of its other spellings, if any.
func (f *fields) merge(dst *[]string, lines []string) {
	if len(*dst) == 0 {
		*dst = lines // the common case, a name seen once
		return
	}
	if f.merges == maxMerges {
		return
	}
	f.merges++
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

// find finds or adds the entry of (family, policy, dimension); nil when the table is full, or there is no
// table.
func (g *groups) find(family dimFamily, policy, dimension string) *dimFields {
	if g == nil {
		return nil
	}
	for i := 0; i < g.n; i++ {
		d := &g.d[i]
		if d.family == family && d.policy == policy && d.dimension == dimension {
			return d
		}
	}
	if g.n == maxDims {
		return nil
	}
	d := &g.d[g.n]
	g.n++
	*d = dimFields{family: family, policy: policy, dimension: dimension}
	return d
}
