package app

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton/internal/postgres"
)

// registerQueueGauges exposes the waiting queue on /metrics, read from PostgreSQL at scrape; a
// failed read is NaN (unknown), not zero, and logged.
func registerQueueGauges(reg prometheus.Registerer, db *postgres.DB, log *slog.Logger) {
	read := func() (float64, float64) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		depth, oldest, err := db.QueueGauge(ctx)
		if err != nil {
			log.Warn("queue gauges", "err", err)
			return math.NaN(), math.NaN()
		}
		return float64(depth), oldest.Seconds()
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "baton_handoff_queue_depth",
			Help: "Handoffs waiting for a person (queued, unassigned)."},
			func() float64 { d, _ := read(); return d }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "baton_handoff_queue_oldest_wait_seconds",
			Help: "How long the longest-waiting handoff has waited."},
			func() float64 { _, o := read(); return o }),
	)
}
