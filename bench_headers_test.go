package ratekit

import (
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
)

// Responses as the client sees them: canonical names, ten ordinary fields around the rate-limit ones.
var (
	benchPlain = hdr("Content-Type: application/json; charset=utf-8", "Content-Length: 1234", date(0),
		"Server: nginx", "Vary: Accept-Encoding", "Cache-Control: private, max-age=60", "Etag: \"abc\"",
		"X-Request-Id: 6f1c2a", "Access-Control-Allow-Origin: *", "Strict-Transport-Security: max-age=31536000")
	benchXRateLimit = withPlain(hdr("X-RateLimit-Limit: 5000", "X-RateLimit-Remaining: 4999", "X-RateLimit-Reset: 60"))
	benchGitHub     = withPlain(hdr("X-RateLimit-Limit: 5000", "X-RateLimit-Remaining: 4999", "X-RateLimit-Used: 1",
		"X-RateLimit-Reset: 1795460400", "X-RateLimit-Resource: core", "X-Github-Request-Id: 1:2:3"))
	benchOpenAI = withPlain(hdr("X-Ratelimit-Limit-Requests: 500", "X-Ratelimit-Limit-Tokens: 30000",
		"X-Ratelimit-Remaining-Requests: 499", "X-Ratelimit-Remaining-Tokens: 29000",
		"X-Ratelimit-Reset-Requests: 120ms", "X-Ratelimit-Reset-Tokens: 2m59.56s", "Openai-Processing-Ms: 200"))
	benchIETF = withPlain(hdr(`RateLimit-Policy: "minute";q=60;w=60, "day";q=1000;w=86400`,
		`RateLimit: "minute";r=12;t=33, "day";r=900;t=3600`))
	benchXDaily = withPlain(hdr("X-Rate-Limit-Limit: 900", "X-Rate-Limit-Remaining: 899", "X-Rate-Limit-Reset: 1795457700",
		"X-User-Limit-24hour-Limit: 100", "X-User-Limit-24hour-Remaining: 99", "X-User-Limit-24hour-Reset: 1795464000"))
)

func withPlain(h http.Header) http.Header {
	for k, v := range benchPlain {
		h[k] = v
	}
	return h
}

// benchDialects are the headers the benchmarks parse, with the quotas each holds.
var benchDialects = []struct {
	name   string
	h      http.Header
	quotas int
}{
	{"none", benchPlain, 0},
	{"x-ratelimit", benchXRateLimit, 1},
	{"github", benchGitHub, 1},
	{"openai", benchOpenAI, 2},
	{"ietf-draft-11", benchIETF, 2},
	{"x-api-24hour", benchXDaily, 2},
}

// BenchmarkParseHeaders parses each dialect three ways: ParseHeaders (the public call, which returns
// quotas the caller keeps: one allocation), pooled (the Transport's path, parsePooled: quotas in a pooled
// buffer, given back) and, as the floor no parser can go below, one range over the header map doing nothing
// (range-floor). Every header carries ten ordinary fields, as real responses do, so the floor is not small:
// ~140 ns on the 2-core VM of issue 12, above the goal of < 60 ns for none; compare none/ParseHeaders with
// none/range-floor (TestBenchmarkGoals prints their ratio). No parser that reads unknown vendors' fields
// can skip the range: it must look at every name.
func BenchmarkParseHeaders(b *testing.B) {
	for _, d := range benchDialects {
		b.Run(d.name+"/ParseHeaders", func(b *testing.B) {
			b.ReportAllocs()
			var obs Observation
			for b.Loop() {
				obs = ParseHeaders(d.h, t0)
			}
			if len(obs.Quotas) != d.quotas {
				b.Fatalf("got %d quotas, want %d", len(obs.Quotas), d.quotas)
			}
		})
		b.Run(d.name+"/pooled", func(b *testing.B) { benchPooled(b, d.h, d.quotas) })
		b.Run(d.name+"/range-floor", func(b *testing.B) { benchRange(b, d.h) })
	}
}

func benchPooled(b *testing.B, h http.Header, want int) {
	b.ReportAllocs()
	var p Parser
	n := 0
	for b.Loop() {
		_, qs, buf := p.parsePooled(h, t0)
		n = len(qs)
		if buf != nil {
			putQuotaBuf(buf, qs)
		}
	}
	if n != want {
		b.Fatalf("got %d quotas, want %d", n, want)
	}
}

var benchSink int

func benchRange(b *testing.B, h http.Header) {
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for name := range h {
			n += len(name)
		}
		benchSink = n
	}
}

