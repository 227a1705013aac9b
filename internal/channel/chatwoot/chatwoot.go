// Package chatwoot makes Baton the Agent Bot of an existing Chatwoot inbox: Chatwoot posts its
// events, Baton answers while a conversation is pending, shows typing while a turn runs, and
// hands off in Chatwoot itself (private note, labels, priority, team, status open). Once a
// conversation is open the bot is silent; pending again, it is Baton's again, with its memory.
package chatwoot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

const (
	// Path receives the Agent Bot's events.
	Path            = "/v1/channels/chatwoot"
	SignatureHeader = "X-Chatwoot-Signature"
	TimestampHeader = "X-Chatwoot-Timestamp"
	DeliveryHeader  = "X-Chatwoot-Delivery"
	// MaxSkew is how old (or how far ahead) a signed event's timestamp may be.
	MaxSkew = 5 * time.Minute
	maxBody = 1 << 20
)

// Config is the channel's configuration.
type Config struct {
	URL           string // Chatwoot's base URL
	BotToken      string // the Agent Bot's api_access_token
	Secrets       []string
	Verify        bool     // refuse unsigned events (Chatwoot 4.13+ signs)
	HandoffTarget string   // "chatwoot" (default) or "baton"
	Labels        []string // added on handoff
	TeamID        int      // assigned on handoff; 0 = none
}

// Configured reports whether the required settings are set.
func (c Config) Configured() bool {
	return c.URL != "" && c.BotToken != "" && (!c.Verify || (len(c.Secrets) > 0 && c.Secrets[0] != ""))
}

// Adapter is the Chatwoot Agent Bot channel.
type Adapter struct {
	Config
	Client *http.Client
	Clock  baton.Clock // judges timestamps; nil = the system clock
}

// Name implements channel.Adapter.
func (a *Adapter) Name() string { return "chatwoot" }

// Caps implements channel.Adapter: Chatwoot has no idempotency key.
func (a *Adapter) Caps() channel.Caps { return channel.Caps{} }

// Routes implements channel.Adapter: Chatwoot waits 5 s, so the answer is an empty 200 once
// the events are stored.
func (a *Adapter) Routes() []channel.Route {
	return []channel.Route{{Method: http.MethodPost, Path: Path, MaxBody: maxBody,
		Ack: func(w http.ResponseWriter, _ []channel.Result) error { w.WriteHeader(http.StatusOK); return nil }}}
}

// Sign returns the signature header value of body at timestamp ts under secret.
func Sign(secret, ts string, body []byte) string {
	return channel.Sign(secret, append([]byte(ts+"."), body...))
}

// event is the part of an Agent Bot event Baton reads.
type event struct {
	Event       string `json:"event"`
	ID          int64  `json:"id"`
	Content     string `json:"content"`
	MessageType any    `json:"message_type"` // "incoming" (older versions: 0)
	Private     bool   `json:"private"`
	Status      string `json:"status"`
	CreatedAt   any    `json:"created_at"`
	Sender      struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		Email       string `json:"email"`
		PhoneNumber string `json:"phone_number"`
		Type        string `json:"type"`
	} `json:"sender"`
	Account struct {
		ID int64 `json:"id"`
	} `json:"account"`
	Conversation struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	} `json:"conversation"`
}

// incoming reports whether the message was written by the contact (not an agent, not the bot,
// not a note).
func (e event) incoming() bool {
	switch t := e.MessageType.(type) {
	case string:
		if t != "incoming" {
			return false
		}
	case float64:
		if t != 0 {
			return false
		}
	default:
		return false
	}
	return !e.Private && (e.Sender.Type == "" || strings.EqualFold(e.Sender.Type, "contact"))
}

// Customer is the customer's external id of a Chatwoot conversation: "<account>:<conversation>".
func Customer(account, conversation int64) string {
	return strconv.FormatInt(account, 10) + ":" + strconv.FormatInt(conversation, 10)
}

// parseCustomer splits a customer's external id into account and conversation.
func parseCustomer(s string) (account, conversation int64, err error) {
	a, c, ok := strings.Cut(s, ":")
	account, err1 := strconv.ParseInt(a, 10, 64)
	conversation, err2 := strconv.ParseInt(c, 10, 64)
	if !ok || err1 != nil || err2 != nil || account <= 0 || conversation <= 0 {
		return 0, 0, fmt.Errorf("not a Chatwoot conversation: %q", s)
	}
	return account, conversation, nil
}

