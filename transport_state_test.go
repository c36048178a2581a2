package ratekit_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
)

func TestSnapshotShowsQuotasAdjustedForRequestsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			if n > 1 {
				<-release // hold the later requests in flight
			}
			status(w, http.StatusOK, "X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", strconv.Itoa(5000-n),
				"X-RateLimit-Reset", "946688400", "X-RateLimit-Resource", "core")
		})
		tr := &ratekit.Transport{Base: srv.transport(0)}
		get(t, context.Background(), tr, "https://api.github.test/user")
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { get(t, context.Background(), tr, "https://api.github.test/user") })
		}
		synctest.Wait()
		snaps := tr.Snapshot()
		require.Len(t, snaps, 1)
		s := snaps[0]
		want := ratekit.Quota{Policy: "core", Dimension: "requests", Limit: 5000, Remaining: 4996, Reset: time.Unix(946688400, 0)}
		assert.Equal(t, "https://api.github.test", s.Key)
		assert.Equal(t, 3, s.InFlight)
		if assert.Len(t, s.Quotas, 1) {
			assert.True(t, sameQuota(s.Quotas[0], want), "quota %+v, want %+v", s.Quotas[0], want)
		}
		close(release)
		wg.Wait()
		s = tr.Snapshot()[0]
		assert.Zero(t, s.InFlight)
		require.Len(t, s.Quotas, 1)
		assert.Equal(t, int64(4996), s.Quotas[0].Remaining)
		assert.Equal(t, int64(4), s.Sent)
		assert.Zero(t, s.Rejected)
	})
}

func sameQuota(a, b ratekit.Quota) bool {
	return a.Policy == b.Policy && a.Dimension == b.Dimension && a.Limit == b.Limit && a.Remaining == b.Remaining &&
		a.Window == b.Window && a.Reset.Equal(b.Reset)
}

func TestHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			switch n {
			case 1:
				status(w, 200, "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "5", "X-RateLimit-Reset", "60")
			case 2:
				status(w, 200, "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "2", "X-RateLimit-Reset", "59")
			case 3:
				status(w, 429, "Retry-After", "3", "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "59")
			default:
				status(w, 200, "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "56")
			}
		})
		var mu sync.Mutex
		var events []string
		record := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
		tr := &ratekit.Transport{
			Base:    srv.transport(0),
			OnWait:  func(e ratekit.WaitEvent) { record(fmt.Sprintf("wait %v %s", e.Wait, e.Reason)) },
			OnRetry: func(e ratekit.RetryEvent) { record(fmt.Sprintf("retry %d after %d", e.Attempt, e.Response.StatusCode)) },
			OnQuota: func(e ratekit.QuotaEvent) {
				record(fmt.Sprintf("quota %d/%d", e.Quotas[0].Remaining, e.Quotas[0].Limit))
			},
			OnQuotaLow: func(e ratekit.QuotaEvent) { record(fmt.Sprintf("low %s", e.Quotas[0].Dimension)) },
		}
		for range 3 {
			get(t, context.Background(), tr, testURL)
		}
		want := []string{
			"quota 5/10",
			"quota 2/10", "low requests",
			"quota 1/10", "retry 1 after 429", "wait 3s paused by the server",
			"quota 1/10",
		}
		assert.Equal(t, want, events)
	})
}

func TestCostFuncPacesTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			// A bucket of 1000 tokens refilled at 1000 a minute; each request uses 400. OpenAI's reset is
			// when the bucket is full again.
			tokens := max(1000-400*n, 0)
			full := time.Duration(1000-tokens) * time.Minute / 1000
			status(w, 200, "X-Ratelimit-Limit-Requests", "100", "X-Ratelimit-Remaining-Requests", strconv.Itoa(100-n),
				"X-Ratelimit-Reset-Requests", "1s", "X-Ratelimit-Limit-Tokens", "1000",
				"X-Ratelimit-Remaining-Tokens", strconv.Itoa(tokens), "X-Ratelimit-Reset-Tokens", full.String())
		})
		tr := &ratekit.Transport{
			Base: srv.transport(0),
			CostFunc: func(r *http.Request, dimension string) int64 {
				switch dimension {
				case "requests":
					return 1
				case "tokens":
					return 400
				}
				return 0
			},
		}
		for range 3 {
			get(t, context.Background(), tr, testURL)
		}
		hits := srv.Hits()
		require.Len(t, hits, 3)
		// 600 tokens remain after the first, 200 after the second: the third (400) waits for 200 more,
		// which come back at 800 tokens over the 48 s to full: 12 s.
		assert.Zero(t, hits[1].at, "the second request")
		assert.Equal(t, 12*time.Second, hits[2].at, "the third request")
	})
}

