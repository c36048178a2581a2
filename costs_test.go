package ratekit_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
)

// TestRequestsWaitingForTheProbeAreChargedWhatCostFuncSays: the requests that wait for a new key's probe
// computed their costs before its answer named the token quota. Admitted on those costs, each 1,000-token
// request would be charged 0 tokens, and the eleven that waited would all go into a quota of 8,000 (seen
// against mockserver's Anthropic profile: a waiter refused, then a 2-hour pace). CostFunc is
// asked again for the dimension it was not asked about, and no request is refused; without CostFunc, the key
// charges what the probe's answer showed a request costs.
func TestRequestsWaitingForTheProbeAreChargedWhatCostFuncSays(t *testing.T) {
	const limit, cost, n, workers = 8000, 1000, 12, 12
	for _, tc := range []struct {
		name     string
		costFunc func(*http.Request, string) int64
		refused  bool // whether the server refuses requests: only CostFunc knows the cost in tokens
	}{
		{name: "with CostFunc", costFunc: func(req *http.Request, dim string) int64 {
			if dim == "tokens" {
				return cost
			}
			return ratekit.DefaultCost(req, dim)
		}},
		// the key learns the cost from the probe's answer (learnt_cost.go), and charges the waiters with it
		{name: "without CostFunc"},
		{name: "with a CostFunc that says tokens cost 0", refused: true, costFunc: func(req *http.Request, dim string) int64 {
			return ratekit.DefaultCost(req, dim) // the caller's word, never second-guessed
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// A token bucket of 8,000 tokens refilling 8,000 a minute, reported in OpenAI's dialect (the
				// reset is when it is full again); every request costs 1,000.
				var (
					mu      sync.Mutex
					level   = float64(limit)
					last    = time.Now()
					refused atomic.Int64
				)
				srv := newServer(func(_ int, w http.ResponseWriter, _ *http.Request) {
					mu.Lock()
					defer mu.Unlock()
					level = min(level+float64(limit)*time.Since(last).Minutes(), limit)
					last = time.Now()
					code := http.StatusOK
					if level >= cost {
						level -= cost
					} else {
						code = http.StatusTooManyRequests
						refused.Add(1)
					}
					full := time.Duration((limit - level) / limit * float64(time.Minute))
					status(w, code, "X-Ratelimit-Limit-Tokens", strconv.Itoa(limit), "X-Ratelimit-Reset-Tokens", full.String(),
						"X-Ratelimit-Remaining-Tokens", strconv.Itoa(int(level)))
				})
				tr := &ratekit.Transport{Base: srv.transport(10 * time.Millisecond), CostFunc: tc.costFunc}
				var next, ok atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				for range workers {
					wg.Go(func() {
						for next.Add(1) <= n {
							resp, err := get(t, context.Background(), tr, testURL)
							if err == nil && resp.StatusCode == http.StatusOK {
								ok.Add(1)
							}
						}
					})
				}
				wg.Wait()
				if tc.refused {
					// the control: the test sees requests charged too little (some then fail after their
					// retries, the server sending no Retry-After)
					assert.Positive(t, refused.Load(), "charged 0 tokens, the requests overdraw the quota")
					return
				}
				require.Equal(t, int64(n), ok.Load(), "every request completes")
				assert.Zero(t, refused.Load(), "requests refused")
				// 8 at once, then one every 7.5 s
				assert.GreaterOrEqual(t, time.Since(start), (n-limit/cost)*cost*time.Minute/limit, "faster than the bucket refills")
			})
		})
	}
}
