// Package whatsapp is the WhatsApp Business Cloud API channel: Meta's GET verification, signed
// batches of messages and statuses in, replies through the Graph API with Baton's message id
// as biz_opaque_callback_data, and a template (or a failure people see) outside the 24-hour
// customer service window.
package whatsapp

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

const (
	// Path serves Meta's verification GET and its event POSTs.
	Path = "/v1/channels/whatsapp"
	// SignatureHeader carries "sha256=<hex HMAC-SHA256(app secret, raw body)>".
	SignatureHeader = "X-Hub-Signature-256"
	// MaxText is the Cloud API's limit of one text message.
	MaxText = 4096
	// Window is the customer service window: free-form replies only this long after the
	// customer's last message.
	Window = 24 * time.Hour
	// MaxBody: Meta's batches reach 3 MB.
	MaxBody = 3 << 20
	// Error 131047: re-engagement message (outside the window).
	errOutsideWindow = 131047
)

// Config is the channel's configuration.
type Config struct {
	AppSecrets    []string // current first, then the previous one during rotation
	VerifyToken   string
	Token         string // Graph API access token
	PhoneNumberID string
	APIURL        string // Graph API base with version, e.g. https://graph.facebook.com/v21.0
	Template      string // name[:language] sent outside the window; "" = fail instead
}

// Configured reports whether the required settings are set.
func (c Config) Configured() bool {
	return len(c.AppSecrets) > 0 && c.AppSecrets[0] != "" && c.VerifyToken != "" && c.Token != "" && c.PhoneNumberID != ""
}

// Store is what sending needs to know.
type Store interface {
	// LastCustomerAt is when the conversation's customer last wrote.
	LastCustomerAt(ctx context.Context, convID int64) (time.Time, error)
}

// Adapter is the WhatsApp Cloud API channel.
type Adapter struct {
	Config
	Client *http.Client
	Store  Store       // nil: the window is left to Meta's 131047
	Clock  baton.Clock // nil: the system clock
}

// Name implements channel.Adapter.
func (a *Adapter) Name() string { return "whatsapp" }

// Caps implements channel.Adapter: no idempotency key, 4096 characters, a 24-hour window.
func (a *Adapter) Caps() channel.Caps {
	return channel.Caps{MaxText: MaxText, Window: Window, Compliance: true}
}

// Routes implements channel.Adapter.
func (a *Adapter) Routes() []channel.Route {
	return []channel.Route{
		{Method: http.MethodGet, Path: Path, Serve: a.verify},
		{Method: http.MethodPost, Path: Path, MaxBody: MaxBody, Ack: func(w http.ResponseWriter, _ []channel.Result) error {
			w.WriteHeader(http.StatusOK)
			return nil
		}},
	}
}

// verify answers Meta's subscription check: echo hub.challenge for the right token, else 403.
func (a *Adapter) verify(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" || a.VerifyToken == "" ||
		subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(a.VerifyToken)) != 1 {
		return baton.Errorf(baton.ErrForbidden, "invalid_verify_token", "hub.mode or hub.verify_token is wrong")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write([]byte(q.Get("hub.challenge")))
	return err
}

