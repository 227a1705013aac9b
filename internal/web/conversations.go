package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/batonhq/baton"
)

// Conversations is the store behind the conversation API.
type Conversations interface {
	ListConversations(ctx context.Context, f baton.ConversationFilter) ([]baton.Conversation, error)
	Conversation(ctx context.Context, id int64) (baton.Conversation, error)
	// HandoffOf returns the conversation's latest handoff package, nil if it never had one.
	HandoffOf(ctx context.Context, id int64) (*baton.HandoffView, error)
}

// MountConversations registers the read API for agents and admins.
func (s *Server) MountConversations(store Conversations) {
	s.Handle("GET /v1/conversations", Agent, 0, func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		f := baton.ConversationFilter{Status: baton.ConversationStatus(q.Get("status")), Channel: q.Get("channel"), Limit: 50}
		if f.Status != "" && !f.Status.Valid() {
			return baton.Invalid("status must be bot, queued, agent or resolved")
		}
		var err error
		if v := q.Get("customer"); v != "" {
			if f.CustomerID, err = strconv.ParseInt(v, 10, 64); err != nil {
				return baton.Invalid("customer must be a customer id")
			}
		}
		if v := q.Get("cursor"); v != "" {
			if f.After, err = strconv.ParseInt(v, 10, 64); err != nil || f.After <= 0 {
				return baton.Invalid("cursor is not valid")
			}
		}
		if v := q.Get("limit"); v != "" {
			if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 200 {
				return baton.Invalid("limit must be 1..200")
			}
		}
		u, _ := UserFrom(r.Context())
		f.AllTeams, f.Teams = u.Role == baton.RoleAdmin, u.TeamIDs
		cs, err := store.ListConversations(r.Context(), f)
		if err != nil {
			return err
		}
		out := map[string]any{"conversations": cs, "next_cursor": nil}
		if len(cs) == f.Limit {
			out["next_cursor"] = strconv.FormatInt(cs[len(cs)-1].ID, 10)
		}
		if cs == nil {
			out["conversations"] = []baton.Conversation{}
		}
		return WriteJSON(w, http.StatusOK, out)
	})
	s.Handle("GET /v1/conversations/{id}", Agent, 0, func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.visibleConversation(r, store)
		if err != nil {
			return err
		}
		if c.Messages == nil {
			c.Messages = []baton.Message{}
		}
		h, err := store.HandoffOf(r.Context(), c.ID)
		if err != nil {
			return err
		}
		// The handoff package sits at the top: an agent starts from it, not the transcript.
		return WriteJSON(w, http.StatusOK, struct {
			Handoff *baton.HandoffView `json:"handoff"`
			baton.Conversation
		}{h, c})
	})
}

func (s *Server) visibleConversation(r *http.Request, store Conversations) (baton.Conversation, error) {
	id, err := PathID(r, "id")
	if err != nil {
		return baton.Conversation{}, err
	}
	c, err := store.Conversation(r.Context(), id)
	if err != nil {
		return c, err
	}
	return c, TeamVisible(r, c.TeamID, "conversation")
}
