package queue

import "github.com/prometheus/client_golang/prometheus"

// metrics are labelled by bounded values only (key kind, outcome), never
// by key or repository.
type metrics struct {
	deliveries *prometheus.CounterVec
	keys       *prometheus.CounterVec
	runs       *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_intake_deliveries_total",
			Help: "Webhook deliveries taken in, by result (enqueued, duplicate, empty, error).",
		}, []string{"result"}),
		keys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_intake_keys_total",
			Help: "Keys enqueued, by result (inserted as a new job, collapsed into a queued or running one).",
		}, []string{"result"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_runs_total",
			Help: "Runs of keys, by key kind and outcome.",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tend_run_duration_seconds",
			Help:    "Duration of runs of keys, by key kind.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.keys, m.runs, m.duration)
	}
	return m
}
