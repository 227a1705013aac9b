package baton

import (
	"encoding/json"
	"time"
)

// QueueItem is a conversation waiting for a person, as the agent queue lists it.
type QueueItem struct {
	ID           int64         `json:"id"` // the conversation
	HandoffID    int64         `json:"handoff_id"`
	Priority     int           `json:"priority"`
	WaitingSince time.Time     `json:"waiting_since"`
	Team         string        `json:"team"`
	Reason       HandoffReason `json:"reason"`
	Summary      string        `json:"summary"`
	SLADueAt     *time.Time    `json:"sla_due_at"`
	Channel      string        `json:"channel"`
	CustomerName string        `json:"customer_name,omitempty"`
}

// HandoffView is the handoff package shown at the top of a conversation: what an agent needs
// to start without reading the transcript.
type HandoffView struct {
	ID             int64             `json:"id"`
	Reason         HandoffReason     `json:"reason"`
	Summary        string            `json:"summary"`
	Details        map[string]string `json:"details"`
	Sentiment      any               `json:"sentiment"`
	NextStep       string            `json:"next_step"`
	Priority       int               `json:"priority"`
	Team           string            `json:"team"`
	SLADueAt       *time.Time        `json:"sla_due_at"`
	WaitingSince   time.Time         `json:"waiting_since"`
	AssignedUserID *int64            `json:"assigned_user_id"`
	AssignedAt     *time.Time        `json:"assigned_at,omitempty"`
	// Package is the whole package as written by the handoff package (LLM-written or extractive).
	Package json.RawMessage `json:"package,omitempty"`
}

// Transfer says where a conversation goes: to one agent, or to a team's queue.
type Transfer struct {
	UserID int64  `json:"user_id,omitempty"`
	Team   string `json:"team,omitempty"`
}

// Assignment is one conversation given to an agent.
type Assignment struct {
	ConversationID int64 `json:"conversation_id"`
	HandoffID      int64 `json:"handoff_id"`
	UserID         int64 `json:"user_id"`
	TeamID         int64 `json:"team_id"`
}

// CannedReply is a reply agents insert by shortcut; admins manage them.
type CannedReply struct {
	ID        int64     `json:"id"`
	Shortcut  string    `json:"shortcut"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	TeamID    *int64    `json:"team_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AgentMessage is a message people write into a conversation: a public reply, delivered like
// the bot's, or an internal note, never delivered.
type AgentMessage struct {
	ConversationID int64
	Author         Author // agent or system
	UserID         int64  // the writing agent; 0 for system messages
	Visibility     Visibility
	Text           string
}
