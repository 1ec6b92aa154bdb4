package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"
)

// metrics holds the server's Prometheus collectors. It is also a gqlgen
// extension that counts and times every GraphQL operation.
type metrics struct {
	gatherer     prometheus.Gatherer
	shared       prometheus.Counter
	operations   *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	httpRequests *prometheus.CounterVec
	httpLatency  *prometheus.HistogramVec
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*metrics)(nil)

// LatencyBuckets spans a cached read (0.5 ms) to a stalled request (2.5 s).
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// newMetrics registers the server's collectors on reg (a fresh registry
// when nil), plus the Go runtime and process collectors.
func newMetrics(reg *prometheus.Registry, s *Server) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	// A workspace's collectors carry its id; so do the default's when
	// there are workspaces (a metric's label names must agree).
	var r prometheus.Registerer = reg
	switch {
	case s.cfg.Workspace != "":
		r = prometheus.WrapRegistererWith(prometheus.Labels{"workspace": s.cfg.Workspace}, reg)
	case len(s.cfg.Workspaces) > 0:
		r = prometheus.WrapRegistererWith(prometheus.Labels{"workspace": "default"}, reg)
	}
	if s.cfg.Workspace == "" {
		// The Go collector's defaults plus the scheduler's: run-queue
		// latency (go_sched_latencies_seconds) is what a CPU-starved
		// node shows first. The process's, registered once.
		reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler)),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		gatherer: reg,
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "confab_graphql_operations_total",
			Help: "GraphQL operations (and subscription events) by type, root field and outcome code.",
		}, []string{"type", "field", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "confab_graphql_operation_duration_seconds",
			Help:    "Time to produce a query or mutation result, by root field.",
			Buckets: LatencyBuckets,
		}, []string{"field"}),
	}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "confab_http_requests_total",
		Help: "HTTP requests (not WebSocket upgrades) by route pattern and status.",
	}, []string{"route", "status"})
	m.httpLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "confab_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request (not WebSocket upgrades), by route pattern.",
		Buckets: LatencyBuckets,
	}, []string{"route"})
	m.shared = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "confab_realtime_shared_results_total",
		Help: "Subscription results served from another subscription's rendering of the same event (same document and variables).",
	})
	r.MustRegister(
		m.shared,
		m.httpRequests,
		m.httpLatency,
		subscriptionsCollector{s},
		m.operations,
		m.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "confab_realtime_connections",
			Help:        "Live WebSocket connections by protocol.",
			ConstLabels: prometheus.Labels{"protocol": "graphql-transport-ws"},
		}, func() float64 { return float64(s.hub.Len("graphql-transport-ws")) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "confab_realtime_connections",
			Help:        "Live WebSocket connections by protocol.",
			ConstLabels: prometheus.Labels{"protocol": "appsync"},
		}, func() float64 { return float64(s.hub.Len("appsync")) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "confab_messages_stored_total", Help: "Messages stored by sendMessage (idempotent retries not counted)."},
			func() float64 { return float64(s.chat.Stats().Stored) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "confab_broker_errors_total", Help: "Failed broker publishes and subscribes."},
			func() float64 { return float64(s.chat.Stats().BrokerErrors) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "confab_events_published_total", Help: "Events handed to the broker after a commit."},
			func() float64 { return float64(s.chat.Stats().Published) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "confab_events_delivered_total", Help: "Events queued to subscribers, after filtering and ordering."},
			func() float64 { return float64(s.chat.Stats().Delivered) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "confab_subscribers_evicted_total", Help: "Subscribers disconnected as too slow (they resume with afterSeq)."},
			func() float64 { return float64(s.chat.Stats().Evicted) }),
	)
	return m
}

// metricsHandler serves the Prometheus exposition, behind
// cfg.MetricsToken when one is set.
func (s *Server) metricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.metrics.gatherer, promhttp.HandlerOpts{})
	if s.cfg.MetricsToken == "" {
		return h
	}
	want := []byte("Bearer " + s.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{
				"code": string(confab.CodeUnauthenticated), "message": "GET /metrics needs Authorization: Bearer <--metrics-token>."}})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ExtensionName implements graphql.HandlerExtension.
func (*metrics) ExtensionName() string { return "ConfabMetrics" }

// Validate implements graphql.HandlerExtension.
func (*metrics) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor.
func (m *metrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if resp == nil || !graphql.HasOperationContext(ctx) {
		return resp
	}
	oc := graphql.GetOperationContext(ctx)
	typ, field := "unknown", "unknown"
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		if len(oc.Operation.SelectionSet) > 0 {
			if f, ok := oc.Operation.SelectionSet[0].(*ast.Field); ok {
				field = f.Name
			}
		}
	}
	code := "OK"
	if len(resp.Errors) > 0 {
		code = string(confab.CodeInternal)
		if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
			code = c
		}
	}
	m.operations.WithLabelValues(typ, field, code).Inc()
	setLogOperation(ctx, typ+" "+field, code)
	if typ != string(ast.Subscription) {
		m.latency.WithLabelValues(field).Observe(time.Since(start).Seconds())
	}
	return resp
}

// observeHTTP counts one answered request. pattern is the mux's route
// ("" when none matched), so the label set stays bounded.
func (m *metrics) observeHTTP(pattern string, status int, took time.Duration) {
	if pattern == "" {
		pattern = "unmatched"
	}
	m.httpRequests.WithLabelValues(pattern, strconv.Itoa(status)).Inc()
	m.httpLatency.WithLabelValues(pattern).Observe(took.Seconds())
}

// subscriptionsCollector reports the hub's live subscriptions by root field
// at scrape time.
type subscriptionsCollector struct{ s *Server }

var subscriptionsDesc = prometheus.NewDesc("confab_realtime_subscriptions",
	"Live subscriptions on WebSocket connections, by root field.", []string{"field"}, nil)

// Describe implements prometheus.Collector.
func (subscriptionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- subscriptionsDesc }

// Collect implements prometheus.Collector.
func (c subscriptionsCollector) Collect(ch chan<- prometheus.Metric) {
	for field, n := range c.s.hub.Subscriptions() {
		ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, float64(n), field)
	}
}

// observeShared counts a subscription result served from another
// subscription's rendering (realtime.Config.OnShared): as an operation
// event, like the ones the executor renders, and as a shared one.
func (m *metrics) observeShared(field string) {
	m.operations.WithLabelValues(string(ast.Subscription), field, "OK").Inc()
	m.shared.Inc()
}
