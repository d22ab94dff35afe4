package queue

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"
)

// Stats is a snapshot of the queue for operators.
type Stats struct {
	// ByState counts the reconcile jobs in each River state.
	ByState map[rivertype.JobState]int64
	// DeadLetters counts the jobs in the dead-letter states.
	DeadLetters int64
	// OldestPending is when the longest-waiting key got its first
	// unhandled event (zero when none waits).
	OldestPending time.Time
}

// Stats counts the queue's jobs by state.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	st := Stats{ByState: map[rivertype.JobState]int64{}}
	for _, s := range rivertype.JobStates() {
		st.ByState[s] = 0
	}
	rows, err := q.st.Q().Query(ctx, `SELECT state, COUNT(*) FROM river_job WHERE kind = $1 GROUP BY state`, KindReconcile)
	if err != nil {
		return st, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return st, fmt.Errorf("count jobs: %w", err)
		}
		st.ByState[rivertype.JobState(state)] = n
		if slices.Contains(deadStates, rivertype.JobState(state)) {
			st.DeadLetters += n
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("count jobs: %w", err)
	}
	if st.OldestPending, err = q.st.OldestPending(ctx); err != nil {
		return st, err
	}
	return st, nil
}

// statsCollector exports Stats as Prometheus gauges, read from the
// database at each scrape (bounded by a short timeout). Labels are River's
// job states only.
type statsCollector struct {
	q                   *Queue
	depth, oldest, dead *prometheus.Desc
	scrapeErrors        prometheus.Counter
}

// NewStatsCollector returns a collector of the queue's depth by state, the
// age of the oldest pending key and the number of dead letters.
func NewStatsCollector(q *Queue) prometheus.Collector {
	c := &statsCollector{
		q:      q,
		depth:  prometheus.NewDesc("tend_queue_jobs", "Reconcile jobs in the queue, by River state.", []string{"state"}, nil),
		oldest: prometheus.NewDesc("tend_queue_oldest_pending_seconds", "Age of the oldest key waiting for its run (0 when none waits).", nil, nil),
		dead:   prometheus.NewDesc("tend_queue_dead_letters", "Dead-lettered keys (discarded or cancelled jobs).", nil, nil),
		scrapeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tend_queue_stats_errors_total", Help: "Scrapes whose queue statistics could not be read.",
		}),
	}
	return c
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
	ch <- c.dead
	c.scrapeErrors.Describe(ch)
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := c.q.Stats(ctx)
	if err != nil {
		c.q.log.Warn().Err(err).Msg("reading queue statistics for /metrics")
		c.scrapeErrors.Inc()
		c.scrapeErrors.Collect(ch)
		return
	}
	for state, n := range st.ByState {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), string(state))
	}
	age := 0.0
	if !st.OldestPending.IsZero() {
		age = max(0, c.q.st.Now().Sub(st.OldestPending).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(st.DeadLetters))
	c.scrapeErrors.Collect(ch)
}
