// Package baton holds Baton's domain vocabulary: conversations, messages, customers, users and
// the error kinds every layer shares. It depends on the standard library only.
package baton

import "time"

// ConversationStatus says who is answering a conversation.
type ConversationStatus string

const (
	StatusBot      ConversationStatus = "bot"      // the bot answers
	StatusQueued   ConversationStatus = "queued"   // handed off, waiting for an agent
	StatusAgent    ConversationStatus = "agent"    // an agent owns it; the bot stays silent
	StatusResolved ConversationStatus = "resolved" // the current episode is closed
)

// Valid reports whether s is a known status.
func (s ConversationStatus) Valid() bool {
	switch s {
	case StatusBot, StatusQueued, StatusAgent, StatusResolved:
		return true
	}
	return false
}

// Author is who wrote a message.
type Author string

const (
	AuthorCustomer Author = "customer"
	AuthorBot      Author = "bot"
	AuthorAgent    Author = "agent"
	AuthorSystem   Author = "system"
)

// Visibility decides whether a message may ever leave Baton. Internal notes are never delivered.
type Visibility string

const (
	Public   Visibility = "public"
	Internal Visibility = "internal"
)

// DeliveryState is the monotonic delivery state of an outbound message.
type DeliveryState string

const (
	DeliveryPending     DeliveryState = "pending"
	DeliverySending     DeliveryState = "sending"
	DeliverySent        DeliveryState = "sent"
	DeliveryDelivered   DeliveryState = "delivered"
	DeliveryRead        DeliveryState = "read"
	DeliveryUnknown     DeliveryState = "unknown"     // timed out after sending; reconciled per provider
	DeliveryFailed      DeliveryState = "failed"      // terminal: the provider refused it
	DeliveryUndelivered DeliveryState = "undelivered" // terminal: accepted, then not delivered
)

// deliveryRank orders states so that a state only ever moves forward.
var deliveryRank = map[DeliveryState]int{
	DeliveryPending:     0,
	DeliverySending:     1,
	DeliveryUnknown:     2,
	DeliverySent:        3,
	DeliveryDelivered:   4,
	DeliveryRead:        5,
	DeliveryFailed:      6,
	DeliveryUndelivered: 6,
}

// DeliveryRank returns the position of s in the delivery state machine, or -1 if s is unknown.
func DeliveryRank(s DeliveryState) int {
	r, ok := deliveryRank[s]
	if !ok {
		return -1
	}
	return r
}

// Advances reports whether moving from s to next goes forward. Terminal states never move.
func (s DeliveryState) Advances(next DeliveryState) bool {
	from, to := DeliveryRank(s), DeliveryRank(next)
	if from < 0 || to < 0 || from >= 6 {
		return false
	}
	return to > from
}

// Customer is a person writing in over a channel.
type Customer struct {
	ID         int64          `json:"id"`
	Channel    string         `json:"channel"`
	ExternalID string         `json:"external_id"`
	Name       string         `json:"name,omitempty"`
	Email      string         `json:"email,omitempty"`
	Phone      string         `json:"phone,omitempty"`
	Timezone   string         `json:"timezone"`
	Locale     string         `json:"locale"`
	Attributes map[string]any `json:"attributes,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
}

// Conversation is the single, never-ending thread between Baton and one customer on a channel.
type Conversation struct {
	ID             int64              `json:"id"`
	Status         ConversationStatus `json:"status"`
	Channel        string             `json:"channel"`
	Customer       Customer           `json:"customer"`
	TeamID         *int64             `json:"team_id,omitempty"`
	AssignedUserID *int64             `json:"assigned_user_id,omitempty"`
	Priority       int                `json:"priority"`
	SentimentTrend float64            `json:"sentiment_trend"`
	Details        map[string]string  `json:"details"`
	Summary        string             `json:"summary,omitempty"`
	State          ConversationState  `json:"state"`
	Episode        int                `json:"episode"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
	Messages       []Message          `json:"messages,omitempty"`
}

// Citation points at the knowledge chunk an answer used.
type Citation struct {
	ArticleID int64  `json:"article_id"`
	ChunkID   int64  `json:"chunk_id"`
	Title     string `json:"title"`
	URL       string `json:"url,omitempty"`
}

// Delivery is the delivery record of an outbound message.
type Delivery struct {
	State     DeliveryState `json:"state"`
	Attempts  int           `json:"attempts"`
	LastError string        `json:"last_error,omitempty"`
}

// Message is one message of a conversation, in either direction.
type Message struct {
	ID             int64          `json:"id"`
	ConversationID int64          `json:"conversation_id"`
	Episode        int            `json:"episode"`
	Author         Author         `json:"author"`
	Visibility     Visibility     `json:"visibility"`
	Text           string         `json:"text"`
	ExternalID     string         `json:"external_id,omitempty"`
	SentAt         *time.Time     `json:"sent_at,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
	Delivery       *Delivery      `json:"delivery,omitempty"`
	Citations      []Citation     `json:"citations,omitempty"`
	Meta           map[string]any `json:"meta,omitempty"`
}

// ConversationFilter narrows a conversation list. Teams limits an agent to their teams
// (nil = all, for admins).
type ConversationFilter struct {
	Status     ConversationStatus
	CustomerID int64
	Channel    string
	After      int64 // cursor: conversations with a smaller id (newest first)
	Limit      int
	Teams      []int64
	AllTeams   bool
}
