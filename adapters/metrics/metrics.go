// Package metrics exposes the engine's Prometheus metrics: HTTP requests,
// workflow steps, and, read from the database at scrape time, claims by
// status and outcome, the job queue's depth and the connection pool.
//
//	m := metrics.New(store.Pool())
//	http.Handle("/metrics", m.Handler())
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the engine's registry and the instruments code updates.
type Metrics struct {
	reg          *prometheus.Registry
	httpRequests *prometheus.HistogramVec
	stepRuns     *prometheus.HistogramVec
	stepRetries  *prometheus.CounterVec
	webhooks     *prometheus.HistogramVec
}

// New returns the metrics; pool, if not nil, is read at scrape time for
// claim counts, queue depth and pool statistics.
func New(pool *pgxpool.Pool, log *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "claimsd_http_request_duration_seconds",
			Help:    "HTTP requests by route, method and status, and how long they took.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
		stepRuns: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "claimsd_step_duration_seconds",
			Help:    "Workflow step runs by step and result (ok, retry), and how long they took.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"step", "result"}),
		stepRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "claimsd_step_retries_total",
			Help: "Workflow step runs that were retries of an earlier failed attempt.",
		}, []string{"step"}),
		webhooks: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "claimsd_webhook_attempts_seconds",
			Help:    "Webhook delivery attempts by outcome (delivered, failed, gone), and how long each took.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.httpRequests, m.stepRuns, m.stepRetries, m.webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if pool != nil {
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		m.reg.MustRegister(&dbCollector{pool: pool, log: log})
	}
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest records one HTTP request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// ObserveStep records one run of a workflow step; attempt counts from 1.
func (m *Metrics) ObserveStep(step string, attempt int, err error, d time.Duration) {
	result := "ok"
	if err != nil {
		result = "retry"
	}
	m.stepRuns.WithLabelValues(step, result).Observe(d.Seconds())
	if attempt > 1 {
		m.stepRetries.WithLabelValues(step).Inc()
	}
}

// ObserveWebhook records one webhook delivery attempt.
func (m *Metrics) ObserveWebhook(outcome string, d time.Duration) {
	m.webhooks.WithLabelValues(outcome).Observe(d.Seconds())
}

var (
	claimsDesc = prometheus.NewDesc("claimsd_claims", "Claims by status and decision outcome.", []string{"status", "outcome"}, nil)
	jobsDesc   = prometheus.NewDesc("claimsd_queue_jobs", "Workflow jobs by state (available, running, retryable, ...).", []string{"state"}, nil)
	poolDesc   = prometheus.NewDesc("claimsd_db_connections", "Database connections by state (acquired, idle, total, max).", []string{"state"}, nil)
	scrapeDesc = prometheus.NewDesc("claimsd_db_scrape_ok", "1 when the database could be read for these metrics.", nil, nil)
	relayDesc  = prometheus.NewDesc("claimsd_events_relay_lag_seconds",
		"Age of the oldest outbound event the relay has not numbered yet (0 when none waits).", nil, nil)
	behindDesc = prometheus.NewDesc("claimsd_events_consumer_behind",
		"Numbered outbound events a consumer (the stream, the webhooks' fan-out) has not taken yet.", []string{"consumer"}, nil)
	hooksDesc = prometheus.NewDesc("claimsd_webhook_endpoints",
		"Webhook endpoints by state (enabled, disabled). A disabled one keeps its pending deliveries; see its disabled_reason.", []string{"state"}, nil)
	deliveriesDesc = prometheus.NewDesc("claimsd_webhook_deliveries",
		"Webhook deliveries by state: pending now; delivered and failed (given up) since each endpoint was made.", []string{"state"}, nil)
	policyDesc = prometheus.NewDesc("claimsd_policy_version",
		"1 for the decision policy version that is active and the one in shadow, by version and status.", []string{"version", "status"}, nil)
	backtestsDesc = prometheus.NewDesc("claimsd_policy_backtests",
		"Policy backtests by status (queued, running, completed, failed).", []string{"status"}, nil)
	dueDesc = prometheus.NewDesc("claimsd_webhook_oldest_due_seconds",
		"How long the oldest delivery that is due (to an enabled endpoint) has waited for its attempt (0 when none is).", nil, nil)
)

