package baton

import (
	"strings"
	"time"
)

// Event is what moves a conversation from one status to another.
type Event string

const (
	EventHandoff      Event = "handoff"       // the bot passes the conversation to people
	EventResolve      Event = "resolve"       // the episode is closed (by an agent, an admin or idling)
	EventClaim        Event = "claim"         // an agent takes a waiting conversation
	EventAssign       Event = "assign"        // auto-assignment gives a waiting conversation to an agent
	EventReturn       Event = "return"        // people give the conversation back to the bot
	EventTransferTeam Event = "transfer_team" // an agent passes it to a team's queue
	EventSlotFreed    Event = "slot_freed"    // the agent's slot went to others while the customer waits
	EventReopen       Event = "reopen"        // the customer writes after a resolve: a new episode
	EventCSATReply    Event = "csat_reply"    // the customer answers the satisfaction question
)

// move is one allowed transition.
type move struct {
	from []ConversationStatus
	to   ConversationStatus
}

// lifecycle is the one list of allowed moves; nothing else changes a conversation's status.
var lifecycle = map[Event]move{
	EventHandoff:      {[]ConversationStatus{StatusBot}, StatusQueued},
	EventResolve:      {[]ConversationStatus{StatusBot, StatusQueued, StatusAgent}, StatusResolved},
	EventClaim:        {[]ConversationStatus{StatusQueued}, StatusAgent},
	EventAssign:       {[]ConversationStatus{StatusQueued}, StatusAgent},
	EventReturn:       {[]ConversationStatus{StatusQueued, StatusAgent}, StatusBot},
	EventTransferTeam: {[]ConversationStatus{StatusAgent}, StatusQueued},
	EventSlotFreed:    {[]ConversationStatus{StatusAgent}, StatusQueued},
	EventReopen:       {[]ConversationStatus{StatusResolved}, StatusBot},
	// Recorded without reopening: the score answers the resolved episode.
	EventCSATReply: {[]ConversationStatus{StatusResolved}, StatusResolved},
}

// Events lists every lifecycle event.
func Events() []Event {
	return []Event{EventHandoff, EventResolve, EventClaim, EventAssign, EventReturn, EventTransferTeam,
		EventSlotFreed, EventReopen, EventCSATReply}
}

// Transition returns the status a conversation in status from reaches on event e. A move the
// lifecycle does not allow is an ErrConflict whose message names both.
func Transition(from ConversationStatus, e Event) (ConversationStatus, error) {
	m, ok := lifecycle[e]
	if !ok {
		return from, Invalid("unknown conversation event %q", e)
	}
	for _, f := range m.from {
		if f == from {
			return m.to, nil
		}
	}
	return from, Errorf(ErrConflict, "conflict", "a %s conversation cannot %s", statusName(from), eventVerb(e))
}

// From lists the statuses event e may move a conversation out of, so SQL can apply a move in one
// conditional UPDATE (`WHERE status = ANY(From(e))`) and report a refusal with Transition.
func From(e Event) []ConversationStatus {
	return append([]ConversationStatus(nil), lifecycle[e].from...)
}

func statusName(s ConversationStatus) string {
	if s == "" {
		return "missing"
	}
	return string(s)
}

func eventVerb(e Event) string {
	switch e {
	case EventHandoff:
		return "be handed off"
	case EventResolve:
		return "be resolved"
	case EventClaim:
		return "be claimed"
	case EventAssign:
		return "be assigned"
	case EventReturn:
		return "be returned to the bot"
	case EventTransferTeam:
		return "be transferred to a team"
	case EventSlotFreed:
		return "go back to the queue"
	case EventReopen:
		return "be reopened"
	case EventCSATReply:
		return "take a satisfaction score"
	}
	return string(e)
}

// CSATWindow is how long after a resolve a customer's score answers the satisfaction question
// instead of reopening the conversation.
const CSATWindow = 24 * time.Hour

// CSATScore reads a satisfaction score 1–5 from a customer's reply ("4", "5/5", "5 stars", "⭐⭐⭐").
// Anything longer is a new message, not a score.
func CSATScore(text string) (int, bool) {
	t := strings.ToLower(strings.TrimSpace(text))
	if n := strings.Count(t, "⭐"); n >= 1 && n <= 5 && strings.Trim(t, "⭐ ") == "" {
		return n, true
	}
	for _, suffix := range []string{"/5", " stars", " star", "stars", "star", "!", "."} {
		t = strings.TrimSuffix(t, suffix)
	}
	t = strings.TrimSpace(t)
	if len(t) == 1 && t[0] >= '1' && t[0] <= '5' {
		return int(t[0] - '0'), true
	}
	return 0, false
}

// CustomerWrites is the event a customer message causes in a conversation: a satisfaction score
// within CSATWindow of a resolve whose survey was asked answers it; any other message to a
// resolved conversation reopens it. ok is false when the message moves nothing.
func CustomerWrites(status ConversationStatus, csatAskedAt *time.Time, now time.Time, text string) (e Event, score int, ok bool) {
	if status != StatusResolved {
		return "", 0, false
	}
	if csatAskedAt != nil && now.Sub(*csatAskedAt) <= CSATWindow {
		if s, ok := CSATScore(text); ok {
			return EventCSATReply, s, true
		}
	}
	return EventReopen, 0, true
}

// Presence is whether an agent is taking conversations.
type Presence string

const (
	PresenceOnline  Presence = "online"
	PresenceAway    Presence = "away"
	PresenceOffline Presence = "offline"
)

// Valid reports whether p is a known presence.
func (p Presence) Valid() bool {
	return p == PresenceOnline || p == PresenceAway || p == PresenceOffline
}

// PauseReason says why the bot stays quiet in a conversation; conversations.bot_paused_until
// and pause_reason hold it, and the policy reads only that.
type PauseReason string

const (
	PauseAgent    PauseReason = "agent"     // an agent owns the conversation
	PauseChatwoot PauseReason = "chatwoot"  // a Chatwoot conversation is open
	PauseEcho     PauseReason = "echo"      // the business answered from its own phone
	PauseMute     PauseReason = "mute"      // muted by an agent or admin
	PauseGlobal   PauseReason = "global"    // the bot is paused everywhere
	PauseOptOut   PauseReason = "opted_out" // the customer opted out
)
