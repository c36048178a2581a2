package ratekit_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/ratekit/ratekit"
)

// Every field of Transport, with a value its first RoundTrip must refuse (field and message set) or, for a
// field whose every value means something, the most unusual value it must accept (field set, message
// empty). The test fails when Transport gains a field this table does not cover.
func TestTransportFieldsAreValidatedAtFirstUse(t *testing.T) {
	cases := []struct {
		field string // the Transport field the row covers
		tr    *ratekit.Transport
		err   string // the whole error text; "" when the value is accepted
	}{
		{"Base", &ratekit.Transport{Base: nil}, ""},
		{"KeyFunc", &ratekit.Transport{KeyFunc: func(*http.Request) string { return "" }}, ""},
		{"CostFunc", &ratekit.Transport{CostFunc: func(*http.Request, string) int64 { return -1 }}, ""},
		{"Limit", &ratekit.Transport{Limit: -1},
			"ratekit: Transport.Limit is -1; set it to 0 (the default, no ceiling), a positive rate or rate.Inf"},
		{"Limit", &ratekit.Transport{Limit: rate.Limit(math.NaN())},
			"ratekit: Transport.Limit is NaN; set it to 0 (the default, no ceiling), a positive rate or rate.Inf"},
		{"Limit", &ratekit.Transport{Limit: rate.Inf}, ""},
		{"Burst", &ratekit.Transport{Burst: -4},
			"ratekit: Transport.Burst is -4; set it to 0 (the default, 1) or a positive count"},
		{"MaxRetries", &ratekit.Transport{MaxRetries: -5}, ""},
		{"MaxErrorRetries", &ratekit.Transport{MaxErrorRetries: -5}, ""},
		{"MaxWait", &ratekit.Transport{MaxWait: -time.Second}, ""},
		{"Backoff", &ratekit.Transport{Backoff: func() backoff.BackOff { return &backoff.StopBackOff{} }}, ""},
		{"RetryBudget", &ratekit.Transport{RetryBudget: math.Inf(1)},
			"ratekit: Transport.RetryBudget is +Inf; set it to 0 (the default, 0.2), a positive ratio or a negative number (no budget)"},
		{"RetryBudget", &ratekit.Transport{RetryBudget: -1}, ""},
		{"ResetFormats", &ratekit.Transport{ResetFormats: map[string]ratekit.ResetFormat{"api.test": 99}},
			`ratekit: Transport.ResetFormats["api.test"] is 99; set it to a ResetFormat constant`},
		{"Limiter", &ratekit.Transport{Limiter: ratekit.NewLocalLimiter()}, ""},
		{"IdleTimeout", &ratekit.Transport{IdleTimeout: -time.Second},
			"ratekit: Transport.IdleTimeout is -1s; set it to 0 (the default, 10m) or a positive duration"},
		{"OnWait", &ratekit.Transport{OnWait: func(ratekit.WaitEvent) {}}, ""},
		{"OnRetry", &ratekit.Transport{OnRetry: func(ratekit.RetryEvent) {}}, ""},
		{"OnQuota", &ratekit.Transport{OnQuota: func(ratekit.QuotaEvent) {}}, ""},
		{"OnQuotaLow", &ratekit.Transport{OnQuotaLow: func(ratekit.QuotaEvent) {}}, ""},
		{"QuotaLowThreshold", &ratekit.Transport{QuotaLowThreshold: 7},
			"ratekit: Transport.QuotaLowThreshold is 7; set it to 0 (the default, 0.8) or a fraction in (0, 1]"},
		{"QuotaLowThreshold", &ratekit.Transport{QuotaLowThreshold: -0.1},
			"ratekit: Transport.QuotaLowThreshold is -0.1; set it to 0 (the default, 0.8) or a fraction in (0, 1]"},
		{"QuotaLowThreshold", &ratekit.Transport{QuotaLowThreshold: 1}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.field+"/"+map[bool]string{true: "accepted", false: "refused"}[tc.err == ""], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(func(n int, w http.ResponseWriter, r *http.Request) { status(w, 200) })
				tr := tc.tr
				if tr.Base == nil && tc.field != "Base" {
					tr.Base = srv.transport(0)
				}
				if tc.field == "Base" {
					// nil Base is http.DefaultTransport: check only that the settings resolve, on a request
					// that a RoundTripper refuses before dialing.
					req, err := http.NewRequest(http.MethodGet, "nosuchscheme://api.test/", nil)
					require.NoError(t, err)
					_, err = tr.RoundTrip(req)
					var ce *ratekit.ConfigError
					assert.False(t, errors.As(err, &ce), "nil Base: %v", err)
					return
				}
				for range 2 { // the error is the first request's, and every later one's
					_, err := get(t, context.Background(), tr, testURL)
					if tc.err == "" {
						assert.NoError(t, err)
						continue
					}
					var ce *ratekit.ConfigError
					require.ErrorAs(t, err, &ce)
					assert.Equal(t, tc.err, err.Error())
					assert.Contains(t, ce.Field, "Transport."+tc.field)
					assert.NotEmpty(t, ce.Allowed)
				}
				if tc.err != "" {
					assert.Empty(t, srv.Hits(), "a request was sent through a Transport with a bad field")
				}
			})
		})
	}

	t.Run("every field has a row", func(t *testing.T) {
		covered := map[string]bool{}
		for _, tc := range cases {
			covered[tc.field] = true
		}
		typ := reflect.TypeFor[ratekit.Transport]()
		for i := range typ.NumField() {
			if f := typ.Field(i); f.IsExported() {
				assert.True(t, covered[f.Name], "Transport.%s has no row in the validation table", f.Name)
			}
		}
	})
}
