package interop

import (
	"context"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEchoIdeal: echo's memory store is the token bucket that TokenBucket's Ideal assumes. At every policy,
// a request sent at each instant the Ideal gives passes (200 of 200: Burst at once, then one every
// Interval), and one sent a millisecond before each of those instants beyond the burst is refused without
// delaying the next (x/time/rate takes no token from a refusal). So no client beats the Ideal, and one that
// meets it is not held back by the refusals it met on the way.
func TestEchoIdeal(t *testing.T) {
	for _, policy := range Policies() {
		p := EchoRateLimiter(policy)
		t.Run(p.Name(), func(t *testing.T) {
			s := Schedule{Name: "ideal", Phase: 300 * time.Millisecond}
			var early []int // the indexes of the requests sent a millisecond early
			for n := 1; n <= BatchRequests; n++ {
				at := p.Ideal(n)
				if n > policy.Burst {
					early = append(early, len(s.Offsets))
					s.Offsets = append(s.Offsets, at-time.Millisecond)
				}
				s.Offsets = append(s.Offsets, at)
			}
			var tr Trace
			synctest.Test(t, func(t *testing.T) {
				var err error
				tr, err = RecordPeer(context.Background(), p, s)
				require.NoError(t, err)
			})
			require.Len(t, tr.Requests, len(s.Offsets))
			passed, refusedEarly := 0, 0
			for i, x := range tr.Requests {
				switch {
				case len(early) > 0 && early[0] == i:
					early = early[1:]
					if x.Status == http.StatusTooManyRequests {
						refusedEarly++
					}
				case x.Status == http.StatusOK:
					passed++
				}
				assert.Empty(t, x.Headers, "request %d: echo sends no rate-limit header", i+1)
			}
			assert.Equal(t, BatchRequests, passed, "every request at the Ideal's instant passes")
			assert.Equal(t, BatchRequests-policy.Burst, refusedEarly, "every request a millisecond early is refused")
		})
	}
}

// TestEchoRejection pins echo's answers byte for byte: a 200 from the protected handler, and a 429 with the
// default DenyHandler's JSON body, no header but Content-Type.
func TestEchoRejection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target, err := EchoRateLimiter(PerSecond50).Start(context.Background())
		require.NoError(t, err)
		defer target.Close()
		rt := target.Transport()
		var answers []*http.Response
		var bodies []string
		for range PerSecond50.Burst + 1 {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, target.ItemURL(), nil)
			require.NoError(t, err)
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			answers, bodies = append(answers, resp), append(bodies, string(b))
		}
		first, last := answers[0], answers[len(answers)-1]
		assert.Equal(t, http.StatusOK, first.StatusCode)
		assert.Equal(t, "ok\n", bodies[0])
		assert.Equal(t, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, first.Header)
		assert.Equal(t, http.StatusOK, answers[len(answers)-2].StatusCode, "Burst requests pass at once")
		assert.Equal(t, http.StatusTooManyRequests, last.StatusCode)
		assert.Equal(t, `{"message":"rate limit exceeded"}`+"\n", bodies[len(bodies)-1])
		assert.Equal(t, http.Header{"Content-Type": {"application/json"}}, last.Header)
	})
}

// TestEchoMatchesSilentTokenBucket: echo answers every schedule, at every policy, as the mock server's
// token-bucket/none cell does (the same statuses at the same virtual instants, no header from either): the
// mock's silent cells are a fair stand-in for a real silent server.
func TestEchoMatchesSilentTokenBucket(t *testing.T) {
	for _, policy := range Policies() {
		p := EchoRateLimiter(policy)
		for _, s := range Schedules() {
			t.Run(p.Name()+"/"+s.Name, func(t *testing.T) {
				var real, mock Trace
				synctest.Test(t, func(t *testing.T) {
					var err error
					real, err = RecordPeer(context.Background(), p, s)
					require.NoError(t, err)
					mock, err = Record(context.Background(), "mock token-bucket/none", InMemory(profileOf(p)), s)
					require.NoError(t, err)
				})
				require.Len(t, real.Requests, len(s.Offsets))
				diffs := DiffTraces(real, mock)
				assert.Empty(t, diffs[:min(len(diffs), 10)], "%d of %d requests differ from %s", len(diffs), len(s.Offsets), p.Name())
				var rejected int
				for _, x := range real.Requests {
					rejected += 1 - okCount(x)
				}
				assert.Positive(t, rejected, "the schedule reached echo's limit: the comparison is not vacuous")
			})
		}
	}
}
