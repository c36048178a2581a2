package mockserver

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metric names. Every Handler has its own registry, so many handlers can live in one process (one test binary)
// without their series colliding.
const (
	metricRequests      = "mockserver_requests_total"
	metricWaitSeconds   = "mockserver_wait_seconds"
	metricKeys          = "mockserver_keys"
	metricStoreFailures = "mockserver_store_failures_total"
	metricInvalid       = "mockserver_invalid_requests_total"
	metricFaults        = "mockserver_faults_total"
	metricEvictions     = "mockserver_store_evictions_total"
	metricClientGone    = "mockserver_client_gone_total"
)

// evictingStore is a Store with a capacity, which counts the states it evicted to stay within it
// (MemoryStore.Evictions).
type evictingStore interface {
	Evictions() uint64
}

// Request results, as the "result" label of mockserver_requests_total.
const (
	resultAllowed  = 0
	resultRejected = 1
)

// Reasons of mockserver_invalid_requests_total.
const (
	reasonMissingKey = "missing_key"
	reasonBadCost    = "bad_cost"
)

// metrics are a Handler's Prometheus collectors. The request counters are created up front, one per (tier,
// route, rule, result), so the request path indexes a slice instead of hashing labels, and every series is
// exported from the start (at 0).
type metrics struct {
	registry *prometheus.Registry
	handler  http.Handler

	requests      [][]prometheus.Counter   // [tier][((route+1)*len(rules)+rule)*2+result]
	waits         [][2]prometheus.Observer // [tier][0: retry_after, 1: delay]
	storeFailures prometheus.Counter
	clientGone    prometheus.Counter
	invalid       map[string]prometheus.Counter
	faultError    prometheus.Counter
	faultDrop     prometheus.Counter
	faultLatency  prometheus.Counter
}

// newMetrics registers the collectors of a handler with plan p and store s in a new registry.
func newMetrics(p *plan, s Store) *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricRequests,
		Help: "Rate-limited requests by tier, route, binding rule, its algorithm, and result (allowed or rejected).",
	}, []string{"tier", "route", "rule", "algorithm", "result"})
	waits := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    metricWaitSeconds,
		Help:    "Waits handed out: Retry-After of rejections (kind=retry_after), queue delays of allowed requests (kind=delay).",
		Buckets: []float64{0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 86400},
	}, []string{"tier", "kind"})
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricStoreFailures,
		Help: "Requests whose store decision failed, by what the server did (fail-open: served; fail-closed: 503).",
	}, []string{"mode"})
	invalid := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricInvalid,
		Help: "Requests refused before rate limiting: missing_key (401) or bad_cost (400).",
	}, []string{"reason"})
	faults := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricFaults,
		Help: "Injected faults by kind: error (5xx instead of serving), drop (connection dropped), latency (response delayed).",
	}, []string{"fault"})
	keys := &keysCollector{store: s, desc: prometheus.NewDesc(metricKeys, "(rule, key) states the store holds now.", nil, nil)}
	m.clientGone = prometheus.NewCounter(prometheus.CounterOpts{
		Name: metricClientGone,
		Help: "Requests whose client went away while the store decided (not store failures).",
	})
	m.registry.MustRegister(requests, waits, failures, invalid, faults, keys, m.clientGone)
	if es, ok := s.(evictingStore); ok {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: metricEvictions,
			Help: "States the store forgot while still in use, least recently used first, to stay within its capacity.",
		}, func() float64 { return float64(es.Evictions()) }))
	}

	routes := make([]string, 1+len(p.routes.routes))
	routes[0] = otherRoute
	for i, r := range p.routes.routes {
		routes[i+1] = r.Pattern
	}
	for _, t := range p.tiers {
		cs := make([]prometheus.Counter, 0, len(routes)*len(t.rules)*2)
		for _, route := range routes {
			for _, r := range t.rules {
				cs = append(cs,
					requests.WithLabelValues(t.name, route, r.Name, r.Algorithm, "allowed"),
					requests.WithLabelValues(t.name, route, r.Name, r.Algorithm, "rejected"))
			}
		}
		m.requests = append(m.requests, cs)
		m.waits = append(m.waits, [2]prometheus.Observer{
			waits.WithLabelValues(t.name, "retry_after"), waits.WithLabelValues(t.name, "delay")})
	}
	mode := FailOpen
	if p.failClosed {
		mode = FailClosed
	}
	m.storeFailures = failures.WithLabelValues(mode)
	m.invalid = map[string]prometheus.Counter{
		reasonMissingKey: invalid.WithLabelValues(reasonMissingKey),
		reasonBadCost:    invalid.WithLabelValues(reasonBadCost),
	}
	m.faultError = faults.WithLabelValues("error")
	m.faultDrop = faults.WithLabelValues("drop")
	m.faultLatency = faults.WithLabelValues("latency")
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
	return m
}

// request counts one rate-limited request of tier t on route (-1: none) whose binding rule is rule.
func (m *metrics) request(t *tierPlan, tier, route, rule, result int) {
	m.requests[tier][((route+1)*t.ruleCount()+t.ruleIndex(rule))*2+result].Inc()
}

// keysCollector reports the store's Len at every scrape.
type keysCollector struct {
	store Store
	desc  *prometheus.Desc
}

var _ prometheus.Collector = (*keysCollector)(nil)

// Describe implements prometheus.Collector.
func (c *keysCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector. A failing store leaves the gauge out of this scrape rather than
// failing the whole scrape.
func (c *keysCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.store.Len(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
