package ratekit

import (
	"context"
	"log/slog"
	"net/http"
)

// LogHooks sets t's hooks to write what t does to logger as structured records, and returns t, so that it
// composes with NewClient:
//
//	client := ratekit.NewClient(ratekit.LogHooks(&ratekit.Transport{MaxWait: time.Hour}, slog.Default()))
//
// The records, each with the request's key, method and host (never its path or query, which may carry
// secrets; a key from KeyByAPIKey shows a hash, not the key):
//
//   - "ratekit: wait" for OnWait: at Info when the server caused the wait (a pause, a backoff after a
//     rejection or an error), at Debug when it is pacing (a quota, Transport.Limit, the probe, the fleet);
//   - "ratekit: retry" for OnRetry, at Warn, with the status retried (or the network error);
//   - "ratekit: quota low" for OnQuotaLow, at Warn, with the quota;
//   - "ratekit: quota" for OnQuota, at Debug, with each quota the response reported.
//
// A hook already set still runs, after the log record. A nil logger is slog.Default(). Call LogHooks before
// the Transport's first request: its fields must not change after it.
func LogHooks(t *Transport, logger *slog.Logger) *Transport {
	if logger == nil {
		logger = slog.Default()
	}
	onWait, onRetry, onQuota, onQuotaLow := t.OnWait, t.OnRetry, t.OnQuota, t.OnQuotaLow
	t.OnWait = func(e WaitEvent) {
		level := slog.LevelDebug
		switch e.Reason {
		case WaitServerPause, WaitRejectionBackoff, WaitErrorBackoff:
			level = slog.LevelInfo
		}
		attrs := append(requestAttrs(e.Key, e.Request), slog.Duration("wait", e.Wait), slog.String("reason", e.Reason.String()))
		if e.Quota != "" {
			attrs = append(attrs, slog.String("quota", e.Quota))
		}
		if e.StatusCode != 0 {
			attrs = append(attrs, slog.Int("status", e.StatusCode))
		}
		logger.LogAttrs(contextOf(e.Request), level, "ratekit: wait", attrs...)
		if onWait != nil {
			onWait(e)
		}
	}
	t.OnRetry = func(e RetryEvent) {
		attrs := append(requestAttrs(e.Key, e.Request), slog.Int("attempt", e.Attempt), slog.Duration("wait", e.Wait))
		if e.Response != nil {
			attrs = append(attrs, slog.Int("status", e.Response.StatusCode))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.String("error", e.Err.Error()))
		}
		logger.LogAttrs(contextOf(e.Request), slog.LevelWarn, "ratekit: retry", attrs...)
		if onRetry != nil {
			onRetry(e)
		}
	}
	t.OnQuotaLow = func(e QuotaEvent) {
		attrs := requestAttrs(e.Key, e.Request)
		for _, q := range e.Quotas {
			attrs = append(attrs, quotaAttr(q))
		}
		logger.LogAttrs(contextOf(e.Request), slog.LevelWarn, "ratekit: quota low", attrs...)
		if onQuotaLow != nil {
			onQuotaLow(e)
		}
	}
	t.OnQuota = func(e QuotaEvent) {
		ctx := contextOf(e.Request)
		if logger.Enabled(ctx, slog.LevelDebug) { // a record per response: build it only when it is wanted
			attrs := requestAttrs(e.Key, e.Request)
			for _, q := range e.Quotas {
				attrs = append(attrs, quotaAttr(q))
			}
			logger.LogAttrs(ctx, slog.LevelDebug, "ratekit: quota", attrs...)
		}
		if onQuota != nil {
			onQuota(e)
		}
	}
	return t
}

// requestAttrs are the attributes every record carries: the key, and the request's method and host.
func requestAttrs(key string, req *http.Request) []slog.Attr {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("key", key))
	if req != nil {
		method := req.Method
		if method == "" {
			method = http.MethodGet
		}
		attrs = append(attrs, slog.String("method", method))
		if req.URL != nil {
			attrs = append(attrs, slog.String("host", req.URL.Host))
		}
	}
	return attrs
}

// quotaAttr is a quota as a group named by its policy and dimension ("core/requests"), with what the server
// reported of it.
func quotaAttr(q Quota) slog.Attr {
	name := q.Dimension
	if q.Policy != "" {
		name = q.Policy + "/" + q.Dimension
	}
	attrs := []any{slog.Int64("remaining", q.Remaining), slog.Int64("limit", q.Limit)}
	if !q.Reset.IsZero() {
		attrs = append(attrs, slog.Time("reset", q.Reset))
	}
	return slog.Group(name, attrs...)
}

func contextOf(req *http.Request) context.Context {
	if req == nil {
		return context.Background()
	}
	return req.Context()
}
