package baton

import "time"

// Kinds of dead letter.
const (
	DeadTask     = "task"     // a queued task archived after its last retry
	DeadDelivery = "delivery" // a reply whose delivery gave up
	DeadTurn     = "turn"     // a turn that failed its last allowed attempt
)

// DeadLetter is work that failed for good, for an operator to retry or discard. Its ID names
// the kind: "task:<queue role>:<task id>" (role chat or background), "delivery:<message id>",
// "turn:<failure id>".
type DeadLetter struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	Error          string    `json:"error"`
	Attempts       int       `json:"attempts"`
	FailedAt       time.Time `json:"failed_at"`
	ConversationID int64     `json:"conversation_id,omitempty"`
	MessageID      int64     `json:"message_id,omitempty"`
	Queue          string    `json:"queue,omitempty"`     // tasks
	TaskType       string    `json:"task_type,omitempty"` // tasks
	// HandedOff: a failed turn whose conversation went to people (retry does not apply).
	HandedOff bool `json:"handed_off,omitempty"`
}

// BulkResult says what a bulk retry or discard of dead letters did.
type BulkResult struct {
	Done   []string          `json:"done"`
	Failed map[string]string `json:"failed"` // id → why not
}
