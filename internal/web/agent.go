package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/handoff"
)

// AgentStore is the store behind the agent API. Refused lifecycle moves are baton.ErrConflict;
// unknown conversations, users and teams baton.ErrNotFound.
type AgentStore interface {
	// ConversationTeam returns the team a conversation belongs to (nil: none yet).
	ConversationTeam(ctx context.Context, id int64) (*int64, error)
	AgentQueue(ctx context.Context, f baton.ConversationFilter) ([]baton.QueueItem, error)
	Claim(ctx context.Context, userID, convID int64) (baton.Assignment, error)
	Transfer(ctx context.Context, actorID, convID int64, to baton.Transfer) error
	PostMessage(ctx context.Context, m baton.AgentMessage) (baton.Message, error)
	// ResolveConversation and ReturnToBot return the agent whose slot they freed (0: none).
	ResolveConversation(ctx context.Context, actorID, convID int64, askCSAT bool) (int64, error)
	ReturnToBot(ctx context.Context, actorID, convID int64) (int64, error)
	SetPresence(ctx context.Context, userID int64, p baton.Presence) error
	// AssignBacklog gives waiting conversations of the teams to online agents with room.
	AssignBacklog(ctx context.Context, teams []int64, limit int) ([]baton.Assignment, error)
	TeamsOf(ctx context.Context, userID int64) ([]int64, error)
	CannedReplies(ctx context.Context, teams []int64, allTeams bool) ([]baton.CannedReply, error)
	SaveCannedReply(ctx context.Context, actorID int64, c baton.CannedReply) (baton.CannedReply, error)
	DeleteCannedReply(ctx context.Context, actorID, id int64) error
	TeamHours(ctx context.Context, teamID int64) (json.RawMessage, error)
	SetTeamHours(ctx context.Context, actorID, teamID int64, hours json.RawMessage) error
}

// backlogLimit bounds the assignments one request makes; the periodic job assigns the rest.
const backlogLimit = 50

