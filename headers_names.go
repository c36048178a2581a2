package ratekit

import (
	"strings"
	"time"
)

// This file recognises rate-limit fields by the structure of their names, so that an API no one here has
// seen is read without a code change: a vendor prefix, a limit word, words naming the quota (a scope, a
// dimension, a period, in either order around the field word) and a field word.
//
//	X-App-Limit-24hour-Remaining         (X API v2)    scope app, limit word, period 24hour, field remaining
//	X-HubSpot-RateLimit-Daily-Remaining  (HubSpot)     vendor, limit word, period day, field remaining
//	X-HubSpot-RateLimit-Interval-Milliseconds          field window, unit milliseconds
//	X-Ms-Ratelimit-Remaining-Subscription-Reads        field remaining, then the scope subscription-reads
//	X-DayLimit-Remaining                 (Xero)        period glued to the limit word
//	Zendesk-RateLimit-Tickets-Index: total=100; remaining=99; resets=41   the value names its own fields
//	Sforce-Limit-Info: api-usage=18/5000                                 (Salesforce) used/limit per name
//
// A name needs a limit word (ratelimit, rate-limit, limit, or a word ending in limit) and either a field
// word (limit, max, total, quota; remaining; reset; used; interval, period, window, duration; info) or a
// period (HubSpot's X-HubSpot-RateLimit-Daily is the daily limit). Before the limit word only scope words
// count (app, user, tenant, ...): the rest is a vendor's name. The words left after the field word and the
// period name a dimension when they end in one (requests, tokens, bytes), else the policy.
//
// The values are read by what they carry (groups.go): counts; durations with units; numbers in the unit
// the name states (-ms, -milliseconds, -seconds); dates; epochs. A bare number of unknown unit in a reset
// or window field is left out, not guessed (pin ResetFormat to read it).

// nameUnit is the unit a field's name gives its values.
type nameUnit uint8

const (
	unitNone nameUnit = iota
	unitSeconds
	unitMillis
)

// maxNameWords bounds the words of a name worth reading.
const maxNameWords = 10

// structural records a field recognised by the structure of its name, if it is one.
func (f *fields) structural(g *groups, name string, lines []string) {
	var words [maxNameWords]string
	n := 0
	for rest := name; rest != ""; {
		w, tail, _ := strings.Cut(rest, "-")
		if n == maxNameWords {
			return
		}
		if w != "" {
			words[n] = w
			n++
		}
		rest = tail
	}
	limitAt, glued, rate := limitWord(words[:n])
	if limitAt < 0 {
		return
	}
	var s nameShape
	s.field = -1
	if glued != "" { // "DayLimit", "AppMinLimit": the words before "limit"
		s.gluedWord(glued)
	}
	for _, w := range words[:limitAt] {
		if scopeWord(w) {
			s.addPolicy(w)
		}
	}
	after := words[limitAt+1 : n]
	for i, w := range after {
		if field, ok := fieldWord(w); ok {
			// "reset-after" is a reset; "retry-after" after a limit word is one too (MailerLite).
			s.field = field
			continue
		}
		if u := unitWord(w); u != unitNone && i > 0 && s.field >= 0 {
			if s.field == fieldReset {
				s.resetUnit = u
			} else {
				s.windowUnit = u
			}
			continue
		}
		if foldEqual(w, "after") || foldEqual(w, "retry") {
			s.field = fieldReset
			s.resetUnit = unitSeconds
			continue
		}
		if p, window, ok := period(w); ok {
			s.period, s.window = p, window
			continue
		}
		if foldEqual(w, "fillrate") { // Confluence: a token bucket's refill per interval
			s.field = fieldFillRate
			continue
		}
		if s.field < 0 {
			// A word between the limit word and the field word that is no period or dimension
			// (LaunchDarkly's X-Ratelimit-Route-Remaining): what else belongs to that quota cannot be
			// told from the unnamed one's fields, so the name is left alone.
			s.before = true
		}
		s.addRest(w)
	}
	if s.before && s.field >= 0 && (s.nRest == 0 || !dimensionWord(s.restWords[s.nRest-1])) {
		return
	}
	if s.field < 0 {
		switch {
		case s.period != "":
			s.field = fieldLimit
		case hasPairs(lines):
			s.field = fieldPairs
		default:
			return
		}
	}
	policy, dimension, ok := s.names()
	if !ok {
		return
	}
	if !rate && s.nPolicy == 0 && s.period == "" && dimension == "requests" && s.field != fieldPairs {
		// "limit" without "rate" is a broad word (X-Upload-Limit-Remaining: a size): it takes a scope, a
		// period or a dimension to say that requests are counted.
		return
	}
	d := g.find(familyStructural, policy, dimension)
	if d == nil {
		return
	}
	d.window = s.window
	switch s.field {
	case fieldReset:
		// By unit: two names of one quota may state different units (Reset and Reset-Ms).
		f.set(&d.unitReset[s.resetUnit], lines)
		d.resetFieldName = name
	case fieldWindow:
		f.set(&d.unitWindow[s.windowUnit], lines)
	default:
		f.setDim(d, name, s.field, lines)
	}
}

