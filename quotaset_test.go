package ratekit_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
)

// GitHub answers /search from its "search" resource (30 a minute) and the rest from "core" (5000 an
// hour), under one host. After one search, core requests are not held back by the search quota.
func TestGitHubSearchAndCoreAreSeparateQuotas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		search, core := 0, 0
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(r.URL.Path, "/search/") {
				search++
				status(w, 200, "X-Ratelimit-Limit", "30", "X-Ratelimit-Remaining", strconv.Itoa(30-search),
					"X-Ratelimit-Reset", strconv.FormatInt(start.Add(time.Minute).Unix(), 10), "X-Ratelimit-Resource", "search")
				return
			}
			core++
			status(w, 200, "X-Ratelimit-Limit", "5000", "X-Ratelimit-Remaining", strconv.Itoa(4990-core),
				"X-Ratelimit-Reset", strconv.FormatInt(start.Add(time.Hour).Unix(), 10), "X-Ratelimit-Resource", "core")
		})
		tr := &ratekit.Transport{Base: srv.transport(10 * time.Millisecond), MaxWait: 3 * time.Hour}
		for range 29 { // all but one of the search quota
			resp, err := get(t, context.Background(), tr, "https://api.github.test/search/issues?q=x")
			require.NoError(t, err)
			require.Equal(t, 200, resp.StatusCode)
		}
		begin := time.Now()
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 25 {
					resp, err := get(t, context.Background(), tr, "https://api.github.test/repos/o/r/issues/"+strconv.Itoa(g*25+i))
					assert.NoError(t, err)
					assert.Equal(t, 200, resp.StatusCode)
				}
			})
		}
		wg.Wait()
		took := time.Since(begin)
		t.Logf("200 core requests after 29 searches took %v of virtual time", took)
		assert.Less(t, took, 5*time.Second, "core requests were held back by the search quota")
		snap := tr.Snapshot()
		require.Len(t, snap, 1)
		assert.Len(t, snap[0].Quotas, 2)
	})
}

// A server that names a new policy in every answer does not make the key hold one quota per name.
func TestPolicyChurnIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			status(w, 200, "X-Ratelimit-Limit", "1000000", "X-Ratelimit-Remaining", strconv.Itoa(1000000-n),
				"X-Ratelimit-Reset", "3600", "X-Ratelimit-Resource", "policy-"+strconv.Itoa(n))
		})
		tr := &ratekit.Transport{Base: srv.transport(time.Millisecond)}
		begin := time.Now()
		for i := range 3000 {
			resp, err := get(t, context.Background(), tr, "https://api.test/items/"+strconv.Itoa(i%50))
			require.NoError(t, err)
			require.Equal(t, 200, resp.StatusCode)
		}
		snap := tr.Snapshot()
		require.Len(t, snap, 1)
		assert.LessOrEqual(t, len(snap[0].Quotas), 32)
		// 3000 round trips of 2 ms each: nothing but latency.
		assert.Less(t, time.Since(begin), 7*time.Second)
	})
}

// A quota no answer reports any more is dropped once its reset has long passed.
func TestUnreportedQuotaIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				status(w, 200, "X-Ratelimit-Limit", "10", "X-Ratelimit-Remaining", "9", "X-Ratelimit-Reset", "60", "X-Ratelimit-Resource", "old")
				return
			}
			status(w, 200, "X-Ratelimit-Limit", "100", "X-Ratelimit-Remaining", "99", "X-Ratelimit-Reset", "60", "X-Ratelimit-Resource", "new")
		})
		tr := &ratekit.Transport{Base: srv.transport(0)}
		get(t, context.Background(), tr, testURL)
		time.Sleep(3 * time.Minute)
		get(t, context.Background(), tr, testURL)
		snap := tr.Snapshot()
		require.Len(t, snap, 1)
		require.Len(t, snap[0].Quotas, 1)
		assert.Equal(t, "new", snap[0].Quotas[0].Policy)
	})
}
