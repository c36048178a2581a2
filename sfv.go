package ratekit

import (
	"strings"
	"unicode/utf8"
)

// This file is a strict parser for the parts of RFC 9651 (Structured Field Values for HTTP) that rate-limit
// fields use: Lists and Dictionaries of Items with Parameters. It exists because the IETF RateLimit fields are
// Structured Fields and a general-purpose library (github.com/dunglas/httpsfv, which the tests use as an oracle)
// costs about twelve times as much and 20 allocations for one RateLimit-Policy list (BenchmarkSFList: about
// 1.1 µs against 95 ns on a 2-core VM); this one allocates only to unescape a quoted string that contains a
// backslash.
//
// Strictness follows the RFC: a field that does not parse as a whole is ignored as a whole. Inner Lists are
// validated and skipped (no rate-limit field uses them). A field of more than maxSFMembers members or
// maxSFParams parameters is ignored as a whole too, and parsing stops there: no server sends that many, and
// the cap keeps the work per field bounded whatever its length (Go's client accepts 10 MB of header). Integers carry up to 15 digits and Decimals up to 12
// integer and 3 fractional digits, so every number fits an int64 scaled by 1000 exactly.

// sfKind is the type of a bare item.
type sfKind uint8

const (
	sfInteger sfKind = iota + 1
	sfDecimal
	sfString
	sfToken
	sfBinary
	sfBoolean
	sfDate
	sfDisplayString
	sfInnerList
)

// sfValue is a bare item. Numbers are held in milli-units (an Integer 5 is milli 5000), so Integers and
// Decimals compare and convert without floating point.
type sfValue struct {
	kind  sfKind
	milli int64  // sfInteger, sfDecimal, sfDate (seconds * 1000); 1 or 0 for sfBoolean
	str   string // sfString, sfToken, sfDisplayString (raw, undecoded), sfBinary (base64 text)
}

// integer reports the value as a whole number, for Integers only.
func (v sfValue) integer() (int64, bool) {
	if v.kind != sfInteger {
		return 0, false
	}
	return v.milli / 1000, true
}

// number reports an Integer or a Decimal in milli-units.
func (v sfValue) number() (int64, bool) {
	if v.kind != sfInteger && v.kind != sfDecimal {
		return 0, false
	}
	return v.milli, true
}

// name reports a String or a Token, the two forms policy names take across drafts.
func (v sfValue) name() (string, bool) {
	if v.kind != sfString && v.kind != sfToken {
		return "", false
	}
	return v.str, true
}

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

// sfParser is a cursor over one field line.
type sfParser struct {
	s   string
	pos int
}

func (p *sfParser) done() bool { return p.pos >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *sfParser) next() byte {
	c := p.peek()
	p.pos++
	return c
}

func (p *sfParser) skipSP() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

func (p *sfParser) skipOWS() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// key parses a key: ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ).
func (p *sfParser) key() (string, bool) {
	start := p.pos
	c := p.peek()
	if !(c >= 'a' && c <= 'z') && c != '*' {
		return "", false
	}
	s, pos := p.s, start+1
	for pos < len(s) {
		c := s[pos]
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*' {
			pos++
			continue
		}
		break
	}
	p.pos = pos
	return s[start:pos], true
}

// itemOrInnerList parses a bare item, or validates and skips an Inner List (with its items' parameters).
// The Inner List's own parameters are left for the caller, as for an item.
func (p *sfParser) itemOrInnerList(v *sfValue) bool {
	if p.peek() != '(' {
		return p.bareItem(v)
	}
	p.pos++
	for {
		p.skipSP()
		if p.peek() == ')' {
			p.pos++
			*v = sfValue{kind: sfInnerList}
			return true
		}
		var item sfValue
		if !p.bareItem(&item) {
			return false
		}
		for p.peek() == ';' {
			p.pos++
			p.skipSP()
			if _, ok := p.key(); !ok {
				return false
			}
			if p.peek() == '=' {
				p.pos++
				if !p.bareItem(&item) {
					return false
				}
			}
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return false
		}
	}
}

func (p *sfParser) bareItem(v *sfValue) bool {
	switch c := p.peek(); {
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(v)
	case c == '"':
		return p.str(v)
	case c == '*' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'):
		return p.token(v)
	case c == ':':
		return p.binary(v)
	case c == '?':
		p.pos++
		switch p.next() {
		case '0':
			*v = sfValue{kind: sfBoolean}
		case '1':
			*v = sfValue{kind: sfBoolean, milli: 1}
		default:
			return false
		}
		return true
	case c == '@':
		p.pos++
		if !p.number(v) || v.kind != sfInteger {
			return false
		}
		v.kind = sfDate
		return true
	case c == '%':
		return p.displayString(v)
	}
	return false
}