// MountAgent registers the agent API: the queue, claim, transfer, replies and notes, resolve,
// return to the bot, presence; canned replies and team business hours for admins.
func (s *Server) MountAgent(store AgentStore) {
	s.Handle("GET /v1/agent/queue", Agent, 0, func(w http.ResponseWriter, r *http.Request) error {
		u, _ := UserFrom(r.Context())
		limit, err := limitParam(r, 100, 500)
		if err != nil {
			return err
		}
		items, err := store.AgentQueue(r.Context(), baton.ConversationFilter{Teams: u.TeamIDs, AllTeams: u.Role == baton.RoleAdmin, Limit: limit})
		if err != nil {
			return err
		}
		if items == nil {
			items = []baton.QueueItem{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"conversations": items})
	})
	s.Handle("POST /v1/conversations/{id}/claim", Agent, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.agentConversation(r, store)
		if err != nil {
			return err
		}
		a, err := store.Claim(r.Context(), Actor(r), id)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"conversation_id": id, "status": baton.StatusAgent, "assigned_user_id": a.UserID})
	})
	s.Handle("POST /v1/conversations/{id}/transfer", Agent, 4<<10, func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.agentConversation(r, store)
		if err != nil {
			return err
		}
		var to baton.Transfer
		if err := DecodeJSON(r, &to); err != nil {
			return err
		}
		if err := store.Transfer(r.Context(), Actor(r), id, to); err != nil {
			return err
		}
		if to.Team != "" {
			s.assignBacklog(r.Context(), store, nil)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Handle("POST /v1/conversations/{id}/messages", Agent, 16<<10, func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.agentConversation(r, store)
		if err != nil {
			return err
		}
		var in struct {
			Text       string           `json:"text"`
			Visibility baton.Visibility `json:"visibility"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if in.Visibility == "" {
			in.Visibility = baton.Public
		}
		m, err := store.PostMessage(r.Context(), baton.AgentMessage{ConversationID: id, Author: baton.AuthorAgent, UserID: Actor(r),
			Visibility: in.Visibility, Text: in.Text})
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, m)
	})
	s.Handle("POST /v1/conversations/{id}/resolve", Agent, 4<<10, func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.agentConversation(r, store)
		if err != nil {
			return err
		}
		var in struct {
			AskCSAT bool `json:"ask_csat"`
		}
		if r.ContentLength != 0 {
			if err := DecodeJSON(r, &in); err != nil {
				return err
			}
		}
		freed, err := store.ResolveConversation(r.Context(), Actor(r), id, in.AskCSAT)
		if err != nil {
			return err
		}
		s.slotFreed(r.Context(), store, freed)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Handle("POST /v1/conversations/{id}/return", Agent, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.agentConversation(r, store)
		if err != nil {
			return err
		}
		freed, err := store.ReturnToBot(r.Context(), Actor(r), id)
		if err != nil {
			return err
		}
		s.slotFreed(r.Context(), store, freed)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Handle("PUT /v1/agent/presence", Agent, 4<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Status baton.Presence `json:"status"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if !in.Status.Valid() {
			return baton.Invalid("status must be online, away or offline")
		}
		u, _ := UserFrom(r.Context())
		if err := store.SetPresence(r.Context(), u.ID, in.Status); err != nil {
			return err
		}
		assigned := []baton.Assignment{}
		if in.Status == baton.PresenceOnline && len(u.TeamIDs) > 0 {
			// The backlog waiting for this agent's teams is assigned as they come online.
			assigned = s.assignBacklog(r.Context(), store, u.TeamIDs)
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"status": in.Status, "assigned": assigned})
	})

	s.Handle("GET /v1/canned-replies", Agent, 0, func(w http.ResponseWriter, r *http.Request) error {
		u, _ := UserFrom(r.Context())
		cs, err := store.CannedReplies(r.Context(), u.TeamIDs, u.Role == baton.RoleAdmin)
		if err != nil {
			return err
		}
		if cs == nil {
			cs = []baton.CannedReply{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"canned_replies": cs})
	})
	saveCanned := func(w http.ResponseWriter, r *http.Request, id int64) error {
		var in struct {
			Shortcut string `json:"shortcut"`
			Title    string `json:"title"`
			Body     string `json:"body"`
			TeamID   *int64 `json:"team_id"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		c, err := store.SaveCannedReply(r.Context(), Actor(r), baton.CannedReply{ID: id, Shortcut: in.Shortcut, Title: in.Title, Body: in.Body, TeamID: in.TeamID})
		if err != nil {
			return err
		}
		status := http.StatusOK
		if id == 0 {
			status = http.StatusCreated
		}
		return WriteJSON(w, status, c)
	}
	s.Handle("POST /v1/canned-replies", Admin, 16<<10, func(w http.ResponseWriter, r *http.Request) error {
		return saveCanned(w, r, 0)
	})
	s.Handle("PUT /v1/canned-replies/{id}", Admin, 16<<10, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		return saveCanned(w, r, id)
	})
	s.Handle("DELETE /v1/canned-replies/{id}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		if err := store.DeleteCannedReply(r.Context(), Actor(r), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})

	s.Handle("GET /v1/teams/{id}/hours", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		raw, err := store.TeamHours(r.Context(), id)
		if err != nil {
			return err
		}
		out := map[string]any{"team_id": id, "hours": nil, "always_open": raw == nil}
		if raw != nil {
			out["hours"] = raw
		}
		return WriteJSON(w, http.StatusOK, out)
	})
	s.Handle("PUT /v1/teams/{id}/hours", Admin, 16<<10, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		var in struct {
			Hours *json.RawMessage `json:"hours"` // null: always open
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		var stored json.RawMessage
		if in.Hours != nil && string(*in.Hours) != "null" {
			var cal handoff.Calendar
			if err := json.Unmarshal(*in.Hours, &cal); err != nil {
				return err
			}
			// Stored as the calendar writes it, so what is read back is what will be applied.
			if stored, err = json.Marshal(&cal); err != nil {
				return err
			}
			if cal.Schedule().Timezone == "" {
				stored = nil // an empty schedule: always open
			}
		}
		if err := store.SetTeamHours(r.Context(), Actor(r), id, stored); err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"team_id": id, "hours": stored, "always_open": stored == nil})
	})
}

// agentConversation parses the path's conversation id and hides another team's conversation as
// 404, like an unknown one.
func (s *Server) agentConversation(r *http.Request, store AgentStore) (int64, error) {
	id, err := PathID(r, "id")
	if err != nil {
		return 0, err
	}
	team, err := store.ConversationTeam(r.Context(), id)
	if err != nil {
		return 0, err
	}
	return id, TeamVisible(r, team, "conversation")
}

// slotFreed assigns waiting conversations of the freed agent's teams.
func (s *Server) slotFreed(ctx context.Context, store AgentStore, userID int64) {
	if userID == 0 {
		return
	}
	teams, err := store.TeamsOf(ctx, userID)
	if err != nil {
		s.logWarn(ctx, "list teams of a freed agent", err)
		return
	}
	if len(teams) > 0 {
		s.assignBacklog(ctx, store, teams)
	}
}

// assignBacklog assigns what it can now; a failure is logged, not the request's: the periodic
// job assigns what is left.
func (s *Server) assignBacklog(ctx context.Context, store AgentStore, teams []int64) []baton.Assignment {
	as, err := store.AssignBacklog(ctx, teams, backlogLimit)
	if err != nil {
		s.logWarn(ctx, "assign backlog", err)
	}
	if as == nil {
		as = []baton.Assignment{}
	}
	return as
}

func (s *Server) logWarn(ctx context.Context, msg string, err error) {
	if s.log != nil {
		s.log.WarnContext(ctx, msg, "err", err)
	}
}
