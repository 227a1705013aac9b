package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/batonhq/baton"
)

// DeadLetters is the failed work behind the operations API. Retry and Discard return
// baton.ErrNotFound for an unknown id and baton.ErrConflict for one that cannot be retried.
type DeadLetters interface {
	List(ctx context.Context, limit int) ([]baton.DeadLetter, error)
	Retry(ctx context.Context, id string) error
	Discard(ctx context.Context, id string) error
	RetryMany(ctx context.Context, ids []string, all bool) (baton.BulkResult, error)
	DiscardMany(ctx context.Context, ids []string, all bool) (baton.BulkResult, error)
}

// maxBulkIDs bounds the ids of one bulk request.
const maxBulkIDs = 1000

// MountOps registers the admin API for dead letters: list, retry and discard, one by one or
// in bulk.
func (s *Server) MountOps(dl DeadLetters) {
	s.Handle("GET /v1/admin/failed", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		limit, err := limitParam(r, 100, 1000)
		if err != nil {
			return err
		}
		list, err := dl.List(r.Context(), limit)
		if err != nil {
			return err
		}
		if list == nil {
			list = []baton.DeadLetter{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"failed": list})
	})
	one := func(op func(context.Context, string) error) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			if err := op(r.Context(), r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	s.Handle("POST /v1/admin/failed/{id}/retry", Admin, 0, one(dl.Retry))
	s.Handle("POST /v1/admin/failed/{id}/discard", Admin, 0, one(dl.Discard))
	bulk := func(op func(context.Context, []string, bool) (baton.BulkResult, error)) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			var in struct {
				IDs []string `json:"ids"`
				All bool     `json:"all"`
			}
			if err := DecodeJSON(r, &in); err != nil {
				return err
			}
			switch {
			case in.All && len(in.IDs) > 0:
				return baton.Invalid("give ids or all, not both")
			case !in.All && len(in.IDs) == 0:
				return baton.Invalid("give the ids to act on, or all: true")
			case len(in.IDs) > maxBulkIDs:
				return baton.Invalid("at most %d ids at once", maxBulkIDs)
			}
			for _, id := range in.IDs {
				if strings.TrimSpace(id) == "" {
					return baton.Invalid("ids must not be empty")
				}
			}
			res, err := op(r.Context(), in.IDs, in.All)
			if err != nil {
				return err
			}
			return WriteJSON(w, http.StatusOK, res)
		}
	}
	s.Handle("POST /v1/admin/failed/retry", Admin, 64<<10, bulk(dl.RetryMany))
	s.Handle("POST /v1/admin/failed/discard", Admin, 64<<10, bulk(dl.DiscardMany))
}

// Switches is the store behind the bot's pause and mute switches.
type Switches interface {
	BotPaused(ctx context.Context) (bool, error)
	SetBotPaused(ctx context.Context, actorID int64, paused bool) error
	ConversationTeam(ctx context.Context, convID int64) (*int64, error)
	SetMuted(ctx context.Context, actorID, convID int64, muted bool) error
}

// MountSwitches registers the global pause (admins) and the per-conversation mute (agents of
// the conversation's team and admins).
func (s *Server) MountSwitches(store Switches) {
	s.Handle("GET /v1/admin/bot", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		paused, err := store.BotPaused(r.Context())
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]bool{"paused": paused})
	})
	s.Handle("PUT /v1/admin/bot", Admin, 4<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Paused *bool `json:"paused"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if in.Paused == nil {
			return baton.Invalid("paused (true or false) is required")
		}
		if err := store.SetBotPaused(r.Context(), Actor(r), *in.Paused); err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]bool{"paused": *in.Paused})
	})
	mute := func(muted bool) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			id, err := PathID(r, "id")
			if err != nil {
				return err
			}
			team, err := store.ConversationTeam(r.Context(), id)
			if err != nil {
				return err
			}
			if err := TeamVisible(r, team, "conversation"); err != nil {
				return err
			}
			if err := store.SetMuted(r.Context(), Actor(r), id, muted); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	s.Handle("POST /v1/conversations/{id}/mute", Agent, 0, mute(true))
	s.Handle("POST /v1/conversations/{id}/unmute", Agent, 0, mute(false))
}
