package app

import "github.com/prometheus/client_golang/prometheus"

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
