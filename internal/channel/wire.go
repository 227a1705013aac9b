// The generic webhook's wire format and the signing helpers every channel shares.

package channel

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the raw body>".
const SignatureHeader = "X-Baton-Signature"

// The window around arrival in which a provider's sent_at orders messages. Outside it (a
// wrong clock, a made-up year) the message is ordered by arrival instead: refusing it with 400
// would make a channel retry, and fail, forever, losing the message; a retry days later (after
// an outage) still lands in order of arrival, next to where it belongs.
const (
	MaxSentAtAhead  = 5 * time.Minute
	MaxSentAtBehind = 7 * 24 * time.Hour
)

// OrderingTime returns sentAt if it lies within the window around received, else nil: the
// message is then ordered by its arrival.
func OrderingTime(sentAt *time.Time, received time.Time) *time.Time {
	if sentAt == nil || sentAt.After(received.Add(MaxSentAtAhead)) || sentAt.Before(received.Add(-MaxSentAtBehind)) {
		return nil
	}
	return sentAt
}

// Sign returns the signature header value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature against every accepted secret in constant time.
func Verify(secrets []string, body []byte, sig string) bool {
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		if hmac.Equal(got, m.Sum(nil)) {
			return true
		}
	}
	return false
}

// WebhookBody is the inbound request body.
type WebhookBody struct {
	Sender  baton.Sender `json:"sender"`
	Message struct {
		ID     string     `json:"id"`
		Text   string     `json:"text"`
		SentAt *time.Time `json:"sent_at"`
	} `json:"message"`
}

const (
	MaxIDLen   = 256 // bytes of an id
	MaxTextLen = 16 << 10
)

// DecodeWebhook validates and normalises a webhook body.
func DecodeWebhook(body []byte) (baton.Inbound, error) {
	if !utf8.Valid(body) {
		return baton.Inbound{}, baton.Invalid("body is not valid UTF-8")
	}
	var b WebhookBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return baton.Inbound{}, baton.Invalid("invalid JSON: %s", baton.JSONProblem(err))
	}
	// Only whitespace may follow (dec.More is false before a stray ']' or '}').
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return baton.Inbound{}, baton.Invalid("invalid JSON: trailing data after the object")
	}
	in := baton.Inbound{
		Channel:    "webhook",
		Sender:     baton.Sender{ID: strings.TrimSpace(b.Sender.ID), Name: strings.TrimSpace(b.Sender.Name), Email: strings.TrimSpace(b.Sender.Email), Phone: strings.TrimSpace(b.Sender.Phone)},
		ExternalID: strings.TrimSpace(b.Message.ID),
		Text:       strings.TrimSpace(b.Message.Text),
		SentAt:     b.Message.SentAt,
	}
	switch {
	case in.Sender.ID == "":
		return baton.Inbound{}, baton.Invalid("sender.id is required")
	case in.ExternalID == "":
		return baton.Inbound{}, baton.Invalid("message.id is required")
	case in.Text == "":
		return baton.Inbound{}, baton.Invalid("message.text is required")
	case len(in.Sender.ID) > MaxIDLen || len(in.ExternalID) > MaxIDLen:
		return baton.Inbound{}, baton.Invalid("sender.id and message.id must be at most %d bytes", MaxIDLen)
	case len(in.Text) > MaxTextLen:
		return baton.Inbound{}, baton.Invalid("message.text must be at most %d bytes", MaxTextLen)
	case len(in.Sender.Name) > 200 || len(in.Sender.Email) > 320 || len(in.Sender.Phone) > 40:
		return baton.Inbound{}, baton.Invalid("sender fields are too long")
	case strings.ContainsRune(in.Text, 0) || strings.ContainsRune(in.Sender.ID, 0) || strings.ContainsRune(in.ExternalID, 0):
		return baton.Inbound{}, baton.Invalid("text and ids must not contain NUL characters")
	}
	if in.Sender.Email != "" && !strings.Contains(in.Sender.Email, "@") {
		return baton.Inbound{}, baton.Invalid("sender.email is not an email address")
	}
	if strings.ContainsRune(in.Sender.Name, 0) || strings.ContainsRune(in.Sender.Email, 0) || strings.ContainsRune(in.Sender.Phone, 0) {
		return baton.Inbound{}, baton.Invalid("sender fields must not contain NUL characters")
	}
	return in, nil
}

// OutboundBody is what the webhook channel POSTs for each reply.
type OutboundBody struct {
	ConversationID int64 `json:"conversation_id"`
	MessageID      int64 `json:"message_id"`
	Recipient      struct {
		ID string `json:"id"`
	} `json:"recipient"`
	Text      string           `json:"text"`
	Author    baton.Author     `json:"author"`
	Citations []baton.Citation `json:"citations"`
}

// Do sends req and classifies the outcome. It returns the answer's body (at most 1 MiB) with
// a 2xx status; otherwise the body too, with a *SendError: permanent for 4xx other than 408
// and 429, AfterSend when the request may have reached the provider, RetryAfter as asked.
func Do(client *http.Client, req *http.Request) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	// Once the request is written the receiver may have it: a failure after that (a timeout, a
	// connection closed before the answer) leaves the delivery unknown, not failed.
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) }}))
	resp, err := client.Do(req)
	if err != nil {
		var ne net.Error
		timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
		return nil, &SendError{AfterSend: wrote.Load() || timeout, Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, nil
	}
	se := &SendError{Status: resp.StatusCode, Err: errors.New(http.StatusText(resp.StatusCode))}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			se.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			se.RetryAfter = max(0, time.Until(t))
		}
	}
	se.Permanent = resp.StatusCode >= 400 && resp.StatusCode < 500 &&
		resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests
	return body, se
}

// ReadBody reads a raw request body up to limit bytes; a longer one is ErrTooLarge.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, baton.Errorf(baton.ErrTooLarge, "too_large", "request body exceeds %d bytes", limit)
	}
	return body, nil
}

// Now is c's time, or the system's when c is nil.
func Now(c baton.Clock) time.Time {
	if c == nil {
		return time.Now()
	}
	return c.Now()
}
