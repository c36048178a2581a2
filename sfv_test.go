package ratekit

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dunglas/httpsfv"
)

// renderSF renders a parsed field for comparison: members with their parameters, values typed. Duplicate
// keys are shown as RFC 9651 defines them: one entry in the first key's position, with the last value.
func renderSF(f *sfField) string {
	var b strings.Builder
	var all []sfMember
	for i := range f.len() {
		all = append(all, *f.member(i))
	}
	members := all
	if f.dictionary {
		members = nil
		for _, m := range all {
			if i := slices.IndexFunc(members, func(o sfMember) bool { return o.key == m.key }); i >= 0 {
				members[i] = m
				continue
			}
			members = append(members, m)
		}
	}
	for i := range members {
		m := &members[i]
		if i > 0 {
			b.WriteString(", ")
		}
		if m.key != "" {
			b.WriteString(m.key + "=")
		}
		b.WriteString(sfValueString(m.val))
		var keys []string
		for i := m.first; i < m.first+m.count; i++ {
			p := f.paramAt(i)
			if !slices.Contains(keys, p.key) {
				keys = append(keys, p.key)
			}
		}
		for _, k := range keys {
			v, _ := f.param(m, k)
			b.WriteString(";" + k + "=" + sfValueString(v))
		}
	}
	return b.String()
}

func sfValueString(v sfValue) string {
	switch v.kind {
	case sfInteger:
		return fmt.Sprintf("int(%d)", v.milli/1000)
	case sfDecimal:
		return fmt.Sprintf("dec(%d.%03d)", v.milli/1000, abs(v.milli%1000))
	case sfString:
		return fmt.Sprintf("str(%q)", v.str)
	case sfToken:
		return "tok(" + v.str + ")"
	case sfBinary:
		return "bin(" + v.str + ")"
	case sfBoolean:
		return fmt.Sprintf("bool(%d)", v.milli)
	case sfDate:
		return fmt.Sprintf("date(%d)", v.milli/1000)
	case sfDisplayString:
		return "dstr(" + v.str + ")"
	case sfInnerList:
		return "inner"
	}
	return "?"
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func TestSFList(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`"minute";q=60;w=60, "day";q=1000;w=86400`, `str("minute");q=int(60);w=int(60), str("day");q=int(1000);w=int(86400)`},
		{`burst;q=100;w=60,daily;q=1000;w=86400`, `tok(burst);q=int(100);w=int(60), tok(daily);q=int(1000);w=int(86400)`},
		{`  a ,	b  `, `tok(a), tok(b)`},
		{`1.5;x, -2, ?1, ?0`, `dec(1.500);x=bool(1), int(-2), bool(1), bool(0)`},
		{`"a\"b\\c"`, `str("a\"b\\c")`},
		{`:aGVsbG8=:;pk`, `bin(aGVsbG8=);pk=bool(1)`},
		{`:aGVsbG8:`, `bin(aGVsbG8)`}, // RFC 9651: parsers SHOULD NOT fail on missing padding
		{`@1659578233`, `date(1659578233)`},
		{`%"caf%c3%a9"`, `dstr(caf%c3%a9)`},
		{`(a b;x=1);y=2, c`, `inner;y=int(2), tok(c)`},
		{`()`, `inner`},
		{`foo/bar:baz`, `tok(foo/bar:baz)`},
		{`*star`, `tok(*star)`},
		{`999999999999999`, `int(999999999999999)`},
		{`999999999999.999`, `dec(999999999999.999)`},
		{``, ``},
		{`   `, ``},
	} {
		var f sfField
		if assert.True(t, f.parseList([]string{c.in}), "parseList(%q)", c.in) {
			assert.Equal(t, c.want, renderSF(&f), "parseList(%q)", c.in)
		}
	}
}

func TestSFListMalformed(t *testing.T) {
	for _, in := range []string{
		`a,`, `,a`, `a,,b`, `a b`, `"unterminated`, `"bad\escape"`, "\"ctl\x01\"", `1234567890123456`,
		`1234567890123.5`, `1.2345`, `1.`, `-`, `-a`, `?2`, `?`, `:not base64!:`, `:abc`, `:a===:`, `:abcde:`,
		`A;Key=1`, `a;=1`, `a;k=`, `(a`, `(a,b)`, `@1.5`, `@x`, `%"caf%C3%A9"`, `%"%ff"`, `%x`, `"é"`, `a;k=(b)`,
		`=`, `a=1`, `tab	inside`,
	} {
		var f sfField
		assert.False(t, f.parseList([]string{in}), "parseList(%q) = %s, want failure", in, renderSF(&f))
		assert.Zero(t, f.len(), "parseList(%q) left members after failing", in)
	}
}

func TestSFDictionary(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`limit=100, remaining=50, reset=5`, `limit=int(100), remaining=int(50), reset=int(5)`},
		{`a, b;x=1, c=?0`, `a=bool(1), b=bool(1);x=int(1), c=bool(0)`},
		{`a=(1 2);p, b="x"`, `a=inner;p=bool(1), b=str("x")`},
	} {
		var f sfField
		if assert.True(t, f.parseDictionary([]string{c.in}), "parseDictionary(%q)", c.in) {
			assert.Equal(t, c.want, renderSF(&f), "parseDictionary(%q)", c.in)
		}
	}
	var f sfField
	require.True(t, f.parseDictionary([]string{`a=1, b=2, a=3`}), "duplicate keys must parse")
	m, ok := f.lookup("a")
	require.True(t, ok)
	assert.Equal(t, int64(3000), m.val.milli, "lookup(a) after a duplicate: want the last value 3")
	for _, in := range []string{`"str"=1`, `A=1`, `a=`, `a=1,`, `1=a`} {
		assert.False(t, f.parseDictionary([]string{in}), "parseDictionary(%q)", in)
	}
}

