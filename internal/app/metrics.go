package app

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton/internal/postgres"
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

// loopSwitches are the bot's switches with loop detection: the same one statement per turn
// (postgres.DB.BotSwitchesLoop), and a metric of the conversations it stopped.
type loopSwitches struct {
	db    *postgres.DB
	rule  postgres.LoopRule
	loops prometheus.Counter
	log   *slog.Logger
}

func newLoopSwitches(db *postgres.DB, rule postgres.LoopRule, reg prometheus.Registerer, log *slog.Logger) *loopSwitches {
	s := &loopSwitches{db: db, rule: rule, log: log, loops: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_bot_loops_total",
		Help: "Conversations the bot stopped answering because they looked like another bot (too many messages, or the same text again and again)."})}
	reg.MustRegister(s.loops)
	return s
}

// BotSwitches implements bot.Switches: a detected loop mutes the conversation.
func (s *loopSwitches) BotSwitches(ctx context.Context, convID int64) (paused, muted bool, err error) {
	paused, muted, looped, err := s.db.BotSwitchesLoop(ctx, convID, s.rule)
	if looped {
		s.loops.Inc()
		s.log.WarnContext(ctx, "bot loop detected, conversation muted", "conversation_id", convID)
	}
	return paused, muted, err
}
