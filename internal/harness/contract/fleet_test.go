package contract_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/harness/batch"
	"github.com/ratekit/ratekit/internal/harness/oracle"
	"github.com/ratekit/ratekit/internal/memtransport"
	"github.com/ratekit/ratekit/mockserver"
)

// fleetRun sends n requests from each of `members` Transports (as separate processes would have), with
// workers goroutines each, to one mock server, sharing paces through shared (nil: not at all).
func fleetRun(t *testing.T, alg, dialect string, p mockserver.Policy, members, n, workers int, shared ratekit.Limiter) (elapsed, ideal time.Duration, rejected, hits int) {
	h, err := mockserver.NewHandler(mockserver.Config{Dialect: dialect, DefaultTier: "t",
		Tiers: []mockserver.Tier{{Name: "t", Rules: []mockserver.Rule{{Name: "minute", Algorithm: alg, Policy: p}}}}})
	if err != nil {
		t.Fatal(err)
	}
	counter := &batch.Counter{Next: h}
	start := time.Now()
	ideal, err = oracle.IdealTime(alg, p, members*n, start)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range members {
		tr := &ratekit.Transport{Base: &memtransport.Transport{Handler: counter, Latency: 10 * time.Millisecond}, MaxWait: time.Hour, Limiter: shared}
		wg.Go(func() {
			res := batch.Run(context.Background(), &http.Client{Transport: tr}, "http://api.test/items", n, workers)
			if shared != nil && res.Completed != n {
				t.Errorf("a member completed %d of %d (first error %v)", res.Completed, n, res.FirstErr)
			}
		})
	}
	wg.Wait()
	rejected, hits = counter.Count(http.StatusTooManyRequests)
	return time.Since(start), ideal, rejected, hits
}

// Four processes on one API key: sharing the pace keeps the fleet within the quota.
func TestFleetSharesThePace(t *testing.T) {
	for _, alg := range []string{mockserver.FixedWindow, mockserver.TokenBucket, mockserver.SlidingWindowLog} {
		t.Run(alg, func(t *testing.T) {
			p := mockserver.Policy{Limit: 100, Window: time.Minute}
			var alone, together struct {
				elapsed, ideal time.Duration
				rejected, hits int
			}
			synctest.Test(t, func(t *testing.T) {
				alone.elapsed, alone.ideal, alone.rejected, alone.hits = fleetRun(t, alg, mockserver.DialectXRateLimit, p, 4, 150, 4, nil)
			})
			synctest.Test(t, func(t *testing.T) {
				together.elapsed, together.ideal, together.rejected, together.hits = fleetRun(t, alg, mockserver.DialectXRateLimit, p, 4, 150, 4, ratekit.NewLocalLimiter())
			})
			defer t.Logf("alone:    %v (ideal %v), %d of %d answers rejected", alone.elapsed, alone.ideal, alone.rejected, alone.hits)
			defer t.Logf("together: %v (ideal %v), %d of %d answers rejected", together.elapsed, together.ideal, together.rejected, together.hits)
			if share := float64(together.rejected) / float64(together.hits); share > 0.01 {
				t.Errorf("sharing: %.1f%% rejected, want at most 1%%", 100*share)
			}
			// The shared pace spreads each window's budget across it, so the fleet ends about one window
			// after the ideal, which bursts at each window's start: 0.8 of it over five windows.
			if g := float64(together.ideal) / float64(together.elapsed); g < 0.75 {
				t.Errorf("sharing: done in %v, goodput %.2f of the ideal %v, want at least 0.75", together.elapsed, g, together.ideal)
			}
			if alg == mockserver.TokenBucket && alone.rejected < 10*together.rejected+100 {
				t.Errorf("without sharing %d rejections, with sharing %d: the storm did not show", alone.rejected, together.rejected)
			}
		})
	}
}
