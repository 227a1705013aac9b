package app

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// llmMetrics count what the turns' model calls cost and how they ended.
type llmMetrics struct {
	tokens *prometheus.CounterVec
	turns  *prometheus.CounterVec
	prompt prometheus.Histogram
}

func newLLMMetrics(reg prometheus.Registerer) *llmMetrics {
	m := &llmMetrics{
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_llm_tokens_total",
			Help: "Tokens the turns' LLM calls used, by kind (prompt, completion)."}, []string{"kind"}),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_llm_turns_total",
			Help: "Turns by what wrote the reply: model, or the local reply after error, rejected, budget or skipped."}, []string{"outcome"}),
		prompt: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "baton_llm_prompt_tokens",
			Help: "Prompt tokens of one turn's LLM call.", Buckets: prometheus.ExponentialBuckets(250, 2, 8)}),
	}
	reg.MustRegister(m.tokens, m.turns, m.prompt)
	return m
}

// observe is bot.ModelOptions.Observe.
func (m *llmMetrics) observe(outcome string, prompt, completion int) {
	m.turns.WithLabelValues(outcome).Inc()
	if prompt+completion == 0 {
		return
	}
	m.tokens.WithLabelValues("prompt").Add(float64(prompt))
	m.tokens.WithLabelValues("completion").Add(float64(completion))
	m.prompt.Observe(float64(prompt))
}

// backlogCollector reports, at each scrape, the asynq queues' depth and lag and the outbox
// rows not yet relayed (a backlog that grows means the relay or Redis is down).
type backlogCollector struct {
	a                         *App
	insp                      *asynq.Inspector
	depth, lag, archived, box *prometheus.Desc
}

func newBacklogCollector(a *App) *backlogCollector {
	// Shares the app's Redis client: closed with the app.
	return &backlogCollector{a: a, insp: asynq.NewInspectorFromRedisClient(a.Redis),
		depth:    prometheus.NewDesc("baton_queue_depth", "Tasks in an asynq queue by state (pending, active, scheduled, retry).", []string{"queue", "state"}, nil),
		lag:      prometheus.NewDesc("baton_queue_lag_seconds", "Age of the oldest pending task of an asynq queue.", []string{"queue"}, nil),
		archived: prometheus.NewDesc("baton_queue_archived", "Tasks asynq archived after their last retry (dead letters).", []string{"queue"}, nil),
		box:      prometheus.NewDesc("baton_outbox_backlog", "Outbox rows not yet relayed to the queue.", nil, nil),
	}
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.lag
	ch <- c.archived
	ch <- c.box
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, q := range []string{c.a.Queues.Chat, c.a.Queues.Background} {
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			continue // no such queue yet, or Redis is down: nothing to report
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled, "retry": info.Retry} {
			ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), q, state)
		}
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, info.Latency.Seconds(), q)
		ch <- prometheus.MustNewConstMetric(c.archived, prometheus.GaugeValue, float64(info.Archived), q)
	}
	if n, err := c.a.DB.OutboxBacklog(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(c.box, prometheus.GaugeValue, float64(n))
	}
}
