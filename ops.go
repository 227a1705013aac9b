package baton

import "time"

// LoopFlag is a conversation the bot stopped answering because it looked like another bot
// talking to it (too many messages, or the same text again and again).
type LoopFlag struct {
	ConversationID int64     `json:"conversation_id"`
	DetectedAt     time.Time `json:"detected_at"`
	Muted          bool      `json:"muted"` // still muted: unmuting lets the bot answer again
	Channel        string    `json:"channel"`
}

// Erasure is what erasing a customer removed, as the anonymous counters kept in its place.
type Erasure struct {
	CustomerID    int64  `json:"customer_id"`
	Channel       string `json:"channel"`
	Conversations int    `json:"conversations"`
	Episodes      int    `json:"episodes"`
	Messages      int    `json:"messages"`
	Handoffs      int    `json:"handoffs"`
}
