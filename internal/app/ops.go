package app

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton/internal/postgres"
)

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

// Retention is the configured retention per data kind.
func (a *App) Retention() postgres.Retention {
	c := a.Config
	return postgres.Retention{Messages: c.RetainMessages, Traces: c.RetainTraces, Outbox: c.RetainOutbox,
		Audit: c.RetainAudit, Sessions: c.RetainSessions}
}