// number parses an Integer (at most 15 digits) or a Decimal (at most 12 integer and 3 fraction digits).
func (p *sfParser) number(v *sfValue) bool {
	// The scanning loops of this parser work on local copies of s and pos, written back once: through p,
	// every byte would cost a load and a store of pos. A failed parse discards the parser, so pos is
	// written back only on success.
	s, pos := p.s, p.pos
	neg := false
	if pos < len(s) && s[pos] == '-' {
		neg = true
		pos++
	}
	var whole int64
	start := pos
	for pos < len(s) {
		d := s[pos] - '0' // a byte below '0' wraps around: one comparison tells a digit
		if d > 9 {
			break
		}
		if pos-start == 15 {
			return false
		}
		whole = whole*10 + int64(d)
		pos++
	}
	digits := pos - start
	if digits == 0 {
		return false
	}
	kind := sfInteger
	milli := whole * 1000
	if pos < len(s) && s[pos] == '.' {
		if digits > 12 {
			return false
		}
		pos++
		frac, fracDigits := int64(0), 0
		for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' {
			if fracDigits == 3 {
				return false
			}
			frac = frac*10 + int64(s[pos]-'0')
			fracDigits++
			pos++
		}
		if fracDigits == 0 {
			return false
		}
		for i := fracDigits; i < 3; i++ {
			frac *= 10
		}
		kind = sfDecimal
		milli += frac
	}
	if neg {
		milli = -milli
	}
	p.pos = pos
	*v = sfValue{kind: kind, milli: milli}
	return true
}

// str parses a String, unescaping \" and \\ (the only allocation this parser makes, and only when a
// backslash is present).
func (p *sfParser) str(v *sfValue) bool {
	s, pos := p.s, p.pos+1 // past the opening quote
	start := pos
	escaped := false
	for pos < len(s) {
		c := s[pos]
		switch {
		case c == '\\':
			if pos+1 >= len(s) || (s[pos+1] != '"' && s[pos+1] != '\\') {
				return false
			}
			escaped = true
			pos += 2
		case c == '"':
			raw := s[start:pos]
			p.pos = pos + 1
			if escaped {
				raw = unescapeSFString(raw)
			}
			*v = sfValue{kind: sfString, str: raw}
			return true
		case c < 0x20 || c > 0x7e:
			return false
		default:
			pos++
		}
	}
	return false
}

func unescapeSFString(raw string) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' {
			i++
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// token parses a Token: ( ALPHA / "*" ) *( tchar / ":" / "/" ).
func (p *sfParser) token(v *sfValue) bool {
	start := p.pos
	p.pos++
	for p.pos < len(p.s) && (isTchar(p.s[p.pos]) || p.s[p.pos] == ':' || p.s[p.pos] == '/') {
		p.pos++
	}
	*v = sfValue{kind: sfToken, str: p.s[start:p.pos]}
	return true
}

// isTchar reports whether c is a tchar of RFC 9110: any VCHAR except delimiters.
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// binary parses a Byte Sequence, validating its base64 alphabet and padding without decoding it (no
// rate-limit field needs the bytes: the partition key only identifies a partition).
func (p *sfParser) binary(v *sfValue) bool {
	p.pos++
	start := p.pos
	pad := 0
	for p.pos < len(p.s) && p.s[p.pos] != ':' {
		c := p.s[p.pos]
		switch {
		case c == '=':
			pad++
		case pad > 0:
			return false // data after padding
		case (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/':
		default:
			return false
		}
		p.pos++
	}
	if p.done() {
		return false
	}
	body := p.s[start:p.pos]
	p.pos++ // the closing colon
	if pad > 2 || (len(body)%4 != 0 && pad > 0) || len(body)%4 == 1 {
		return false
	}
	*v = sfValue{kind: sfBinary, str: body}
	return true
}

// displayString parses a Display String (%"...") and validates it: lowercase percent-encoding of bytes that
// must form valid UTF-8. The text stays encoded.
func (p *sfParser) displayString(v *sfValue) bool {
	p.pos++
	if p.next() != '"' {
		return false
	}
	start := p.pos
	encoded := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '%':
			if p.pos+2 >= len(p.s) || !isLowerHex(p.s[p.pos+1]) || !isLowerHex(p.s[p.pos+2]) {
				return false
			}
			encoded = true
			p.pos += 3
		case c == '"':
			raw := p.s[start:p.pos]
			p.pos++
			if encoded && !utf8.ValidString(percentDecode(raw)) {
				return false
			}
			*v = sfValue{kind: sfDisplayString, str: raw}
			return true
		case c < 0x20 || c > 0x7e:
			return false
		default:
			p.pos++
		}
	}
	return false
}

// percentDecode decodes %xx escapes already validated by displayString.
func percentDecode(raw string) string {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' {
			b = append(b, unhex(raw[i+1])<<4|unhex(raw[i+2]))
			i += 2
			continue
		}
		b = append(b, raw[i])
	}
	return string(b)
}

func unhex(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

func isLowerHex(c byte) bool { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') }