// limitWord finds the limit word: its index, the text glued before "limit" in a word such as DayLimit, and
// whether it says "rate" (ratelimit, rate-limit).
func limitWord(words []string) (int, string, bool) {
	for i, w := range words {
		switch {
		case foldEqual(w, "ratelimit"), foldEqual(w, "ratelimits"):
			return i, "", true
		case foldEqual(w, "rate") && i+1 < len(words) && foldEqual(words[i+1], "limit"):
			return i + 1, "", true
		case foldEqual(w, "limit"), foldEqual(w, "limits"):
			return i, "", false
		case len(w) > len("limit") && foldHasSuffix(w, "limit") && !foldHasSuffix(w, "nearlimit"):
			return i, w[:len(w)-len("limit")], false
		}
	}
	return -1, "", false
}

// nameShape collects what the words of a name say.
type nameShape struct {
	field                 int // fieldLimit ... fieldPairs; -1 when none
	resetUnit, windowUnit nameUnit
	period                string
	window                time.Duration
	policyWords           [4]string // scope words, in order
	nPolicy               int
	restWords             [4]string // words after the limit word that are neither field, unit nor period
	nRest                 int
	overflow              bool
	before                bool // a rest word came before the field word
}

func (s *nameShape) addPolicy(w string) {
	if s.nPolicy == len(s.policyWords) {
		s.overflow = true
		return
	}
	s.policyWords[s.nPolicy] = w
	s.nPolicy++
}

func (s *nameShape) addRest(w string) {
	if s.nRest == len(s.restWords) {
		s.overflow = true
		return
	}
	s.restWords[s.nRest] = w
	s.nRest++
}

// gluedWord reads the text before "limit" in one word: a period ("Day"), or a scope and a period
// ("AppMin"), or a scope.
func (s *nameShape) gluedWord(w string) {
	if p, window, ok := period(w); ok {
		s.period, s.window = p, window
		return
	}
	for _, p := range periods {
		if len(w) > len(p.word) && foldHasSuffix(w, p.word) && scopeWord(w[:len(w)-len(p.word)]) {
			s.addPolicy(w[:len(w)-len(p.word)])
			s.period, s.window = p.name, p.window
			return
		}
	}
	if scopeWord(w) {
		s.addPolicy(w)
	}
}

// names returns the policy and dimension the words name, lowercased ("requests" when no dimension).
func (s *nameShape) names() (policy, dimension string, ok bool) {
	if s.overflow {
		return "", "", false
	}
	dimension = "requests"
	rest := s.restWords[:s.nRest]
	if s.nRest > 0 && dimensionWord(rest[s.nRest-1]) {
		dimension = joinLower(rest, nil, "")
		rest = nil
	}
	return joinLower(s.policyWords[:s.nPolicy], rest, s.period), dimension, true
}

// joinLower joins the words of a, then b, then last (if not empty) with hyphens, in lowercase. Names seen
// in the wild (knownNames) are returned without allocating.
func joinLower(a, b []string, last string) string {
	var buf [64]byte
	out := buf[:0]
	add := func(w string) {
		if w == "" {
			return
		}
		if len(out) > 0 {
			out = append(out, '-')
		}
		for i := 0; i < len(w); i++ {
			c := w[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out = append(out, c)
		}
	}
	for _, w := range a {
		add(w)
	}
	for _, w := range b {
		add(w)
	}
	add(last)
	if len(out) == 0 {
		return ""
	}
	if last != "" && len(out) == len(last) {
		return last // a period alone: a constant
	}
	for _, k := range knownNames {
		if string(out) == k {
			return k
		}
	}
	return string(out)
}

// fieldWord recognises the word that says which field of a quota a header carries.
func fieldWord(w string) (int, bool) {
	for _, fw := range fieldWords {
		if foldEqual(w, fw.word) {
			return fw.field, true
		}
	}
	return 0, false
}

var fieldWords = [...]struct {
	word  string
	field int
}{
	{"limit", fieldLimit}, {"max", fieldLimit}, {"total", fieldLimit}, {"quota", fieldLimit},
	{"remaining", fieldRemaining}, {"left", fieldRemaining},
	{"reset", fieldReset}, {"resets", fieldReset},
	{"used", fieldUsed},
	{"interval", fieldWindow}, {"period", fieldWindow}, {"window", fieldWindow}, {"duration", fieldWindow},
	{"info", fieldPairs},
}

// unitWord recognises a unit after a field word: reset-ms, interval-milliseconds, interval-seconds.
func unitWord(w string) nameUnit {
	switch {
	case foldEqual(w, "ms"), foldEqual(w, "millis"), foldEqual(w, "milliseconds"):
		return unitMillis
	case foldEqual(w, "s"), foldEqual(w, "secs"), foldEqual(w, "seconds"), foldEqual(w, "second"), foldEqual(w, "sec"):
		return unitSeconds
	}
	return unitNone
}

// scopeWord recognises the words before a limit word that tell quotas apart (X's app and user limits).
func scopeWord(w string) bool {
	for _, s := range [...]string{"app", "user", "client", "account", "org", "tenant", "subscription", "global",
		"ip", "key", "project", "team", "concurrent"} {
		if foldEqual(w, s) {
			return true
		}
	}
	return false
}

// dimensionWord reports whether w names a unit a quota counts: requests, tokens (input-tokens,
// tokens_usage_based), bytes.
func dimensionWord(w string) bool {
	return foldHasSuffix(w, "requests") || foldHasSuffix(w, "tokens") || foldHasSuffix(w, "bytes") ||
		foldHasPrefix(w, "tokens")
}

// hasPairs reports whether the value names its own fields ("total=100; remaining=99").
func hasPairs(lines []string) bool {
	return len(lines) > 0 && strings.IndexByte(lines[0], '=') > 0
}
