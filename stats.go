package baton

// StatsDay is one day of the async-messaging metrics (GET /v1/stats). Averages are null on a
// day without anything to average.
type StatsDay struct {
	Day           string `json:"day"`           // YYYY-MM-DD, UTC
	Conversations int    `json:"conversations"` // episodes opened (a first message, or a message after a resolve)
	// Time from an episode's first customer message to the first public bot reply, and from a
	// handoff to the first agent reply.
	FirstResponseBotSeconds   *float64 `json:"first_response_bot_seconds"`
	FirstResponseHumanSeconds *float64 `json:"first_response_human_seconds"`
	// Episodes resolved that day without a handoff and not reopened within 24 h: resolved
	// explicitly (confirmed) or by idling after the bot's last answer (assumed).
	BotResolvedConfirmed int            `json:"bot_resolved_confirmed"`
	BotResolvedAssumed   int            `json:"bot_resolved_assumed"`
	Handoffs             map[string]int `json:"handoffs"`     // by reason
	HandoffRate          *float64       `json:"handoff_rate"` // handoffs / conversations
	QueueWaitSeconds     *float64       `json:"queue_wait_seconds"`
	// Agent work time (see the README for the definition) against the elapsed time from
	// handoff to resolve.
	AgentWorkSeconds         float64  `json:"agent_work_seconds"`
	ResolutionElapsedSeconds *float64 `json:"resolution_elapsed_seconds"`
	// The most conversations each agent held at once that day, averaged over the agents.
	ConcurrentPerAgent *float64 `json:"concurrent_per_agent"`
	CSATBot            *float64 `json:"csat_bot"`
	CSATHuman          *float64 `json:"csat_human"`
}
