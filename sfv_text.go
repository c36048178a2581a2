package ratekit

import (
	"strings"
	"unicode/utf8"
)

// The textual bare items of RFC 9651 (Strings, Tokens, Byte Sequences, Display Strings): each validated as
// the RFC requires, and copied or decoded only when an escape makes it necessary.

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