// handQuota and handParse are what a user writes who reads X-RateLimit-* by hand with strconv: three
// lookups, three conversions, the reset taken as a delay in seconds. handParse spells the names as the
// docs do (h.Get("X-RateLimit-Limit")), so each lookup canonicalises its name first, which allocates:
// that flatters any parser compared with it. handParseCanonical is the fair baseline: the same parser
// reading the canonical keys straight from the map, as a user who knows net/http would write it.
type handQuota struct {
	limit, remaining int64
	reset            time.Time
}

func handParse(h http.Header, now time.Time) (handQuota, bool) {
	limit, err1 := strconv.ParseInt(h.Get("X-RateLimit-Limit"), 10, 64)
	remaining, err2 := strconv.ParseInt(h.Get("X-RateLimit-Remaining"), 10, 64)
	reset, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return handQuota{}, false
	}
	return handQuota{limit: limit, remaining: remaining, reset: now.Add(time.Duration(reset) * time.Second)}, true
}

func handParseCanonical(h http.Header, now time.Time) (handQuota, bool) {
	limit, err1 := strconv.ParseInt(canonicalGet(h, "X-Ratelimit-Limit"), 10, 64)
	remaining, err2 := strconv.ParseInt(canonicalGet(h, "X-Ratelimit-Remaining"), 10, 64)
	reset, err3 := strconv.ParseInt(canonicalGet(h, "X-Ratelimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return handQuota{}, false
	}
	return handQuota{limit: limit, remaining: remaining, reset: now.Add(time.Duration(reset) * time.Second)}, true
}

// canonicalGet is h.Get for a key already canonical: one map lookup, no canonicalisation.
func canonicalGet(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// handParsers are the two hand-written baselines.
var handParsers = []struct {
	name  string
	parse func(http.Header, time.Time) (handQuota, bool)
}{
	{"Get", handParse},
	{"canonical", handParseCanonical},
}

// BenchmarkHandWrittenXRateLimit runs both hand-written parsers on the X-RateLimit header of
// BenchmarkParseHeaders.
func BenchmarkHandWrittenXRateLimit(b *testing.B) {
	for _, p := range handParsers {
		b.Run(p.name, func(b *testing.B) { benchHand(b, p.parse) })
	}
}

func benchHand(b *testing.B, parse func(http.Header, time.Time) (handQuota, bool)) {
	b.ReportAllocs()
	var q handQuota
	for b.Loop() {
		q, _ = parse(benchXRateLimit, t0)
	}
	if q.remaining != 4999 {
		b.Fatal(q)
	}
}

// httpsfvIETF is what a user writes with github.com/dunglas/httpsfv: both lists parsed, state joined to
// policy by name, q, w, r and t read.
func httpsfvIETF(h http.Header, now time.Time) []Quota {
	policies, err1 := httpsfv.UnmarshalList(h.Values("RateLimit-Policy"))
	state, err2 := httpsfv.UnmarshalList(h.Values("RateLimit"))
	if err1 != nil || err2 != nil {
		return nil
	}
	var qs []Quota
	for _, m := range state {
		item, ok := m.(httpsfv.Item)
		if !ok {
			continue
		}
		name, _ := item.Value.(string)
		q := Quota{Policy: name, Dimension: "requests", Limit: -1, Remaining: -1}
		if r, ok := item.Params.Get("r"); ok {
			q.Remaining, _ = r.(int64)
		}
		if t, ok := item.Params.Get("t"); ok {
			if secs, ok := t.(int64); ok {
				q.Reset = now.Add(time.Duration(secs) * time.Second)
			}
		}
		for _, pm := range policies {
			if p, ok := pm.(httpsfv.Item); ok && p.Value == name {
				if v, ok := p.Params.Get("q"); ok {
					q.Limit, _ = v.(int64)
				}
				if v, ok := p.Params.Get("w"); ok {
					if w, ok := v.(int64); ok {
						q.Window = time.Duration(w) * time.Second
					}
				}
			}
		}
		qs = append(qs, q)
	}
	return qs
}

func BenchmarkHTTPSFVIETF(b *testing.B) {
	b.ReportAllocs()
	var qs []Quota
	for b.Loop() {
		qs = httpsfvIETF(benchIETF, t0)
	}
	if len(qs) != 2 || qs[0].Limit != 60 {
		b.Fatal(qs)
	}
}

// BenchmarkSFList sets sfv.go beside httpsfv, the library it replaces, on the two IETF fields.
func BenchmarkSFList(b *testing.B) {
	lines := []string{`"minute";q=60;w=60, "day";q=1000;w=86400`}
	b.Run("sfv.go", func(b *testing.B) {
		b.ReportAllocs()
		var f sfField
		for b.Loop() {
			if !f.parseList(lines) {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("httpsfv", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := httpsfv.UnmarshalList(lines); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHTTPDate sets the IMF-fixdate fast path beside what it replaces: http.ParseTime (which it
// short-cuts, and which reads the obsolete forms after it) and time.Parse with http.TimeFormat, what a user
// would write. The fast path pays for its lines while it stays well below both.
func BenchmarkHTTPDate(b *testing.B) {
	const v = "Mon, 23 Nov 2026 18:00:00 GMT"
	b.Run("fast-path", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := parseHTTPDate(v); !ok {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("http.ParseTime", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := http.ParseTime(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("time.Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := time.Parse(http.TimeFormat, v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestBenchmarkGoals runs the comparisons of issue 12 in one process and prints each against its goal:
// `RATEKIT_GOALS=1 go test -run BenchmarkGoals -v`. It asserts nothing (speed is no test's business): a
// goal missed shows as value/goal above 1. (A benchmark cannot run testing.Benchmark; a test can.)
//
// Two rows say what a goal is measured against. X-RateLimit is compared with both hand-written parsers:
// the one that calls h.Get with the documented spelling, which canonicalises and allocates three times a
// call, and the fair one that reads the canonical keys. The goal of < 60 ns without rate-limit headers
// is below what any parser can reach with the benchmark's ten ordinary fields: one bare range over the
// map (range-floor, which reads each name's length and nothing else) costs ~140 ns on the 2-core VM of
// issue 12, so the table prints ParseHeaders/none beside that floor and their ratio, the part the
// scanner adds (its gate on each name, which recognises unknown vendors' rate-limit fields by their
// structure and so must look at every name). The fair hand-written parser makes three map lookups and
// never looks at the other fields, so the table also prints X-RateLimit's range-floor over it: the best
// ratio any parser that reads the whole header can reach.
func TestBenchmarkGoals(b *testing.T) {
	if os.Getenv("RATEKIT_GOALS") == "" {
		b.Skip("set RATEKIT_GOALS=1 to run the benchmarks and print the goals table")
	}
	ns := func(f func(*testing.B)) float64 {
		r := testing.Benchmark(f)
		return float64(r.T.Nanoseconds()) / float64(r.N)
	}
	public := func(h http.Header) func(*testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				ParseHeaders(h, t0)
			}
		}
	}
	none := ns(func(b *testing.B) { benchPooled(b, benchPlain, 0) })
	nonePublic := ns(public(benchPlain))
	floor := ns(func(b *testing.B) { benchRange(b, benchPlain) })
	ours := ns(func(b *testing.B) { benchPooled(b, benchXRateLimit, 1) })
	floorXRL := ns(func(b *testing.B) { benchRange(b, benchXRateLimit) })
	oursPublic := ns(public(benchXRateLimit))
	hand := ns(func(b *testing.B) { benchHand(b, handParse) })
	fair := ns(func(b *testing.B) { benchHand(b, handParseCanonical) })
	ietf := ns(func(b *testing.B) { benchPooled(b, benchIETF, 2) })
	sfv := ns(BenchmarkHTTPSFVIETF)
	rows := []struct {
		what        string
		value, goal float64
		unit        string
	}{
		{"no rate-limit headers, ParseHeaders (ns, goal < 60)", nonePublic, 60, "ns"},
		{"no rate-limit headers, pooled (ns, goal < 60)", none, 60, "ns"},
		{"  range over the same header, the floor (ns)", floor, 60, "ns"},
		{"  ParseHeaders/none / range-floor (what the scanner adds to the range)", nonePublic / floor, 0, "x"},
		{"  hand-written strconv, h.Get (ns)", hand, 0, "ns"},
		{"  hand-written strconv, canonical keys (ns)", fair, 0, "ns"},
		{"X-RateLimit pooled / hand-written h.Get (goal < 1.3)", ours / hand, 1.3, "x"},
		{"X-RateLimit pooled / hand-written canonical (goal < 1.3)", ours / fair, 1.3, "x"},
		{"X-RateLimit ParseHeaders / hand-written h.Get (goal < 1.3)", oursPublic / hand, 1.3, "x"},
		{"X-RateLimit ParseHeaders / hand-written canonical (goal < 1.3)", oursPublic / fair, 1.3, "x"},
		{"  X-RateLimit range-floor / hand-written canonical (any scanner's best)", floorXRL / fair, 0, "x"},
		{"IETF draft-11 pooled / httpsfv (goal < 0.3)", ietf / sfv, 0.3, "x"},
	}
	for _, r := range rows {
		if r.goal == 0 {
			b.Logf("%-74s %8.2f%s", r.what, r.value, r.unit)
			continue
		}
		b.Logf("%-74s %8.2f%s  goal %6.2f%s  value/goal %.2f", r.what, r.value, r.unit, r.goal, r.unit, r.value/r.goal)
	}
}
