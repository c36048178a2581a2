package ratekit

import (
	"net/http"
	"testing"
)

// Responses as the client sees them: canonical names, a dozen ordinary fields around the rate-limit ones.
var (
	benchPlain = hdr("Content-Type: application/json; charset=utf-8", "Content-Length: 1234", date(0),
		"Server: nginx", "Vary: Accept-Encoding", "Cache-Control: private, max-age=60", "Etag: \"abc\"",
		"X-Request-Id: 6f1c2a", "Access-Control-Allow-Origin: *", "Strict-Transport-Security: max-age=31536000")
	benchGitHub = withPlain(hdr("X-RateLimit-Limit: 5000", "X-RateLimit-Remaining: 4999", "X-RateLimit-Used: 1",
		"X-RateLimit-Reset: 1795460400", "X-RateLimit-Resource: core", "X-Github-Request-Id: 1:2:3"))
	benchOpenAI = withPlain(hdr("X-Ratelimit-Limit-Requests: 500", "X-Ratelimit-Limit-Tokens: 30000",
		"X-Ratelimit-Remaining-Requests: 499", "X-Ratelimit-Remaining-Tokens: 29000",
		"X-Ratelimit-Reset-Requests: 120ms", "X-Ratelimit-Reset-Tokens: 2m59.56s", "Openai-Processing-Ms: 200"))
	benchIETF = withPlain(hdr(`RateLimit-Policy: "minute";q=60;w=60, "day";q=1000;w=86400`,
		`RateLimit: "minute";r=12;t=33, "day";r=900;t=3600`))
)

func withPlain(h http.Header) http.Header {
	for k, v := range benchPlain {
		h[k] = v
	}
	return h
}

func benchmarkParse(b *testing.B, h http.Header, wantQuotas int) {
	b.ReportAllocs()
	var obs Observation
	for b.Loop() {
		obs = ParseHeaders(h, t0)
	}
	if len(obs.Quotas) != wantQuotas {
		b.Fatalf("got %d quotas, want %d", len(obs.Quotas), wantQuotas)
	}
}

func BenchmarkParseHeadersNoRateLimit(b *testing.B) { benchmarkParse(b, benchPlain, 0) }
func BenchmarkParseHeadersGitHub(b *testing.B)      { benchmarkParse(b, benchGitHub, 1) }
func BenchmarkParseHeadersOpenAI(b *testing.B)      { benchmarkParse(b, benchOpenAI, 2) }
func BenchmarkParseHeadersIETF(b *testing.B)        { benchmarkParse(b, benchIETF, 2) }
