// Package channel holds the channel adapters: each verifies, decodes and normalises inbound
// messages of one provider, and renders and sends outbound replies to it.
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
	// Name is the channel's name, stored on customers and messages (e.g. "webhook").
	Name() string
	// MaxBody bounds the size of one inbound request body.
	MaxBody() int64
	// Parse verifies and decodes one inbound request. Errors are baton.ErrInvalid or
	// baton.ErrUnauthorized kinds, safe to return to the caller.
	Parse(h http.Header, body []byte) (baton.Inbound, error)
	// Send delivers one reply. Errors are *SendError.
	Send(ctx context.Context, o baton.Outbound) error
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
