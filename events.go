package baton

import "time"

// ChannelEventKind says what a channel's inbound event carries.
type ChannelEventKind string

const (
	// ChannelMessage is a customer message to store (and usually answer).
	ChannelMessage ChannelEventKind = "message"
	// ChannelStatus is a provider's news about a reply Baton sent.
	ChannelStatus ChannelEventKind = "status"
	// ChannelBackToBot says the provider's conversation is the bot's again (Chatwoot pending).
	ChannelBackToBot ChannelEventKind = "back_to_bot"
	// ChannelHumanReply says a person of the business answered the customer from the business's
	// own phone or app: the bot pauses in that conversation (muted until someone unmutes it).
	ChannelHumanReply ChannelEventKind = "human_reply"
)

// ChannelEvent is one thing a channel's inbound request said. A request may carry many (a WhatsApp
// batch of messages and statuses).
type ChannelEvent struct {
	Kind    ChannelEventKind
	Message Inbound      // ChannelMessage
	Status  StatusUpdate // ChannelStatus
	// Silent stores the message without a turn: it is recorded, never answered (an opt-out
	// keyword, a message while the provider's agents own the conversation).
	Silent bool
	// Reply, when set, is what the channel answers at once instead of a turn (e.g. the SMS HELP
	// text); the message is stored like a Silent one.
	Reply string
	// OptOut and OptIn record the customer's messaging consent (STOP / START).
	OptOut, OptIn bool
	// Customer is the customer's external id for ChannelBackToBot and ChannelHumanReply.
	Customer string
}

// StatusUpdate maps a provider's delivery status back to a reply: by Baton's message id when
// the provider echoes it, else by the provider's message id.
type StatusUpdate struct {
	MessageID  int64  // Baton's id, 0 if the provider does not echo it
	ProviderID string // the provider's message id
	State      DeliveryState
	Error      string
	At         *time.Time
}

// Receipt is what a channel answered to a sent reply.
type Receipt struct {
	// ProviderIDs are the provider's message ids, one per part (a long SMS is sent in parts).
	ProviderIDs []string
}