// dbCollector reads counts from the database on each scrape.
type dbCollector struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- claimsDesc
	ch <- jobsDesc
	ch <- poolDesc
	ch <- scrapeDesc
	ch <- relayDesc
	ch <- behindDesc
	ch <- hooksDesc
	ch <- deliveriesDesc
	ch <- dueDesc
	ch <- policyDesc
	ch <- backtestsDesc
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	for state, v := range map[string]int32{"acquired": st.AcquiredConns(), "idle": st.IdleConns(), "total": st.TotalConns(), "max": st.MaxConns()} {
		ch <- prometheus.MustNewConstMetric(poolDesc, prometheus.GaugeValue, float64(v), state)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ok := 1.0
	if err := c.count(ctx, ch, claimsDesc, `SELECT status, decision_outcome, count(*) FROM claims GROUP BY 1, 2`, 2); err != nil {
		ok = 0
	}
	if err := c.count(ctx, ch, jobsDesc, `SELECT state::text, count(*) FROM river_job GROUP BY 1`, 1); err != nil {
		ok = 0
	}
	var lag float64
	if err := c.pool.QueryRow(ctx, `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
		FROM events WHERE position IS NULL`).Scan(&lag); err != nil {
		c.log.Warn("metrics query", "err", err)
		ok = 0
	} else {
		ch <- prometheus.MustNewConstMetric(relayDesc, prometheus.GaugeValue, max(lag, 0))
	}
	if err := c.count(ctx, ch, behindDesc, `SELECT consumer, greatest((SELECT coalesce(max(position), 0) FROM events) - position, 0)
		FROM event_cursors`, 1); err != nil {
		ok = 0
	}
	if err := c.count(ctx, ch, policyDesc, `SELECT version, status, 1 FROM policies WHERE status IN ('active', 'shadow')`, 2); err != nil {
		ok = 0
	}
	if err := c.count(ctx, ch, backtestsDesc, `SELECT status, count(*) FROM policy_backtests GROUP BY 1`, 1); err != nil {
		ok = 0
	}
	if err := c.webhooks(ctx, ch); err != nil {
		c.log.Warn("metrics query", "err", err)
		ok = 0
	}
	ch <- prometheus.MustNewConstMetric(scrapeDesc, prometheus.GaugeValue, ok)
}

// webhooks reads the endpoints' and deliveries' counts.
func (c *dbCollector) webhooks(ctx context.Context, ch chan<- prometheus.Metric) error {
	var enabled, disabled, pending, delivered, failed int64
	var due float64
	err := c.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE enabled), count(*) FILTER (WHERE NOT enabled),
		       coalesce(sum(delivered_count), 0)::bigint, coalesce(sum(failed_count), 0)::bigint,
		       (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'),
		       coalesce((SELECT extract(epoch FROM now() - min(d.next_attempt_at))::float8
		                   FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
		                  WHERE d.state = 'pending' AND d.next_attempt_at <= now()), 0)
		  FROM webhook_endpoints`).Scan(&enabled, &disabled, &delivered, &failed, &pending, &due)
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(hooksDesc, prometheus.GaugeValue, float64(enabled), "enabled")
	ch <- prometheus.MustNewConstMetric(hooksDesc, prometheus.GaugeValue, float64(disabled), "disabled")
	ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(pending), "pending")
	ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(delivered), "delivered")
	ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(failed), "failed")
	ch <- prometheus.MustNewConstMetric(dueDesc, prometheus.GaugeValue, max(due, 0))
	return nil
}

// count runs a query whose rows are labels followed by a count.
func (c *dbCollector) count(ctx context.Context, ch chan<- prometheus.Metric, desc *prometheus.Desc, query string, labels int) error {
	rows, err := c.pool.Query(ctx, query)
	if err != nil {
		c.log.Warn("metrics query", "err", err)
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]string, labels)
		dst := make([]any, labels+1)
		for i := range vals {
			dst[i] = &vals[i]
		}
		var n int64
		dst[labels] = &n
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), vals...)
	}
	return rows.Err()
}
