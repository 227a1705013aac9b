package baton

import (
	"encoding/json"
	"time"
)

// Stage is where a conversation stands from the bot's side.
type Stage string

const (
	StageNew        Stage = ""           // nothing said yet
	StageOpen       Stage = "open"       // talking; nothing awaited
	StageGathering  Stage = "gathering"  // waiting for details the open intent needs
	StageClarifying Stage = "clarifying" // asked the customer to rephrase or confirm a topic
	StageOffered    Stage = "offered"    // offered a person; a yes or no is awaited
	StageConfirm    Stage = "confirm"    // asked a returning customer whether they write about the open topic
	StageHandedOff  Stage = "handed_off" // passed to people
)

// ConversationState is what the bot remembers between turns. It lives on the conversation and
// is written only by a turn's fenced commit, so two turns never interleave their changes.
type ConversationState struct {
	Stage Stage `json:"stage,omitempty"`
	// OpenIntent is the intent being served: its required details are gathered for it.
	OpenIntent string `json:"open_intent,omitempty"`
	// Awaiting lists the detail types the bot asked for last, in asking order.
	Awaiting []string `json:"awaiting,omitempty"`
	// Attempts counts how often each detail type was asked for in the open intent.
	Attempts map[string]int `json:"attempts,omitempty"`
	// Invalid holds, per detail type, why the customer's last value did not validate.
	Invalid map[string]string `json:"invalid,omitempty"`
	// Reminded lists awaited details already mentioned after an off-topic answer.
	Reminded []string `json:"reminded,omitempty"`
	// Failures counts consecutive turns the bot could not answer.
	Failures int `json:"failures,omitempty"`
	// OfferReason is the handoff reason if the customer accepts the offered person.
	OfferReason HandoffReason `json:"offer_reason,omitempty"`
	// Topic is what was open last, in words a welcome back can repeat ("order A-1234").
	Topic string `json:"topic,omitempty"`
	// Answered lists the article titles answered in this episode, newest last (bounded).
	Answered []string `json:"answered,omitempty"`
	Language string   `json:"language,omitempty"`
	// QueuedAckAt is when a queued conversation last told the customer a person has it.
	QueuedAckAt *time.Time `json:"queued_ack_at,omitempty"`
	// SummaryAt is when the running summary was written; SinceSummary counts customer
	// messages since.
	SummaryAt    *time.Time `json:"summary_at,omitempty"`
	SinceSummary int        `json:"since_summary,omitempty"`
	// Clarify is the question behind "are you asking about <article>?", while the bot waits
	// for the customer's yes or no.
	Clarify *Clarification `json:"clarify,omitempty"`
}

// Clarification is a question the bot could not answer with confidence and the article it
// asked the customer about.
type Clarification struct {
	Question  string `json:"question"`
	ArticleID int64  `json:"article_id"`
	Title     string `json:"title"`
}

// HandoffReason says why a conversation was passed to people.
type HandoffReason string

const (
	HandoffCustomerRequest    HandoffReason = "customer_request"
	HandoffNegativeSentiment  HandoffReason = "negative_sentiment"
	HandoffMissingKnowledge   HandoffReason = "missing_knowledge"
	HandoffUnsupportedRequest HandoffReason = "unsupported_request"
	HandoffFailedGathering    HandoffReason = "failed_gathering"
	HandoffPolicy             HandoffReason = "policy"
	HandoffError              HandoffReason = "error"
)

// Handoff is a turn's decision to pass the conversation to people.
type Handoff struct {
	Reason HandoffReason `json:"reason"`
	// Where it goes and how urgent it is (routing: the intent's team, else the default team).
	TeamID   int64      `json:"team_id,omitempty"`
	Team     string     `json:"team,omitempty"`
	Priority int        `json:"priority,omitempty"`
	SLADueAt *time.Time `json:"sla_due_at,omitempty"`
	// Package is the handoff package for the agent (issue, tried, details, sentiment, next step).
	Package json.RawMessage `json:"package,omitempty"`
}
