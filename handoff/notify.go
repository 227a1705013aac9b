package handoff

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// NotifyStore is what the Notifier needs of the database: due notifications leased for one
// attempt each, and the attempt's outcome recorded.
type NotifyStore interface {
	ClaimNotifications(ctx context.Context, limit int, lease time.Duration) ([]baton.Notification, error)
	RecordNotification(ctx context.Context, id int64, attempt int, sendErr error, next time.Time) error
}

// Notifier posts stored notifications to one URL, signed, and retries each until the receiver
// answers 2xx or GiveUpAfter has passed since it was written.
type Notifier struct {
	Store  NotifyStore
	URL    string
	Secret string
	Client *http.Client // nil: a client with a 10 s timeout
	Clock  baton.Clock
	Log    *slog.Logger
	// Backoff is the wait after failed attempt n (the delivery path's, so both retry alike).
	Backoff     func(n int) time.Duration
	GiveUpAfter time.Duration // zero: 24 h
}

// notifyLease is how long one attempt keeps a notification to itself; it outlasts the client's
// timeout, so two senders never post the same attempt.
const notifyLease = time.Minute

// Sign is the X-Baton-Signature value of a notification: HMAC-SHA256 of the timestamp header,
// a dot and the body, under the secret. Receivers recompute it and reject old timestamps.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Once sends every due notification (up to a batch) and records each outcome; it returns how
// many the receiver took.
func (n *Notifier) Once(ctx context.Context) (int, error) {
	due, err := n.Store.ClaimNotifications(ctx, 50, notifyLease)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, no := range due {
		sendErr := n.send(ctx, no)
		var next time.Time
		now := n.Clock.Now()
		if sendErr != nil {
			next = now.Add(n.backoff(no.Attempts))
			if next.Sub(no.CreatedAt) > n.giveUpAfter() {
				next = time.Time{}
				n.Log.Warn("notification given up", "notification_id", no.ID, "event", no.Event, "attempts", no.Attempts, "err", sendErr)
			}
		} else {
			sent++
		}
		if err := n.Store.RecordNotification(ctx, no.ID, no.Attempts, sendErr, next); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func (n *Notifier) send(ctx context.Context, no baton.Notification) error {
	ts := strconv.FormatInt(n.Clock.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(no.Payload))
	if err != nil {
		return fmt.Errorf("build notification request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Baton-Event", no.Event)
	req.Header.Set("X-Baton-Delivery", strconv.FormatInt(no.ID, 10)) // the same on every retry: receivers dedupe by it
	req.Header.Set("X-Baton-Timestamp", ts)
	req.Header.Set("X-Baton-Signature", Sign(n.Secret, ts, no.Payload))
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // drained for connection reuse
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post notification: receiver answered %s", resp.Status)
	}
	return nil
}

func (n *Notifier) backoff(attempt int) time.Duration {
	if n.Backoff != nil {
		return n.Backoff(attempt)
	}
	return time.Duration(min(attempt, 10)) * time.Minute
}

func (n *Notifier) giveUpAfter() time.Duration {
	if n.GiveUpAfter > 0 {
		return n.GiveUpAfter
	}
	return 24 * time.Hour
}
