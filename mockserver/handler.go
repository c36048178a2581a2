package mockserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Handler is a rate-limited http.Handler. Used as is (ServeHTTP), it is a stand-alone mock API: every path
// that is not reserved answers 200 with a small JSON body ({"key","tier","route","cost","remaining"}).
// Wrap puts the same rate limiting in front of any handler instead.
//
// Per request it reads the clock once, then: key -> tier -> rules -> costs -> Store.Allow (all rules are
// checked, and the request is committed to all of them only when every one passes) -> headers in the
// configured dialect, computed from those decisions at that instant -> serve, hold (leaky-bucket-queue), or
// reject. The reserved paths (Config.MetricsPath, StatsPath, ResetPath) are never rate limited.
//
// A Handler keeps no background goroutines (the only goroutine it ever causes is the short-lived
// context.AfterFunc that frees a concurrency slot when a client goes away), so it can run inside a
// testing/synctest bubble, and it needs no Close. It is safe for concurrent use.
type Handler struct {
	plan    *plan
	store   Store
	metrics *metrics
	stats   *statsBook
	dice    *faultDice
	logger  *slog.Logger
	names   *keyNamer
	dates   dateCache
	// rejections are the precomputed bodies of ordinary rejections, [tier][rule]; nil entries are encoded
	// per request
	rejections [][]*rejectionBody
	admin      adminGuard
	logs       *logSampler // paces the log lines of rejections and store failures
	pool       sync.Pool   // of *exchange
}

var _ http.Handler = (*Handler)(nil)

// NewHandler checks cfg and builds a Handler. An invalid field gets a *ConfigError naming it and, where
// they can be listed, the allowed values.
func NewHandler(cfg Config) (*Handler, error) {
	p, err := compile(cfg, time.Now())
	if err != nil {
		return nil, err
	}
	h := &Handler{plan: p, store: cfg.Store, logger: cfg.Logger, stats: newStatsBook(p.statsMaxKeys),
		dice: newFaultDice(p.faults), names: newKeyNamer(cfg.RawKeys, cfg.KeyHashSecret), admin: newAdminGuard(cfg.AdminToken),
		logs: newLogSampler(p.logLinesPerSecond)}
	if h.store == nil {
		h.store = NewMemoryStore()
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	h.metrics = newMetrics(p, h.store)
	h.rejections = rejectionBodies(p)
	h.pool.New = func() any { return new(exchange) }
	return h, nil
}

// ServeHTTP serves r as the stand-alone mock API: rate limited, then answered by the built-in endpoint.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.serve(w, r, nil, false) }

// Wrap returns a handler that rate limits every request before next serves it (middleware). Rejected
// requests never reach next; allowed ones reach it with the rate-limit headers already set. The reserved
// paths are served by h, not next, only when Config.AdminToken is set (and then only to requests carrying
// the token); otherwise they are paths of next like any other.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, next, true) })
}

// MetricsHandler serves the Handler's Prometheus metrics, to mount them elsewhere than Config.MetricsPath
// (on an admin listener). It checks no token: mount it where only operators reach it.
func (h *Handler) MetricsHandler() http.Handler { return h.metrics.handler }

// StatsHandler serves the per-key statistics as JSON (GET, ?key= for one key), to mount them elsewhere
// than Config.StatsPath (on an admin listener). It checks no token: mount it where only operators reach it.
func (h *Handler) StatsHandler() http.Handler { return http.HandlerFunc(h.serveStats) }

// ResetHandler forgets the state of every key, or of ?key= (POST), to mount it elsewhere than
// Config.ResetPath (on an admin listener). It checks no token: mount it where only operators reach it.
func (h *Handler) ResetHandler() http.Handler { return http.HandlerFunc(h.serveReset) }

// exchange is the state of one request on its way through serve. Exchanges are recycled through a pool.
type exchange struct {
	key      requestKey
	name     string // the key's name in statistics, logs and the store (keyNamer)
	tier     *tierPlan
	tierIdx  int
	route    string // the matched route's pattern; "" when none
	routeIdx int
	dimCost  []int64 // the request's cost in each dimension
	costs    []int64 // the request's cost in each rule of its tier
	view     quotaView
}

// reserved serves r if its path is reserved, and reports whether it did. Under Wrap (wrapped), the reserved
// paths exist only with an admin token; a request for one without the token gets 401.
func (h *Handler) reserved(w http.ResponseWriter, r *http.Request, wrapped bool) bool {
	p := r.URL.Path
	if p == "" || (p != h.plan.metricsPath && p != h.plan.statsPath && p != h.plan.resetPath) {
		return false
	}
	if wrapped && !h.admin.enabled() {
		return false
	}
	if !h.admin.allows(r) {
		h.admin.refuse(w)
		return true
	}
	switch {
	case p == h.plan.metricsPath:
		h.metrics.handler.ServeHTTP(w, r)
	case p == h.plan.statsPath:
		h.serveStats(w, r)
	case p == h.plan.resetPath:
		h.serveReset(w, r)
	default:
		return false
	}
	return true
}

