package mockserver

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRejectionBodyEqualsTheEncodedBody: the precomputed body of a rejection is byte for byte what encoding
// its errorBody writes, with and without retry_after, for any number of seconds.
func TestRejectionBodyEqualsTheEncodedBody(t *testing.T) {
	rules := []Rule{
		{Name: "minute", Algorithm: FixedWindow, Dimension: DimensionRequests, Policy: Policy{Limit: 60, Window: time.Minute}},
		{Name: "tokens-1h30m0s", Algorithm: TokenBucket, Dimension: "tokens", Policy: Policy{Limit: 987_654_321_987_654, Window: 90 * time.Minute}},
	}
	for _, r := range rules {
		for _, withRetry := range []bool{true, false} {
			tb := newRejectionBody("free.tier-1", r, withRetry)
			require.NotNil(t, tb, r.Name)
			for _, secs := range []int64{0, 1, 59, 86_400, 1 << 40} {
				got := httptest.NewRecorder()
				tb.write(got, 429, secs)
				body := errorBody{Error: errRateLimited, Message: rejectionMessage("free.tier-1", r, strconv.FormatInt(secs, 10))}
				if withRetry {
					body.RetryAfter = &secs
				}
				want := httptest.NewRecorder()
				writeJSON(want, 429, body)
				assert.Equal(t, want.Body.String(), got.Body.String())
				assert.Equal(t, want.Header(), got.Header())
			}
		}
	}
}
