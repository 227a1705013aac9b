// Package webhook is the generic webhook channel: signed JSON in, signed JSON out, with an
// Idempotency-Key so a resent reply is recognised by the receiver.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

// Path is the inbound endpoint.
const Path = "/v1/channels/webhook/messages"

// Adapter is the generic webhook channel.
type Adapter struct {
	Secrets     []string // current first, then the previous one during rotation
	OutboundURL string
	Client      *http.Client
	Clock       baton.Clock // judges sent_at against arrival; nil = the system clock
}

// Name implements channel.Adapter.
func (w *Adapter) Name() string { return "webhook" }

// MaxBody bounds one inbound body: 64 KiB.
const MaxBody = 64 << 10

// Routes implements channel.Adapter.
func (w *Adapter) Routes() []channel.Route {
	return []channel.Route{{Method: http.MethodPost, Path: Path, MaxBody: MaxBody}}
}

// Caps implements channel.Adapter: receivers dedupe on the Idempotency-Key.
func (w *Adapter) Caps() channel.Caps { return channel.Caps{Idempotent: true} }

// Inbound implements channel.Adapter: signature first, then strict decoding.
func (w *Adapter) Inbound(r *http.Request, body []byte) ([]baton.ChannelEvent, error) {
	in, err := w.Parse(r.Header, body)
	if err != nil {
		return nil, err
	}
	return []baton.ChannelEvent{{Kind: baton.ChannelMessage, Message: in}}, nil
}

// Parse verifies and decodes one inbound body.
func (w *Adapter) Parse(h http.Header, body []byte) (baton.Inbound, error) {
	if len(w.Secrets) == 0 || w.Secrets[0] == "" {
		return baton.Inbound{}, baton.Errorf(baton.ErrUnavailable, "not_configured", "webhook channel has no secret configured")
	}
	if !channel.Verify(w.Secrets, body, h.Get(channel.SignatureHeader)) {
		return baton.Inbound{}, baton.Errorf(baton.ErrUnauthorized, "invalid_signature", "missing or invalid %s", channel.SignatureHeader)
	}
	in, err := channel.DecodeWebhook(body)
	if err != nil {
		return in, err
	}
	// The store orders by SentAt when it is set, so an out-of-window one is dropped here.
	// (Keeping it stored while ordering by arrival needs a separate field on baton.Inbound.)
	in.SentAt = channel.OrderingTime(in.SentAt, channel.Now(w.Clock))
	return in, nil
}

// Send implements channel.Adapter: a signed POST with Idempotency-Key = message id. The
// receiver's answer carries no id of its own: the receipt is Baton's id.
func (w *Adapter) Send(ctx context.Context, o baton.Outbound) (baton.Receipt, error) {
	if w.OutboundURL == "" {
		return baton.Receipt{}, &channel.SendError{Err: errors.New("BATON_OUTBOUND_URL is not set")}
	}
	body := channel.OutboundBody{ConversationID: o.ConversationID, MessageID: o.MessageID, Text: o.Text, Author: o.Author, Citations: o.Citations}
	body.Recipient.ID = o.RecipientID
	if body.Citations == nil {
		body.Citations = []baton.Citation{}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return baton.Receipt{}, &channel.SendError{Permanent: true, Err: fmt.Errorf("encode reply: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.OutboundURL, bytes.NewReader(raw))
	if err != nil {
		return baton.Receipt{}, &channel.SendError{Permanent: true, Err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", strconv.FormatInt(o.MessageID, 10))
	if len(w.Secrets) > 0 && w.Secrets[0] != "" {
		req.Header.Set(channel.SignatureHeader, channel.Sign(w.Secrets[0], raw))
	}
	if _, err := channel.Do(w.Client, req); err != nil {
		return baton.Receipt{}, err
	}
	return baton.Receipt{}, nil
}