var statuses = map[string]baton.DeliveryState{"sent": baton.DeliverySent, "delivered": baton.DeliveryDelivered,
	"read": baton.DeliveryRead, "failed": baton.DeliveryFailed}

// Inbound implements channel.Adapter.
func (a *Adapter) Inbound(r *http.Request, body []byte) ([]baton.ChannelEvent, error) {
	if a.Verify {
		if err := a.verify(r.Header, body); err != nil {
			return nil, err
		}
	}
	var e event
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, baton.Invalid("invalid JSON")
	}
	switch e.Event {
	case "message_created":
		if !e.incoming() {
			return nil, nil // notes, agents' and Baton's own messages: never answered
		}
	case "message_updated":
		// News about a message Baton sent (its id is the receipt).
		if st, ok := statuses[e.Status]; ok && e.ID > 0 {
			return []baton.ChannelEvent{{Kind: baton.ChannelStatus,
				Status: baton.StatusUpdate{ProviderID: strconv.FormatInt(e.ID, 10), State: st}}}, nil
		}
		return nil, nil
	default: // conversation_opened, conversation_resolved, webwidget_triggered, …
		return nil, nil
	}
	if e.ID <= 0 || e.Account.ID <= 0 || e.Conversation.ID <= 0 {
		return nil, baton.Invalid("message, account and conversation ids are required")
	}
	text := strings.TrimSpace(e.Content)
	if len(text) > channel.MaxTextLen || strings.ContainsRune(text, 0) {
		return nil, baton.Invalid("content too long or contains NUL")
	}
	cust := Customer(e.Account.ID, e.Conversation.ID)
	in := baton.Inbound{Channel: "chatwoot", ExternalID: strconv.FormatInt(e.ID, 10), Text: text,
		Sender: baton.Sender{ID: cust, Name: trim(e.Sender.Name, 200), Email: trim(e.Sender.Email, 320), Phone: trim(e.Sender.PhoneNumber, 40)}}
	if in.Sender.Email != "" && !strings.Contains(in.Sender.Email, "@") {
		in.Sender.Email = ""
	}
	msg := baton.ChannelEvent{Kind: baton.ChannelMessage, Message: in}
	if text == "" {
		// An attachment alone.
		msg.Message.Text = "[attachment]"
		msg.Silent = true
	}
	if e.Conversation.Status != "pending" {
		// Open (agents work it), snoozed or resolved: the bot owns only pending conversations.
		msg.Silent = true
		return []baton.ChannelEvent{msg}, nil
	}
	if a.HandoffTarget == "baton" {
		// Handoffs live in Baton's queue; Chatwoot's status says nothing about them.
		return []baton.ChannelEvent{msg}, nil
	}
	// Pending: Baton's, also after a handoff that people gave back.
	return []baton.ChannelEvent{{Kind: baton.ChannelBackToBot, Customer: cust}, msg}, nil
}

func trim(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return ""
	}
	return s
}

// verify checks the signature over "<timestamp>.<body>" and the timestamp's age.
func (a *Adapter) verify(h http.Header, body []byte) error {
	ts := h.Get(TimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !channel.Verify(a.Secrets, append([]byte(ts+"."), body...), h.Get(SignatureHeader)) {
		return baton.Errorf(baton.ErrUnauthorized, "invalid_signature", "missing or invalid %s", SignatureHeader)
	}
	if d := channel.Now(a.Clock).Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return baton.Errorf(baton.ErrUnauthorized, "stale_timestamp", "%s is more than %s away", TimestampHeader, MaxSkew)
	}
	return nil
}

// Send implements channel.Adapter: the reply, as the bot, in the Chatwoot conversation.
func (a *Adapter) Send(ctx context.Context, o baton.Outbound) (baton.Receipt, error) {
	acc, conv, err := parseCustomer(o.RecipientID)
	if err != nil {
		return baton.Receipt{}, &channel.SendError{Permanent: true, Err: err}
	}
	var out struct {
		ID int64 `json:"id"`
	}
	if err := a.call(ctx, http.MethodPost, acc, conv, "messages", map[string]any{"content": o.Text, "message_type": "outgoing"}, &out); err != nil {
		return baton.Receipt{}, err
	}
	if out.ID == 0 {
		return baton.Receipt{}, nil
	}
	return baton.Receipt{ProviderIDs: []string{strconv.FormatInt(out.ID, 10)}}, nil
}