func TestKeysSeparateQuotas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "Bearer slow" {
				status(w, 429, "Retry-After", "30")
				return
			}
			status(w, 200)
		})
		tr := &ratekit.Transport{Base: srv.transport(0), KeyFunc: ratekit.KeyByAPIKey, MaxWait: time.Second}
		do := func(token string) error {
			req, _ := http.NewRequest(http.MethodGet, testURL, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := tr.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			return err
		}
		var rl *ratekit.RateLimitError
		require.ErrorAs(t, do("slow"), &rl, "the rate-limited key")
		require.NoError(t, do("fast"), "another API key must not wait for the first")
		for _, s := range tr.Snapshot() {
			assert.NotContains(t, s.Key, "slow", "a key carries the secret")
			assert.NotContains(t, s.Key, "fast", "a key carries the secret")
		}
	})
}

type userKey struct{}

func TestKeyFuncs(t *testing.T) {
	req := func(u string, kv ...string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, u, nil)
		for i := 0; i+1 < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		return r
	}
	byRoute := ratekit.KeyByRoute(map[string]string{"/search/": "search", "/search/code": "code-search"})
	tenant := ratekit.KeyByHeader("X-Tenant")
	for _, c := range []struct {
		name string
		got  string
		want string
	}{
		{"host", ratekit.KeyByHost(req("https://API.GitHub.com/users")), "https://api.github.com"},
		{"http is another key", ratekit.KeyByHost(req("http://api.github.com/users")), "http://api.github.com"},
		{"route group", byRoute(req("https://api.github.com/search/issues")), "https://api.github.com search"},
		{"longest prefix", byRoute(req("https://api.github.com/search/code?q=x")), "https://api.github.com code-search"},
		{"other routes share the host", byRoute(req("https://api.github.com/users")), "https://api.github.com"},
		{"API key, hashed", ratekit.KeyByAPIKey(req("https://api.openai.com/v1", "Authorization", "Bearer sk-1")), "https://api.openai.com #" + hash("Bearer sk-1")},
		{"X-API-Key", ratekit.KeyByAPIKey(req("https://api.test/", "X-Api-Key", "k")), "https://api.test #" + hash("k")},
		{"no API key", ratekit.KeyByAPIKey(req("https://api.test/")), "https://api.test"},
		{"header", tenant(req("https://api.test/", "X-Tenant", "acme")), "https://api.test #" + hash("acme")},
		{"context value", ratekit.KeyByContextValue(userKey{})(req("https://api.test/").WithContext(context.WithValue(context.Background(), userKey{}, 42))), "https://api.test #" + hash("42")},
		{"no context value", ratekit.KeyByContextValue(userKey{})(req("https://api.test/")), "https://api.test"},
		{"joined", ratekit.KeyJoin(ratekit.KeyByAPIKey, byRoute)(req("https://api.github.com/search/x", "Authorization", "t")),
			"https://api.github.com #" + hash("t") + " | https://api.github.com search"},
	} {
		assert.Equal(t, c.want, c.got, c.name)
	}
}

