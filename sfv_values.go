package ratekit

// Bare values of RFC 9651 as sfv.go's fields hold them (sfValue), and the cursor that parses a member's
// item: keys, Inner Lists (validated and skipped), the bare item's type by its first byte, and numbers.
// Strings, Tokens, Byte Sequences and Display Strings are in sfv_text.go.

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