// call is one Chatwoot API call on a conversation; out (if not nil) receives the JSON answer.
func (a *Adapter) call(ctx context.Context, method string, acc, conv int64, action string, in, out any) error {
	var rd *bytes.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return &channel.SendError{Permanent: true, Err: err}
		}
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	u := fmt.Sprintf("%s/api/v1/accounts/%d/conversations/%d/%s", strings.TrimRight(a.URL, "/"), acc, conv, action)
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return &channel.SendError{Permanent: true, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("api_access_token", a.BotToken)
	body, err := channel.Do(a.Client, req)
	if err != nil {
		return fmt.Errorf("chatwoot %s %s: %w", method, action, err)
	}
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("chatwoot %s %s: decode answer: %w", method, action, err)
		}
	}
	return nil
}

// Typing turns the typing indicator of a conversation on or off.
func (a *Adapter) Typing(ctx context.Context, customer string, on bool) error {
	acc, conv, err := parseCustomer(customer)
	if err != nil {
		return err
	}
	state := "off"
	if on {
		state = "on"
	}
	return a.call(ctx, http.MethodPost, acc, conv, "toggle_typing_status", map[string]string{"typing_status": state}, nil)
}

// Handoff hands a conversation to Chatwoot's agents, in this order: a private note with the
// handoff package, the labels (read, then the union written: the API replaces the list), the
// priority, the team, and status open. A step that fails stops the sequence (an open
// conversation without its note would leave agents guessing).
func (a *Adapter) Handoff(ctx context.Context, customer string, h baton.Handoff) error {
	acc, conv, err := parseCustomer(customer)
	if err != nil {
		return err
	}
	if err := a.call(ctx, http.MethodPost, acc, conv, "messages",
		map[string]any{"content": NoteText(h), "private": true, "message_type": "outgoing"}, nil); err != nil {
		return err
	}
	if len(a.Labels) > 0 {
		var cur struct {
			Payload []string `json:"payload"`
		}
		if err := a.call(ctx, http.MethodGet, acc, conv, "labels", nil, &cur); err != nil {
			return err
		}
		union := append([]string(nil), cur.Payload...)
		for _, l := range a.Labels {
			if !contains(union, l) {
				union = append(union, l)
			}
		}
		if err := a.call(ctx, http.MethodPost, acc, conv, "labels", map[string]any{"labels": union}, nil); err != nil {
			return err
		}
	}
	if err := a.call(ctx, http.MethodPost, acc, conv, "toggle_priority", map[string]string{"priority": Priority(h.Priority)}, nil); err != nil {
		return err
	}
	if a.TeamID > 0 {
		if err := a.call(ctx, http.MethodPost, acc, conv, "assignments", map[string]int{"team_id": a.TeamID}, nil); err != nil {
			return err
		}
	}
	return a.call(ctx, http.MethodPost, acc, conv, "toggle_status", map[string]string{"status": "open"}, nil)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Priority maps Baton's 0–100 handoff priority to Chatwoot's levels.
func Priority(p int) string {
	switch {
	case p >= 80:
		return "urgent"
	case p >= 60:
		return "high"
	case p >= 30:
		return "medium"
	}
	return "low"
}

// NoteText renders the handoff package for Chatwoot's agents.
func NoteText(h baton.Handoff) string {
	var p struct {
		Issue   string   `json:"issue"`
		Tried   []string `json:"tried"`
		Details []struct {
			Label, Value string
		} `json:"details"`
		Sentiment struct {
			Label, Trend string
		} `json:"sentiment"`
		NextStep string `json:"next_step"`
	}
	_ = json.Unmarshal(h.Package, &p) // an empty package still says why
	var b strings.Builder
	fmt.Fprintf(&b, "Handoff from Baton (%s)\n", h.Reason)
	if p.Issue != "" {
		fmt.Fprintf(&b, "Issue: %s\n", p.Issue)
	}
	for _, t := range p.Tried {
		fmt.Fprintf(&b, "Tried: %s\n", t)
	}
	for _, d := range p.Details {
		if d.Value != "" {
			fmt.Fprintf(&b, "%s: %s\n", d.Label, d.Value)
		} else {
			fmt.Fprintf(&b, "%s: missing\n", d.Label)
		}
	}
	if p.Sentiment.Label != "" {
		fmt.Fprintf(&b, "Sentiment: %s (%s)\n", p.Sentiment.Label, p.Sentiment.Trend)
	}
	if p.NextStep != "" {
		fmt.Fprintf(&b, "Next step: %s\n", p.NextStep)
	}
	return strings.TrimSpace(b.String())
}