// Keys idle for longer than IdleTimeout are forgotten: a client that talks to 100k hosts over a day keeps
// only the recent ones. The key count is what the Transport holds; the heap it takes is the GC's business.
func TestIdleKeysAreEvicted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, 200, "X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "99", "X-RateLimit-Reset", "60")
		})
		tr := &ratekit.Transport{Base: srv.transport(0), IdleTimeout: time.Minute}
		peak := 0
		const hosts = 100000
		for i := range hosts {
			_, err := get(t, context.Background(), tr, "https://host"+strconv.Itoa(i)+".test/")
			require.NoError(t, err)
			if i%100 == 0 {
				time.Sleep(time.Second) // 100 hosts a second: each stays in use for a moment only
			}
			peak = max(peak, tr.Keys())
		}
		// IdleTimeout is a minute and the sweep runs on use: at most about 75 seconds' worth of hosts.
		assert.LessOrEqual(t, peak, 100*75+100, "keys held at the peak")
		assert.Greater(t, peak, 100*60, "keys held at the peak: a key within IdleTimeout was forgotten")
		time.Sleep(2 * time.Minute)
		get(t, context.Background(), tr, "https://last.test/") // eviction sweeps on use
		assert.Equal(t, 1, tr.Keys(), "keys after everything went idle")
		snaps := tr.Snapshot()
		require.Len(t, snaps, 1)
		assert.Equal(t, "https://last.test", snaps[0].Key)
	})
}

// Many goroutines on many keys, for the race detector and for lost wake-ups: every request completes.
func TestConcurrentUseOfManyKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			switch n % 7 {
			case 0:
				status(w, 429, "Retry-After", "1")
			case 3:
				status(w, 503)
			default:
				status(w, 200, "X-RateLimit-Limit", "50", "X-RateLimit-Remaining", strconv.Itoa(50-n%50), "X-RateLimit-Reset", "10")
			}
		})
		tr := &ratekit.Transport{Base: srv.transport(time.Millisecond), RetryBudget: -1, MaxRetries: 20, MaxErrorRetries: 20}
		var wg sync.WaitGroup
		for g := range 64 {
			wg.Go(func() {
				for i := range 20 {
					u := "http://k" + strconv.Itoa((g+i)%5) + ".test/"
					resp, err := get(t, context.Background(), tr, u)
					if assert.NoError(t, err, u) {
						assert.Equal(t, 200, resp.StatusCode, u)
					}
				}
			})
		}
		wg.Wait()
		for _, s := range tr.Snapshot() {
			assert.Zero(t, s.InFlight, "%s: in flight after all returned", s.Key)
			assert.Zero(t, s.Waiting, "%s: waiting after all returned", s.Key)
		}
	})
}

func TestGiveUpReasonIsNilForAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) { status(w, 404) })
		tr := &ratekit.Transport{Base: srv.transport(0)}
		resp, err := get(t, context.Background(), tr, testURL)
		require.NoError(t, err)
		assert.NoError(t, ratekit.GiveUpReason(resp))
		assert.NoError(t, ratekit.GiveUpReason(nil))
	})
}

func TestRateLimitErrorMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) { status(w, 429, "Retry-After", "3600") })
		tr := &ratekit.Transport{Base: srv.transport(0)}
		_, err := get(t, context.Background(), tr, testURL)
		want := "ratekit: rate limited on http://api.test (status 429): paused by the server for 1h0m0s, until 2000-01-01T01:00:00Z, longer than Transport.MaxWait; raise MaxWait to accept it, or send the request again after RetryAt"
		assert.EqualError(t, err, want)
	})
}

// A server that sends its resets in milliseconds where seconds are expected: the Retry-After of its first
// rejection shows the reset a thousand times too long, and the key reads its resets as milliseconds from
// then on.
func TestResetUnitIsLearnedFromRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			switch n {
			case 1:
				status(w, 429, "Retry-After", "30", "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "30000")
			default:
				status(w, 200, "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "5", "X-RateLimit-Reset", "20000")
			}
		})
		tr := &ratekit.Transport{Base: srv.transport(0)}
		get(t, context.Background(), tr, testURL)
		snaps := tr.Snapshot()
		require.Len(t, snaps, 1)
		require.NotEmpty(t, snaps[0].Quotas)
		q := snaps[0].Quotas[0]
		assert.Equal(t, 20*time.Second, time.Until(q.Reset), "the reset, from now: the unit was not learned")
	})
}