// payload is the part of Meta's webhook body Baton reads.
type payload struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Metadata struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Contacts []struct {
					Profile struct {
						Name string `json:"name"`
					} `json:"profile"`
					WaID   string `json:"wa_id"`
					UserID string `json:"user_id"`
				} `json:"contacts"`
				Messages []message `json:"messages"`
				Statuses []status  `json:"statuses"`
				// Messages the business sent from the WhatsApp Business app (coexistence).
				Echoes []struct {
					To string `json:"to"`
				} `json:"message_echoes"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type message struct {
	From       string `json:"from"`
	FromUserID string `json:"from_user_id"`
	ID         string `json:"id"`
	Timestamp  string `json:"timestamp"`
	Type       string `json:"type"`
	Text       struct {
		Body string `json:"body"`
	} `json:"text"`
	Button struct {
		Text string `json:"text"`
	} `json:"button"`
	Interactive struct {
		ButtonReply struct {
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply struct {
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
}

type status struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	Opaque      string `json:"biz_opaque_callback_data"`
	Errors      []struct {
		Code  int    `json:"code"`
		Title string `json:"title"`
	} `json:"errors"`
}

var states = map[string]baton.DeliveryState{"sent": baton.DeliverySent, "delivered": baton.DeliveryDelivered,
	"read": baton.DeliveryRead, "failed": baton.DeliveryFailed}

// Inbound implements channel.Adapter: every message and status of every entry and change.
func (a *Adapter) Inbound(r *http.Request, body []byte) ([]baton.ChannelEvent, error) {
	if !channel.Verify(a.AppSecrets, body, r.Header.Get(SignatureHeader)) {
		return nil, baton.Errorf(baton.ErrForbidden, "invalid_signature", "missing or invalid %s", SignatureHeader)
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, baton.Invalid("invalid JSON")
	}
	if p.Object != "whatsapp_business_account" {
		return nil, baton.Invalid("object must be whatsapp_business_account")
	}
	var evs []baton.ChannelEvent
	for _, e := range p.Entry {
		for _, c := range e.Changes {
			v := c.Value
			if v.Metadata.PhoneNumberID != "" && a.PhoneNumberID != "" && v.Metadata.PhoneNumberID != a.PhoneNumberID {
				continue // another number of the same app
			}
			names := map[string]string{}
			for _, ct := range v.Contacts {
				names[ct.WaID], names[ct.UserID] = ct.Profile.Name, ct.Profile.Name
			}
			for _, m := range v.Messages {
				ev, ok, err := a.message(m, names)
				if err != nil {
					return nil, err
				}
				if ok {
					evs = append(evs, ev)
				}
			}
			for _, e := range v.Echoes {
				if e.To != "" {
					evs = append(evs, baton.ChannelEvent{Kind: baton.ChannelHumanReply, Customer: e.To})
				}
			}
			for _, s := range v.Statuses {
				state, ok := states[s.Status]
				if !ok || s.ID == "" {
					continue
				}
				id, _ := strconv.ParseInt(s.Opaque, 10, 64)
				up := baton.StatusUpdate{MessageID: id, ProviderID: s.ID, State: state, At: unix(s.Timestamp)}
				if len(s.Errors) > 0 {
					up.Error = fmt.Sprintf("whatsapp error %d: %s", s.Errors[0].Code, s.Errors[0].Title)
				}
				evs = append(evs, baton.ChannelEvent{Kind: baton.ChannelStatus, Status: up})
			}
		}
	}
	return evs, nil
}

// message turns one inbound message into an event; ok is false for what gets nothing
// (reactions, Meta's system notices).
func (a *Adapter) message(m message, names map[string]string) (baton.ChannelEvent, bool, error) {
	sender := m.From // the wa_id; a username-only user has only the business-scoped user id
	if sender == "" {
		sender = m.FromUserID
	}
	if m.ID == "" || sender == "" {
		return baton.ChannelEvent{}, false, baton.Invalid("a message lacks id or from")
	}
	if len(m.ID) > channel.MaxIDLen || len(sender) > channel.MaxIDLen {
		return baton.ChannelEvent{}, false, baton.Invalid("message id or sender too long")
	}
	if m.Type == "reaction" || m.Type == "system" {
		return baton.ChannelEvent{}, false, nil
	}
	// Ordered by Meta's timestamp when it is plausible (a retry days later still lands in place).
	in := baton.Inbound{Channel: "whatsapp", ExternalID: m.ID, SentAt: channel.OrderingTime(unix(m.Timestamp), channel.Now(a.Clock)),
		Sender: baton.Sender{ID: sender, Name: names[sender]}}
	if m.From != "" {
		in.Sender.Phone = "+" + m.From
	}
	if in.Sender.Name == "" {
		in.Sender.Name = names[m.FromUserID]
	}
	ev := baton.ChannelEvent{Kind: baton.ChannelMessage}
	switch m.Type {
	case "text":
		in.Text = m.Text.Body
	case "button":
		in.Text = m.Button.Text
	case "interactive":
		in.Text = m.Interactive.ButtonReply.Title + m.Interactive.ListReply.Title
	}
	in.Text = strings.TrimSpace(in.Text)
	if in.Text == "" {
		// Stored as what it was; answered once, politely, without a turn.
		in.Text = "[" + m.Type + "]"
		ev.Reply = channel.TextOnly
	}
	if len(in.Text) > channel.MaxTextLen || strings.ContainsRune(in.Text, 0) {
		return ev, false, baton.Invalid("message text too long or contains NUL")
	}
	switch channel.ParseKeyword(in.Text) {
	case channel.KeywordStop:
		ev.OptOut = true
	case channel.KeywordStart:
		ev.OptIn = true
	}
	ev.Message = in
	return ev, true, nil
}

func unix(s string) *time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return nil
	}
	t := time.Unix(n, 0).UTC()
	return &t
}

// Send implements channel.Adapter: one text message per part (4096 characters), or the
// template when the customer's last message is older than the window.
func (a *Adapter) Send(ctx context.Context, o baton.Outbound) (baton.Receipt, error) {
	var rc baton.Receipt
	if a.Store != nil {
		last, err := a.Store.LastCustomerAt(ctx, o.ConversationID)
		if err != nil {
			return rc, &channel.SendError{Err: fmt.Errorf("read the customer's last message: %w", err)}
		}
		if !last.IsZero() && channel.Now(a.Clock).Sub(last) > Window {
			return a.template(ctx, o)
		}
	}
	for i, part := range channel.Split(o.Text, MaxText) {
		id, err := a.post(ctx, o, map[string]any{"type": "text", "text": map[string]any{"body": part, "preview_url": false}})
		if err != nil {
			var se *channel.SendError
			if errors.As(err, &se) && strings.Contains(se.Error(), strconv.Itoa(errOutsideWindow)) && i == 0 {
				return a.template(ctx, o)
			}
			if i > 0 && errors.As(err, &se) {
				se.AfterSend, se.Permanent = true, false // the first parts went out: never resent
			}
			return rc, err
		}
		if id != "" {
			rc.ProviderIDs = append(rc.ProviderIDs, id)
		}
	}
	return rc, nil
}

// template sends the configured template, or fails for people to see.
func (a *Adapter) template(ctx context.Context, o baton.Outbound) (baton.Receipt, error) {
	if a.Template == "" {
		return baton.Receipt{}, &channel.SendError{Permanent: true,
			Err: fmt.Errorf("outside WhatsApp's 24-hour window and BATON_WHATSAPP_TEMPLATE is not set (error %d)", errOutsideWindow)}
	}
	name, lang, ok := strings.Cut(a.Template, ":")
	if !ok {
		lang = "en"
	}
	id, err := a.post(ctx, o, map[string]any{"type": "template", "template": map[string]any{"name": name, "language": map[string]string{"code": lang}}})
	var rc baton.Receipt
	if id != "" {
		rc.ProviderIDs = []string{id}
	}
	return rc, err
}

func (a *Adapter) post(ctx context.Context, o baton.Outbound, msg map[string]any) (string, error) {
	msg["messaging_product"] = "whatsapp"
	msg["recipient_type"] = "individual"
	msg["biz_opaque_callback_data"] = strconv.FormatInt(o.MessageID, 10)
	if strings.Contains(o.RecipientID, ".") {
		msg["recipient"] = o.RecipientID // a business-scoped user id
	} else {
		msg["to"] = o.RecipientID
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return "", &channel.SendError{Permanent: true, Err: err}
	}
	endpoint := strings.TrimRight(a.APIURL, "/") + "/" + a.PhoneNumberID + "/messages"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(raw))
	if err != nil {
		return "", &channel.SendError{Permanent: true, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.Token)
	body, err := channel.Do(a.Client, req)
	if err != nil {
		var se *channel.SendError
		var e struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if errors.As(err, &se) && json.Unmarshal(body, &e) == nil && e.Error.Code != 0 {
			se.Err = fmt.Errorf("whatsapp error %d: %s", e.Error.Code, e.Error.Message)
		}
		return "", err
	}
	var ok struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if json.Unmarshal(body, &ok) == nil && len(ok.Messages) > 0 {
		return ok.Messages[0].ID, nil
	}
	return "", nil
}
