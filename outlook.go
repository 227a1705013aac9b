package baton

import (
	"encoding/json"
	"time"
)

// TeamOutlook is what the bot tells a customer it hands off, read for the team the handoff
// goes to: whether the team works now and how long people are taking.
type TeamOutlook struct {
	TeamID int64
	Team   string
	// Hours is the team's schedule (the handoff package's Calendar JSON); empty: always open.
	Hours json.RawMessage
	// QueueAhead counts the team's handoffs waiting for a person.
	QueueAhead int
	// Online counts the team's online agents, FreeSlots their free capacity.
	Online, FreeSlots int
	// Handling holds how long the team's recent handoffs took from assignment to resolve.
	Handling []time.Duration
}