// serve rate limits r, then serves it with next (the built-in endpoint when next is nil).
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, next http.Handler, wrapped bool) {
	if h.reserved(w, r, wrapped) {
		return
	}
	now := time.Now()
	roll := h.dice.roll()
	p := h.plan
	x := h.pool.Get().(*exchange)
	defer h.pool.Put(x)
	w.Header()[hdrDate] = h.dates.values(now.Add(p.faults.ClockSkew))

	x.routeIdx, x.route = p.routes.match(r)
	x.key = p.keys.identify(r, x.route)
	x.name = h.names.name(x.key.key)
	switch {
	case !x.key.anonymous:
		var ok bool
		if x.tierIdx, ok = p.tierByKey[x.key.principal]; !ok {
			x.tierIdx = p.defaultTier
		}
	case p.anonymousTier >= 0:
		x.tierIdx = p.anonymousTier
	default:
		h.metrics.invalid[reasonMissingKey].Inc()
		if x.key.missing == KeyAPIKey {
			setHeader(w.Header(), "Www-Authenticate", "Bearer")
		}
		h.respondAfter(w, r, roll, http.StatusUnauthorized, errorBody{Error: errMissingKey, Message: p.keys.missingKeyMessage(x.key.missing)})
		return
	}
	x.tier = p.tiers[x.tierIdx].on(x.routeIdx)
	routeCost := int64(1)
	if x.routeIdx >= 0 {
		routeCost = p.routes.routes[x.routeIdx].Cost
	}
	x.dimCost = resizeCosts(x.dimCost, len(p.dims))
	if err := requestCosts(r, p.dims, routeCost, x.dimCost); err != nil {
		h.metrics.invalid[reasonBadCost].Inc()
		h.respondAfter(w, r, roll, http.StatusBadRequest, errorBody{Error: errBadCost, Message: err.Error()})
		return
	}
	t := x.tier
	x.costs = resizeCosts(x.costs, len(t.rules))
	for i := range t.rules {
		x.costs[i] = x.dimCost[t.dim[i]]
	}

	ds, err := h.store.Allow(r.Context(), x.name, t.rules, x.costs, now, x.view.decisions[:0])
	if err == nil && len(ds) != len(t.rules) {
		err = fmt.Errorf("mockserver: store returned %d decisions for %d rules", len(ds), len(t.rules))
	}
	if err != nil {
		h.storeFailed(w, r, x, roll, next, err)
		return
	}
	resetAs := p.faults.ResetAs
	if resetAs == "" {
		resetAs = p.render.resetAs
	}
	x.view = quotaView{now: now, skew: p.faults.ClockSkew, resetAs: resetAs, render: &p.render, rules: t.rules,
		offsets: t.offsets, decisions: ds, costs: x.costs, capacity: t.capacity, dimOf: t.dim, dims: p.dims,
		remoteAddr: r.RemoteAddr, forwardedFor: r.Header.Get("X-Forwarded-For")}
	p.dialect(w.Header(), &x.view)
	bind := x.view.binding(-1)

	if x.view.rejected() {
		h.reject(w, r, x, roll, bind)
		return
	}
	h.metrics.request(t, x.tierIdx, x.routeIdx, bind, resultAllowed)
	h.stats.record(x.name, x.tierIdx, true)
	if t.hasConcurrency {
		// The slot is given back exactly once: when the response has been written (next returned), or
		// as soon as the client goes away (the request's context is cancelled), whichever comes first.
		// The release may run on the AfterFunc's goroutine after x went back to the pool: it captures
		// copies, never x.
		key, costs := x.name, append([]int64(nil), x.costs...)
		release := func() { h.release(r.Context(), key, t.rules, costs) }
		stop := context.AfterFunc(r.Context(), release)
		defer func() {
			if stop() {
				release()
			}
		}()
	}
	var delay time.Duration
	for _, d := range ds {
		delay = max(delay, d.Delay)
	}
	if delay > 0 {
		h.metrics.waits[x.tierIdx][1].Observe(delay.Seconds())
	}
	if !h.pauseFor(r.Context(), roll.latency) || !holdFor(r.Context(), delay) {
		return // the client went away while the request was held
	}
	switch {
	case roll.fail:
		h.metrics.faultError.Inc()
		writeJSON(w, p.faults.ErrorStatus, errorBody{Error: errInjectedFault, Message: "mockserver: injected server error (Faults.ErrorRate)"})
	case roll.drop:
		h.metrics.faultDrop.Inc()
		panic(http.ErrAbortHandler)
	case next != nil:
		next.ServeHTTP(w, r)
	default:
		writeEndpoint(w, x, bind)
	}
}

