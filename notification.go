package baton

import (
	"encoding/json"
	"time"
)

// Notification events sent to BATON_NOTIFY_URL.
const (
	EventHandoffCreated     = "handoff.created"
	EventHandoffSLABreached = "handoff.sla_breached"
)

// Notification is one signed outbound notification, stored before it is sent (a durable
// outbox row) and retried until the receiver takes it or the notifier gives up.
type Notification struct {
	ID        int64
	Event     string
	Payload   json.RawMessage // ids and routing only, never the customer's words
	Attempts  int             // this attempt's number
	CreatedAt time.Time
}
