package baton

import (
	"encoding/json"
	"errors"
	"time"
)

// Sender is the customer as a channel describes them.
type Sender struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Inbound is a normalised inbound message from any channel.
type Inbound struct {
	Channel    string
	Sender     Sender
	ExternalID string
	Text       string
	SentAt     *time.Time // the provider's timestamp, when it gives one
}

// IngestResult says where an inbound message was stored. Duplicate is true when the channel
// retried a message Baton already had; nothing new was stored then.
type IngestResult struct {
	ConversationID int64 `json:"conversation_id"`
	MessageID      int64 `json:"message_id"`
	Duplicate      bool  `json:"-"`
	// CSAT is true when the message was a satisfaction score answering a resolve: recorded, the
	// conversation stays resolved and no turn runs.
	CSAT bool `json:"-"`
}

// Task kinds written to the outbox and run by workers.
const (
	TaskTurn    = "turn"
	TaskDeliver = "deliver"
)

// TaskPayload is the payload of turn and deliver tasks.
type TaskPayload struct {
	ConversationID int64 `json:"conversation_id"`
	MessageID      int64 `json:"message_id"`
	// Live: the customer watches the conversation live (the web chat), so the turn's start and
	// end are published for the processing indicator; other channels are spared the cost.
	Live bool `json:"live,omitempty"`
}

// TaskPayloadVersion is the version of the task payloads this build writes (as "v"). A payload
// without "v" is version 1. Workers decode every version up to their own, so that a rolling
// upgrade can run old and new workers on one queue (internal/queue.DecodeTask).
const TaskPayloadVersion = 1

// MarshalJSON writes the payload with its version.
func (p TaskPayload) MarshalJSON() ([]byte, error) {
	type plain TaskPayload
	return json.Marshal(struct {
		V int `json:"v"`
		plain
	}{TaskPayloadVersion, plain(p)})
}

// OutboxRow is a task waiting to be relayed to the queue.
type OutboxRow struct {
	ID      int64
	Kind    string
	TaskID  string
	Payload json.RawMessage
	RunAt   time.Time
}

// Lease is a claimed right to run the next turn of a conversation. Token grows with every
// claim; a write that carries a stale token is refused (fencing).
type Lease struct {
	ConversationID int64
	Owner          string
	Token          int64
}

// ErrLeaseLost means another turn now owns the conversation: this turn must not write.
var ErrLeaseLost = errors.New("turn lease lost")

// Debounce is what a turn task reads before it runs.
type Debounce struct {
	Answered  bool          // the message was already answered (or is gone)
	Newer     bool          // a newer unanswered message arrived within the window: its task runs the turn
	Early     time.Duration // the queue ran the task this long before the window closed
	LeaseFree bool          // no turn of the conversation is running
}

// ErrLeaseBusy means another turn of the conversation is running.
var ErrLeaseBusy = errors.New("turn lease busy")

// TurnState is what a turn reads before deciding: the conversation, its unanswered customer
// messages (in order) and recent history, and its lease as read.
type TurnState struct {
	Conversation Conversation
	Pending      []Message // unprocessed customer messages, oldest first
	History      []Message // recent earlier messages, oldest first
	// Token is the conversation's fencing token when read; a turn that commits without a lease
	// commits only if it is unchanged (no other turn claimed or committed meanwhile).
	Token      int64
	LeaseUntil *time.Time // a running turn's lease expiry, if any
}

// Debounce says whether the turn task of message msgID should run now, given the burst window.
func (st TurnState) Debounce(msgID int64, window time.Duration, now time.Time) Debounce {
	d := Debounce{Answered: true, LeaseFree: st.LeaseUntil == nil || !st.LeaseUntil.After(now)}
	for _, m := range st.Pending {
		switch {
		case m.ID == msgID:
			d.Answered = false
			d.Early = max(0, m.CreatedAt.Add(window).Sub(now))
		case m.ID > msgID && m.CreatedAt.After(now.Add(-window)):
			d.Newer = true
		}
	}
	return d
}

// Reply is a message the bot (or the system) decided to send.
type Reply struct {
	Author     Author
	Visibility Visibility
	Text       string
	Citations  []Citation
	Meta       map[string]any
}

// TaskRequest is a task a turn asks for: written to the outbox in the turn's transaction, so
// it runs if and only if the turn committed. TaskID makes it idempotent (derive it from domain
// ids); RunAt zero means now.
type TaskRequest struct {
	Kind    string
	TaskID  string
	Payload json.RawMessage
	RunAt   time.Time
}

// TurnCommit is what committing a turn stored.
type TurnCommit struct {
	Replies []int64 // the stored replies, in order
	// Held are the public replies stored pending rather than claimed for sending: an earlier
	// reply of the conversation is still undelivered, and they must not overtake it.
	Held []int64
	// Pending is the newest customer message still unanswered after the turn (it arrived during
	// the turn), or 0.
	Pending int64
}

// TurnOutcome is everything one turn writes, in one transaction.
type TurnOutcome struct {
	Replies   []Reply
	Processed []int64                  // customer messages this turn answered
	Meta      map[int64]map[string]any // per customer message: what was understood
	Details   map[string]string        // merged into the conversation's gathered details
	Status    ConversationStatus       // new status; "" keeps it
	Sentiment *float64                 // new sentiment trend
	State     *ConversationState       // the bot's new state; nil keeps it
	Summary   *string                  // a refreshed running summary; nil keeps it
	Handoff   *Handoff                 // a handoff this turn decided (Status is then queued)
	Tasks     []TaskRequest            // background work to enqueue with the turn, atomically
	Trace     map[string]any
	StartedAt time.Time
}

// Outbound is a reply ready for a channel to send.
type Outbound struct {
	MessageID      int64      `json:"message_id"`
	ConversationID int64      `json:"conversation_id"`
	Channel        string     `json:"-"`
	RecipientID    string     `json:"-"`
	Text           string     `json:"text"`
	Author         Author     `json:"author"`
	Citations      []Citation `json:"citations"`
	Visibility     Visibility `json:"-"`
	State          DeliveryState
	Attempts       int
}

// DeliveryUpdate records one delivery attempt's result, or a provider's later news.
type DeliveryUpdate struct {
	MessageID int64
	// State is the state reached. Sent and later states apply whenever they move forward;
	// pending and unknown (try again) apply only to the attempt that still holds the claim.
	State DeliveryState
	// Attempt is the claim this result settles (the reply's attempt count when claimed); 0
	// for news that settles no attempt.
	Attempt int
	// NextAttemptAt is when a pending or unknown reply is tried again; zero = never (given up).
	NextAttemptAt time.Time
	Error         string
}
