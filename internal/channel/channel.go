// Package channel is the contract every channel adapter implements (internal/channel/webhook,
// twilio, whatsapp, chatwoot) and what they share: signatures, the outbound HTTP call and its
// error classification, the registry.
package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/batonhq/baton"
)

// Adapter is one channel.
type Adapter interface {
	// Name is the channel's name, stored on customers and messages (e.g. "twilio").
	Name() string
	// Routes are its HTTP endpoints, verification GETs included.
	Routes() []Route
	// Inbound verifies and decodes one request of one of its routes (r.URL.Path tells which)
	// into events. Errors are baton.ErrInvalid, ErrUnauthorized or ErrForbidden kinds, safe to
	// return to the caller; nothing is stored then.
	Inbound(r *http.Request, body []byte) ([]baton.ChannelEvent, error)
	// Send delivers one reply. Errors are *SendError.
	Send(ctx context.Context, o baton.Outbound) (baton.Receipt, error)
	// Caps says what the provider can do.
	Caps() Caps
}

// Route is one HTTP endpoint of a channel.
type Route struct {
	Method  string // GET or POST
	Path    string // e.g. /v1/channels/twilio/messages
	MaxBody int64
	// Serve answers the request itself (a verification GET): no events, nothing stored.
	Serve func(w http.ResponseWriter, r *http.Request) error
	// Ack writes the answer once the events are stored; nil = the generic JSON answer (202
	// with the ids, 200 for a duplicate).
	Ack func(w http.ResponseWriter, res []Result) error
}

// Result is what storing one event did.
type Result struct {
	Event  baton.ChannelEvent
	Ingest baton.IngestResult // for messages
}

// Caps are a provider's capabilities.
type Caps struct {
	// Idempotent: the provider dedupes a resent request (an idempotency key), so a send whose
	// result is unknown may be repeated. Without it an unknown send is never repeated.
	Idempotent bool
	// MaxText is the longest text of one provider message (longer replies are split); 0 = no limit.
	MaxText int
	// Window is the provider's session window after the customer's last message (WhatsApp's
	// 24 hours); 0 = none.
	Window time.Duration
	// Compliance: STOP/START/HELP keywords are honoured (SMS, WhatsApp).
	Compliance bool
}

// SendError classifies a failed delivery.
type SendError struct {
	Status     int           // HTTP status, 0 for network errors
	Permanent  bool          // retrying cannot help (4xx other than 408/429)
	AfterSend  bool          // the request may have reached the provider (timeout): state unknown
	RetryAfter time.Duration // the provider asked to wait
	Err        error
}

func (e *SendError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("send: status %d: %v", e.Status, e.Err)
	}
	return fmt.Sprintf("send: %v", e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent reports whether err says not to retry.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// Registry finds adapters by name.
type Registry map[string]Adapter

// Get returns the adapter named name.
func (r Registry) Get(name string) (Adapter, error) {
	a, ok := r[name]
	if !ok {
		return nil, baton.Errorf(baton.ErrNotFound, "unknown_channel", "unknown channel %q", name)
	}
	return a, nil
}
