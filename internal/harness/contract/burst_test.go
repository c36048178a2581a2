package contract_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
	"github.com/ratekit/ratekit/internal/harness/batch"
	"github.com/ratekit/ratekit/internal/memtransport"
	"github.com/ratekit/ratekit/mockserver"
)

// A token bucket whose burst is less than its limit holds no more than its burst after a quiet spell: the
// client must not take the limit for what is there.
func TestBurstLessThanLimitAfterIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := mockserver.NewHandler(mockserver.Config{Dialect: mockserver.DialectXRateLimit, DefaultTier: "t",
			Tiers: []mockserver.Tier{{Name: "t", Rules: []mockserver.Rule{{Name: "minute", Algorithm: mockserver.TokenBucket,
				Policy: mockserver.Policy{Limit: 200, Window: time.Minute, Burst: 10}}}}}})
		require.NoError(t, err)
		counter := &batch.Counter{Next: h}
		client := &http.Client{Transport: &ratekit.Transport{Base: &memtransport.Transport{Handler: counter, Latency: 5 * time.Millisecond}}}
		for range 2 {
			r := batch.Run(context.Background(), client, "http://api.test/items", 40, 32)
			require.Equal(t, 40, r.Completed, "completed: %v", r.FirstErr)
			time.Sleep(2 * time.Minute) // quiet: the bucket fills to its burst, not to its limit
		}
		rejected, total := counter.Count(http.StatusTooManyRequests)
		assert.Zero(t, rejected, "rejections among %d answers", total)
	})
}
