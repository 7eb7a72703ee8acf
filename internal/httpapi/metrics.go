package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the HTTP metrics of one server. It registers on a registry of
// its own rather than Prometheus' global one, so that two servers in one test
// process do not collide.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics creates the HTTP metrics together with the Go runtime and process
// collectors on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_http_requests_total",
			Help: "HTTP requests served, by dialect, route pattern and status code.",
		}, []string{"dialect", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by dialect and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"dialect", "route"}),
	}
	m.reg.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where other parts of the server register their own metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) observe(dialect, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(dialect, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(dialect, route).Observe(d.Seconds())
}

// ObserveCache exports the response cache's counters with the HTTP metrics:
// its hit rate is what tells whether --response-cache-bytes is large
// enough. A nil cache exports nothing.
func (m *Metrics) ObserveCache(c *ResponseCache) {
	if c == nil {
		return
	}
	count := func(name, help string, v func(CacheStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(c.Stats())) })
	}
	m.reg.MustRegister(
		count("switchboard_http_cache_hits_total", "Reads answered from the response cache (304s included).",
			func(s CacheStats) int64 { return s.Hits }),
		count("switchboard_http_cache_misses_total", "Reads of cached routes that had to be made.",
			func(s CacheStats) int64 { return s.Misses }),
		count("switchboard_http_cache_not_modified_total", "Reads answered 304 Not Modified from the response cache.",
			func(s CacheStats) int64 { return s.NotModified }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_http_cache_bytes", Help: "Memory the response cache holds, in bytes."},
			func() float64 { return float64(c.Stats().Bytes) }))
}
