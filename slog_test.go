package ratekit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratekit/ratekit"
)

// records decodes the JSON lines a slog.JSONHandler wrote.
func records(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(out.String()) {
		var r map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		delete(r, slog.TimeKey)
		recs = append(recs, r)
	}
	return recs
}

func TestLogHooks(t *testing.T) {
	answer := func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			status(w, 429, "Retry-After", "3")
		case 2:
			status(w, 503) // no Retry-After: an error, retried after backoff
		default:
			status(w, 200, "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "60", "X-RateLimit-Resource", "core")
		}
	}
	for _, tc := range []struct {
		level slog.Level
		msgs  []string // the records' level and message, in order
	}{
		{slog.LevelDebug, []string{"WARN ratekit: retry", "INFO ratekit: wait", "WARN ratekit: retry", "INFO ratekit: wait",
			"DEBUG ratekit: quota", "WARN ratekit: quota low"}},
		{slog.LevelInfo, []string{"WARN ratekit: retry", "INFO ratekit: wait", "WARN ratekit: retry", "INFO ratekit: wait",
			"WARN ratekit: quota low"}},
		{slog.LevelWarn, []string{"WARN ratekit: retry", "WARN ratekit: retry", "WARN ratekit: quota low"}},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newServer(answer)
				var out bytes.Buffer
				logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: tc.level}))
				var hooked []string // the hooks set before LogHooks still run
				tr := ratekit.LogHooks(&ratekit.Transport{
					Base:       srv.transport(0),
					OnWait:     func(e ratekit.WaitEvent) { hooked = append(hooked, "wait") },
					OnRetry:    func(e ratekit.RetryEvent) { hooked = append(hooked, "retry") },
					OnQuota:    func(e ratekit.QuotaEvent) { hooked = append(hooked, "quota") },
					OnQuotaLow: func(e ratekit.QuotaEvent) { hooked = append(hooked, "low") },
				}, logger)
				resp, err := get(t, context.Background(), tr, testURL+"?token=secret")
				require.NoError(t, err)
				require.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, []string{"retry", "wait", "retry", "wait", "quota", "low"}, hooked)

				recs := records(t, &out)
				var msgs []string
				for _, r := range recs {
					msgs = append(msgs, r["level"].(string)+" "+r["msg"].(string))
					assert.Equal(t, "http://api.test", r["key"])
					assert.Equal(t, "GET", r["method"])
					assert.Equal(t, "api.test", r["host"])
				}
				assert.Equal(t, tc.msgs, msgs)
				assert.NotContains(t, out.String(), "secret", "a record carries the request's query")
				assert.NotContains(t, out.String(), "/v1/items", "a record carries the request's path")
				assert.Equal(t, float64(429), recs[0]["status"], "the first retry's status")
				assert.Equal(t, float64(1), recs[0]["attempt"])
				low := recs[len(recs)-1]
				assert.Equal(t, map[string]any{"remaining": float64(1), "limit": float64(10), "reset": low["core/requests"].(map[string]any)["reset"]},
					low["core/requests"])
			})
		})
	}
	t.Run("a nil logger is slog.Default", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var out bytes.Buffer
			defer slog.SetDefault(slog.Default())
			slog.SetDefault(slog.New(slog.NewJSONHandler(&out, nil)))
			srv := newServer(answer)
			tr := ratekit.LogHooks(&ratekit.Transport{Base: srv.transport(0)}, nil)
			_, err := get(t, context.Background(), tr, testURL)
			require.NoError(t, err)
			assert.Len(t, records(t, &out), 5, "the records at Info and above")
		})
	})
}
