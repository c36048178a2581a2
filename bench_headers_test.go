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
// buffer, given back) and, as the floor no parser can go below, one range over the header map doing nothing.
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
// lookups, three conversions, the reset taken as a delay in seconds.
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

func BenchmarkHandWrittenXRateLimit(b *testing.B) {
	b.ReportAllocs()
	var q handQuota
	for b.Loop() {
		q, _ = handParse(benchXRateLimit, t0)
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
func TestBenchmarkGoals(b *testing.T) {
	if os.Getenv("RATEKIT_GOALS") == "" {
		b.Skip("set RATEKIT_GOALS=1 to run the benchmarks and print the goals table")
	}
	ns := func(f func(*testing.B)) float64 {
		r := testing.Benchmark(f)
		return float64(r.T.Nanoseconds()) / float64(r.N)
	}
	none := ns(func(b *testing.B) { benchPooled(b, benchPlain, 0) })
	floor := ns(func(b *testing.B) { benchRange(b, benchPlain) })
	ours := ns(func(b *testing.B) { benchPooled(b, benchXRateLimit, 1) })
	oursPublic := ns(func(b *testing.B) {
		for b.Loop() {
			ParseHeaders(benchXRateLimit, t0)
		}
	})
	hand := ns(BenchmarkHandWrittenXRateLimit)
	ietf := ns(func(b *testing.B) { benchPooled(b, benchIETF, 2) })
	sfv := ns(BenchmarkHTTPSFVIETF)
	rows := []struct {
		what        string
		value, goal float64
		unit        string
	}{
		{"no rate-limit headers (ns, goal < 60)", none, 60, "ns"},
		{"  range over the same header, the floor (ns)", floor, 60, "ns"},
		{"X-RateLimit pooled / hand-written strconv (goal < 1.3)", ours / hand, 1.3, "x"},
		{"X-RateLimit ParseHeaders / hand-written strconv (goal < 1.3)", oursPublic / hand, 1.3, "x"},
		{"IETF draft-11 pooled / httpsfv (goal < 0.3)", ietf / sfv, 0.3, "x"},
	}
	for _, r := range rows {
		b.Logf("%-62s %8.2f%s  goal %6.2f%s  value/goal %.2f", r.what, r.value, r.unit, r.goal, r.unit, r.value/r.goal)
	}
}