// reject answers a request that a rule rejected: metrics, statistics, one log line, then the rejection.
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, x *exchange, roll faultRoll, bind int) {
	t := x.tier
	rule := t.rules[bind]
	wait := x.view.retryAfter()
	h.metrics.request(t, x.tierIdx, x.routeIdx, bind, resultRejected)
	h.stats.record(x.name, x.tierIdx, false)
	told := time.Duration(ceilDiv(wait, time.Second)) * time.Second // the Retry-After the client is told
	if wait != never {
		h.metrics.waits[x.tierIdx][0].Observe(told.Seconds())
	}
	if h.logger.Enabled(r.Context(), slog.LevelInfo) {
		h.logRejection(r, x, rule, wait, told)
	}
	if !h.pauseFor(r.Context(), roll.latency) {
		return
	}
	h.writeRejection(w, x, bind)
}

// logRejection writes the line of a rejected request, unless the log budget of this second is spent.
func (h *Handler) logRejection(r *http.Request, x *exchange, rule Rule, wait, told time.Duration) {
	ok, dropped := h.logs.allow(time.Now())
	if !ok {
		return
	}
	attrs := []slog.Attr{slog.String("key", x.name), slog.String("tier", x.tier.name),
		slog.String("route", routeLabel(x.route)), slog.String("rule", rule.Name)}
	if wait == never {
		attrs = append(attrs, slog.String("reason", errCostExceedsCapacity))
	} else {
		attrs = append(attrs, slog.Duration("retry_after", told))
	}
	if dropped > 0 {
		attrs = append(attrs, slog.Int64("lines_dropped", dropped))
	}
	h.logger.LogAttrs(r.Context(), slog.LevelInfo, "rate limited", attrs...)
}

// storeFailed handles a failing store: fail open (serve without rate-limit headers) or closed (503).
func (h *Handler) storeFailed(w http.ResponseWriter, r *http.Request, x *exchange, roll faultRoll, next http.Handler, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The client went away while the store decided: not a failure of the store, and nobody to answer.
		h.metrics.clientGone.Inc()
		return
	}
	h.metrics.storeFailures.Inc()
	mode := FailOpen
	if h.plan.failClosed {
		mode = FailClosed
	}
	if ok, dropped := h.logs.allow(time.Now()); ok {
		attrs := []slog.Attr{slog.String("key", x.name), slog.String("tier", x.tier.name), slog.String("mode", mode),
			slog.String("error", err.Error())}
		if dropped > 0 {
			attrs = append(attrs, slog.Int64("lines_dropped", dropped))
		}
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "store failed", attrs...)
	}
	if h.plan.failClosed {
		if h.plan.dialectName != DialectNone {
			setHeader(w.Header(), hdrRetryAfter, "1")
		}
		one := int64(1)
		h.respondAfter(w, r, roll, http.StatusServiceUnavailable, errorBody{Error: errStoreUnavailable,
			Message: "the rate-limit store is unavailable (fail-closed): " + err.Error(), RetryAfter: &one})
		return
	}
	if !h.pauseFor(r.Context(), roll.latency) {
		return
	}
	if next != nil {
		next.ServeHTTP(w, r)
		return
	}
	writeJSON(w, http.StatusOK, endpointBody{Key: x.key.key, Tier: x.tier.name, Route: x.route, Cost: x.dimCost[0], Remaining: -1})
}

// respondAfter writes an error response after the injected latency, unless the client went away.
func (h *Handler) respondAfter(w http.ResponseWriter, r *http.Request, roll faultRoll, status int, body errorBody) {
	if h.pauseFor(r.Context(), roll.latency) {
		writeJSON(w, status, body)
	}
}

// pauseFor waits out an injected latency, counting it; false when the client went away meanwhile.
func (h *Handler) pauseFor(ctx context.Context, latency time.Duration) bool {
	if latency <= 0 {
		return true
	}
	h.metrics.faultLatency.Inc()
	return holdFor(ctx, latency)
}

// release gives back the concurrency slots of an allowed request. A failure is logged: the slot stays
// taken, as it would with a store that lost the release.
func (h *Handler) release(ctx context.Context, key string, rules []Rule, costs []int64) {
	err := h.store.Release(context.WithoutCancel(ctx), key, rules, costs, time.Now())
	if err != nil && !errors.Is(err, context.Canceled) {
		h.metrics.storeFailures.Inc()
		h.logger.LogAttrs(ctx, slog.LevelWarn, "store failed to release", slog.String("key", key), slog.String("error", err.Error()))
	}
}

// routeLabel is the route of logs and metrics: the pattern, or "other".
func routeLabel(route string) string {
	if route == "" {
		return otherRoute
	}
	return route
}

// resizeCosts returns s with length n, reusing its array when it is large enough.
func resizeCosts(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n)
	}
	return s[:n]
}
