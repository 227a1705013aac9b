package web

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/pii"
)

// Ingester stores inbound messages (see postgres.DB.Ingest).
type Ingester interface {
	Ingest(ctx context.Context, in baton.Inbound, window, idle time.Duration) (baton.IngestResult, error)
}

// ChannelStore is what channel events need stored (see internal/postgres/channels.go).
type ChannelStore interface {
	Ingester
	// IngestSilent stores a message as answered, without a turn.
	IngestSilent(ctx context.Context, in baton.Inbound, idle time.Duration) (baton.IngestResult, error)
	// ApplyStatus moves a reply's delivery state forward; found is false for an unknown reply.
	ApplyStatus(ctx context.Context, channel string, st baton.StatusUpdate) (found bool, err error)
	OptedOut(ctx context.Context, channel, externalID string) (bool, error)
	SetOptOut(ctx context.Context, channel, externalID string, out bool) error
	// BackToBot gives a conversation the provider's inbox released back to the bot.
	BackToBot(ctx context.Context, channel, externalID string) error
	// PauseForHuman mutes the bot in a conversation a person of the business answered.
	PauseForHuman(ctx context.Context, channel, externalID string) error
}

// messagesPath is the one inbound path shape every channel may use; an unknown name answers
// 404 unknown_channel.
var messagesPath = regexp.MustCompile(`^/v1/channels/([a-z0-9_-]+)/messages$`)

// MountChannels registers the routes of every channel adapter. POST
// /v1/channels/{channel}/messages dispatches by name (404 unknown_channel for a channel that is
// not configured); other routes are registered as their adapters declare them, so an
// unconfigured channel's routes answer 404.
func (s *Server) MountChannels(reg channel.Registry, store ChannelStore, window, idle time.Duration) {
	type target struct {
		a  channel.Adapter
		rt channel.Route
	}
	byName := map[string]target{}
	var maxBody int64
	for _, a := range reg {
		for _, rt := range a.Routes() {
			if m := messagesPath.FindStringSubmatch(rt.Path); m != nil && rt.Method == http.MethodPost {
				byName[m[1]] = target{a, rt}
				maxBody = max(maxBody, rt.MaxBody)
				continue
			}
			s.Handle(rt.Method+" "+rt.Path, Public, rt.MaxBody, s.channelRoute(a, rt, store, window, idle))
		}
	}
	s.Handle("POST /v1/channels/{channel}/messages", Public, maxBody, func(w http.ResponseWriter, r *http.Request) error {
		t, ok := byName[r.PathValue("channel")]
		if !ok {
			return baton.Errorf(baton.ErrNotFound, "unknown_channel", "unknown channel %q", r.PathValue("channel"))
		}
		return s.channelRoute(t.a, t.rt, store, window, idle)(w, r)
	})
}

// channelRoute serves one route: the raw body (bounded) is verified and decoded by the
// adapter, every event is stored, and the adapter acknowledges in the provider's format.
func (s *Server) channelRoute(a channel.Adapter, rt channel.Route, store ChannelStore, window, idle time.Duration) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if rt.Serve != nil {
			return rt.Serve(w, r)
		}
		body, err := channel.ReadBody(r, rt.MaxBody)
		if err != nil {
			return err
		}
		events, err := a.Inbound(r, body)
		if err != nil {
			return err
		}
		// After the signature check, so nobody spends another sender's allowance; before
		// storing anything, so a refused batch is retried whole (and deduplicated).
		for _, ev := range events {
			if ev.Kind == baton.ChannelMessage {
				if err := s.LimitSender(r.Context(), a.Name(), ev.Message.Sender.ID); err != nil {
					return err
				}
			}
		}
		results := make([]channel.Result, 0, len(events))
		for _, ev := range events {
			// A failure stores part of a batch: the provider retries it, and what was stored is
			// recognised as a duplicate.
			res, err := storeEvent(r.Context(), a, ev, store, window, idle)
			if err != nil {
				return err
			}
			results = append(results, res)
		}
		if rt.Ack != nil {
			return rt.Ack(w, results)
		}
		if len(results) != 1 || results[0].Event.Kind != baton.ChannelMessage {
			w.WriteHeader(http.StatusOK)
			return nil
		}
		status := http.StatusAccepted
		if results[0].Ingest.Duplicate {
			status = http.StatusOK
		}
		return WriteJSON(w, status, results[0].Ingest)
	}
}

// storeEvent stores one event: a message (answered by a turn, or silently), a status, a
// conversation given back to the bot.
func storeEvent(ctx context.Context, a channel.Adapter, ev baton.ChannelEvent, store ChannelStore, window, idle time.Duration) (channel.Result, error) {
	res := channel.Result{Event: ev}
	var err error
	switch ev.Kind {
	case baton.ChannelStatus:
		_, err = store.ApplyStatus(ctx, a.Name(), ev.Status)
		return res, err
	case baton.ChannelBackToBot:
		return res, store.BackToBot(ctx, a.Name(), ev.Customer)
	case baton.ChannelHumanReply:
		return res, store.PauseForHuman(ctx, a.Name(), ev.Customer)
	case baton.ChannelMessage:
	default:
		return res, nil
	}
	in := ev.Message
	// Card numbers are never stored in full: only their last four digits are kept.
	in.Text = pii.MaskCards(in.Text)
	silent := ev.Silent || ev.Reply != ""
	if a.Caps().Compliance {
		switch {
		case ev.OptOut:
			err = store.SetOptOut(ctx, a.Name(), in.Sender.ID, true)
			silent = true
		case ev.OptIn:
			err = store.SetOptOut(ctx, a.Name(), in.Sender.ID, false)
		default:
			// Opted out or blocked: stored, never answered, before any model call.
			var out bool
			out, err = store.OptedOut(ctx, a.Name(), in.Sender.ID)
			silent = silent || out
		}
		if err != nil {
			return res, err
		}
	}
	if silent {
		res.Ingest, err = store.IngestSilent(ctx, in, idle)
	} else {
		res.Ingest, err = store.Ingest(ctx, in, window, idle)
	}
	return res, err
}
