package ratekit

import "strings"

// sfv.go (Lists, Dictionaries and their members' parameters), sfv_values.go (bare items, numbers) and
// sfv_text.go (Strings, Tokens, Byte Sequences, Display Strings) are a strict parser for the parts of
// RFC 9651 (Structured Field Values for HTTP) that rate-limit fields use: Lists and Dictionaries of Items
// with Parameters. It exists because the IETF RateLimit fields are Structured Fields and a general-purpose
// library (github.com/dunglas/httpsfv, which the tests use as an oracle) costs about twelve times as much
// and 20 allocations for one RateLimit-Policy list (BenchmarkSFList: about 1.1 µs against 95 ns on a
// 2-core VM); this one allocates only to unescape a quoted string that contains a backslash.
//
// Strictness follows the RFC: a field that does not parse as a whole is ignored as a whole. Inner Lists are
// validated and skipped (no rate-limit field uses them). A field of more than maxSFMembers members or
// maxSFParams parameters is ignored as a whole too, and parsing stops there: no server sends that many, and
// the cap keeps the work per field bounded whatever its length (Go's client accepts 10 MB of header).
// Integers carry up to 15 digits and Decimals up to 12 integer and 3 fractional digits, so every number
// fits an int64 scaled by 1000 exactly.

// sfParam is one parameter of an item.
type sfParam struct {
	key string
	val sfValue
}

// sfMember is one member of a List (key is empty) or of a Dictionary. Its parameters are the field's
// parameters first to first+count-1.
type sfMember struct {
	key   string
	val   sfValue
	first int
	count int
}

// sfField is a parsed List or Dictionary. The fixed arrays hold typical fields without a heap allocation
// (the IETF readers take fields from a pool, sfv_scratch.go, so the arrays are not zeroed per response);
// larger fields spill into the slices.
type sfField struct {
	memberBuf   [8]sfMember
	paramBuf    [24]sfParam
	nMembers    int
	nParams     int
	moreMembers []sfMember // members beyond len(memberBuf)
	moreParams  []sfParam  // parameters beyond len(paramBuf)
	dictionary  bool
	overflow    bool // the last parse stopped at maxSFMembers or maxSFParams
}

// The caps on one field (its lines joined). Real servers send a handful of policies with four or five
// parameters each.
const (
	maxSFMembers = 64
	maxSFParams  = 256
)

// len is the number of members.
func (f *sfField) len() int { return f.nMembers }

// member returns member i.
func (f *sfField) member(i int) *sfMember {
	if i < len(f.memberBuf) {
		return &f.memberBuf[i]
	}
	return &f.moreMembers[i-len(f.memberBuf)]
}

func (f *sfField) paramAt(i int) *sfParam {
	if i < len(f.paramBuf) {
		return &f.paramBuf[i]
	}
	return &f.moreParams[i-len(f.paramBuf)]
}

// nextMember returns the slot of the member after the last, for parseMember to fill in place and count
// once it parsed: building a member aside and copying it in cost more than parsing a typical value.
func (f *sfField) nextMember() *sfMember {
	if f.nMembers < len(f.memberBuf) {
		return &f.memberBuf[f.nMembers]
	}
	f.moreMembers = append(f.moreMembers[:f.nMembers-len(f.memberBuf)], sfMember{})
	return &f.moreMembers[len(f.moreMembers)-1]
}

// nextParam returns the slot of the parameter after the last, for parseMember to fill in place and count.
func (f *sfField) nextParam() *sfParam {
	if f.nParams < len(f.paramBuf) {
		return &f.paramBuf[f.nParams]
	}
	f.moreParams = append(f.moreParams[:f.nParams-len(f.paramBuf)], sfParam{})
	return &f.moreParams[len(f.moreParams)-1]
}

// param returns the value of the last parameter named key of member m (RFC 9651: later keys override
// earlier ones).
func (f *sfField) param(m *sfMember, key string) (sfValue, bool) {
	for i := m.first + m.count - 1; i >= m.first; i-- {
		if p := f.paramAt(i); p.key == key {
			return p.val, true
		}
	}
	return sfValue{}, false
}

// lookup returns the last member of a Dictionary named key.
func (f *sfField) lookup(key string) (*sfMember, bool) {
	for i := f.nMembers - 1; i >= 0; i-- {
		if m := f.member(i); m.key == key {
			return m, true
		}
	}
	return nil, false
}

// parseList parses the field lines of a List (joined with commas, as RFC 9110 allows) into f.
// It reports false, leaving f empty, when the field is malformed.
func (f *sfField) parseList(lines []string) bool {
	return f.parse(lines, false)
}

// parseDictionary parses the field lines of a Dictionary into f. Duplicate keys keep their last value, as
// RFC 9651 requires; lookup returns it.
func (f *sfField) parseDictionary(lines []string) bool {
	return f.parse(lines, true)
}

func (f *sfField) parse(lines []string, dictionary bool) bool {
	f.reset()
	f.dictionary = dictionary
	f.overflow = false
	var s string
	switch len(lines) {
	case 0:
		return true
	case 1:
		s = lines[0]
	default:
		// RFC 9651 §4.2: the field lines are combined into one comma-separated value before parsing.
		s = strings.Join(lines, ", ")
	}
	p := sfParser{s: s}
	p.skipSP()
	if p.done() {
		return true
	}
	for {
		if !f.parseMember(&p) {
			f.reset()
			return false
		}
		if f.nMembers > maxSFMembers || f.nParams > maxSFParams {
			f.reset()
			f.overflow = true
			return false
		}
		p.skipOWS()
		if p.done() {
			return true
		}
		if p.next() != ',' {
			f.reset()
			return false
		}
		p.skipOWS()
		if p.done() { // a trailing comma
			f.reset()
			return false
		}
	}
}

func (f *sfField) reset() {
	f.nMembers, f.nParams = 0, 0
	f.moreMembers, f.moreParams = f.moreMembers[:0], f.moreParams[:0]
}

// parseMember parses one member into the slot after the last (every field of it written: the slot may
// hold an earlier parse's member) and counts it.
func (f *sfField) parseMember(p *sfParser) bool {
	m := f.nextMember()
	m.key = ""
	if f.dictionary {
		key, ok := p.key()
		if !ok {
			return false
		}
		m.key = key
		if p.peek() == '=' {
			p.pos++
			if !p.itemOrInnerList(&m.val) {
				return false
			}
		} else {
			m.val = sfValue{kind: sfBoolean, milli: 1}
		}
	} else if !p.itemOrInnerList(&m.val) {
		return false
	}
	m.first = f.nParams
	for p.peek() == ';' {
		p.pos++
		p.skipSP()
		key, ok := p.key()
		if !ok {
			return false
		}
		var past sfValue // one past the cap: parsed (a malformed value is reported as such), not kept
		val := &past
		if f.nParams < maxSFParams {
			pm := f.nextParam() // filled in place, as the member is
			pm.key, val = key, &pm.val
		}
		*val = sfValue{kind: sfBoolean, milli: 1}
		if p.peek() == '=' {
			p.pos++
			if !p.bareItem(val) {
				return false
			}
		}
		if f.nParams++; f.nParams > maxSFParams {
			return true // the caller sees the overflow and stops
		}
	}
	m.count = f.nParams - m.first
	f.nMembers++
	return true
}