func TestSFMultipleLines(t *testing.T) {
	var f sfField
	require.True(t, f.parseList([]string{`a`, `b;x=1`}), "two lines")
	assert.Equal(t, `tok(a), tok(b);x=int(1)`, renderSF(&f), "two lines")
	// RFC 9651 combines lines with commas before parsing: an empty line leaves an empty member.
	assert.False(t, f.parseList([]string{`a`, ``}), "an empty second line must make the list malformed")
}

func TestSFManyMembersSpill(t *testing.T) {
	var parts []string
	for i := range 40 {
		parts = append(parts, fmt.Sprintf(`"p%d";q=%d;w=1;x;y;z`, i, i))
	}
	var f sfField
	require.True(t, f.parseList([]string{strings.Join(parts, ", ")}), "40 members")
	require.Equal(t, 40, f.len(), "members")
	require.Equal(t, 200, f.nParams, "params")
	v, ok := f.param(f.member(39), "q")
	require.True(t, ok, "member 39 has q")
	assert.Equal(t, int64(39000), v.milli, "member 39 q")
}

// httpsfvString renders an httpsfv value in the notation of renderSF.
func httpsfvString(v any) string {
	switch v := v.(type) {
	case int64:
		return fmt.Sprintf("int(%d)", v)
	case float64:
		milli := int64(v*1000 + 0.5)
		if v < 0 {
			milli = int64(v*1000 - 0.5)
		}
		return fmt.Sprintf("dec(%d.%03d)", milli/1000, abs(milli%1000))
	case string:
		return fmt.Sprintf("str(%q)", v)
	case httpsfv.Token:
		return "tok(" + string(v) + ")"
	case []byte:
		return "bin(" + base64.StdEncoding.EncodeToString(v) + ")"
	case bool:
		if v {
			return "bool(1)"
		}
		return "bool(0)"
	}
	return fmt.Sprintf("%T", v)
}

func httpsfvParams(p *httpsfv.Params) string {
	var b strings.Builder
	for _, name := range p.Names() {
		v, _ := p.Get(name)
		b.WriteString(";" + name + "=" + httpsfvString(v))
	}
	return b.String()
}

// sfComparable reports whether the input avoids the corners where this parser and httpsfv legitimately
// differ: Byte Sequences (RFC 9651 asks parsers to accept missing padding, which httpsfv rejects, and the
// rendering differs), and Dates and Display Strings (httpsfv renders them differently).
func sfComparable(s string) bool {
	return !strings.ContainsAny(s, ":@%")
}

// FuzzSFListAgainstHTTPSFV checks the parser against github.com/dunglas/httpsfv, which passes the
// httpwg structured-field test suite: both accept the same Lists and read the same values.
func FuzzSFListAgainstHTTPSFV(f *testing.F) {
	for _, s := range []string{
		`"minute";q=60;w=60, "day";q=1000;w=86400`, `"minute";r=12;t=33`, `burst;q=100;w=60,daily;q=1000;w=86400`,
		`10, 10;w=1, 50;w=60`, `100;window=60`, `1.5, -2.25;a=?1`, `"a\"b"`, `(a b);c`, `a,`, `a b`, `  a  `, "a,\tb",
		`999999999999999`, `1234567890123456`, `0.123`, `1.2345`, `*a:b/c`, `?1;x="y"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ours sfField
		okOurs := ours.parseList([]string{s})
		theirs, err := httpsfv.UnmarshalList([]string{s})
		if !sfComparable(s) || ours.overflow {
			return
		}
		require.Equal(t, err == nil, okOurs, "parseList(%q): httpsfv err=%v", s, err)
		if !okOurs {
			return
		}
		var b strings.Builder
		for i, m := range theirs {
			if i > 0 {
				b.WriteString(", ")
			}
			switch m := m.(type) {
			case httpsfv.Item:
				b.WriteString(httpsfvString(m.Value) + httpsfvParams(m.Params))
			case httpsfv.InnerList:
				b.WriteString("inner" + httpsfvParams(m.Params))
			}
		}
		require.Equal(t, b.String(), renderSF(&ours), "parseList(%q): ours, then httpsfv", s)
	})
}

// FuzzSFDictionaryAgainstHTTPSFV is the Dictionary twin of FuzzSFListAgainstHTTPSFV.
func FuzzSFDictionaryAgainstHTTPSFV(f *testing.F) {
	for _, s := range []string{`limit=100, remaining=50, reset=5`, `a, b;x=1, c=?0`, `a=(1 2);p`, `a=1,`, `A=1`, `a=1, a=2`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ours sfField
		okOurs := ours.parseDictionary([]string{s})
		theirs, err := httpsfv.UnmarshalDictionary([]string{s})
		if !sfComparable(s) || ours.overflow {
			return
		}
		require.Equal(t, err == nil, okOurs, "parseDictionary(%q): httpsfv err=%v", s, err)
		if !okOurs {
			return
		}
		var b strings.Builder
		for i, name := range theirs.Names() {
			if i > 0 {
				b.WriteString(", ")
			}
			m, _ := theirs.Get(name)
			switch m := m.(type) {
			case httpsfv.Item:
				b.WriteString(name + "=" + httpsfvString(m.Value) + httpsfvParams(m.Params))
			case httpsfv.InnerList:
				b.WriteString(name + "=inner" + httpsfvParams(m.Params))
			}
		}
		require.Equal(t, b.String(), renderSF(&ours), "parseDictionary(%q): ours, then httpsfv", s)
	})
}
