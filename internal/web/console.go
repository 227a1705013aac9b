package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/batonhq/baton"
)

// InboxItem is one conversation in an agent's inbox: waiting in the queue, or held by the agent.
type InboxItem struct {
	baton.QueueItem
	Status         baton.ConversationStatus `json:"status"`
	Sentiment      float64                  `json:"sentiment"` // the conversation's trend, -1..1
	AssignedUserID *int64                   `json:"assigned_user_id"`
	LastMessageAt  *time.Time               `json:"last_message_at"`
}

// TurnTrace is what the bot decided in one turn and why, as the turn recorded it.
type TurnTrace struct {
	ID         int64           `json:"id"`
	MessageIDs []int64         `json:"message_ids"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at"`
	Data       json.RawMessage `json:"data"`
}

// ConsoleStore is what the agent inbox and the admin console read beyond the other APIs.
type ConsoleStore interface {
	// Inbox lists the queue of the teams (all with allTeams) and the conversations userID holds.
	Inbox(ctx context.Context, userID int64, teams []int64, allTeams bool) (queue, mine []InboxItem, err error)
	// TurnTraces lists a conversation's turn traces, oldest first.
	TurnTraces(ctx context.Context, convID int64, limit int) ([]TurnTrace, error)
	// ConversationTeam returns the team a conversation belongs to (nil: none yet).
	ConversationTeam(ctx context.Context, id int64) (*int64, error)
}

// ConsoleSettings are the deployment's thresholds, shown read-only in the admin console.
type ConsoleSettings map[string]string

// MountConsole registers the JSON the browser screens need beyond the agent and admin APIs:
// the inbox (queue and own conversations with sentiment), a conversation's turn traces and
// the deployment's settings.
func (s *Server) MountConsole(store ConsoleStore, settings ConsoleSettings) {
	s.Handle("GET /v1/agent/inbox", Agent, 0, func(w http.ResponseWriter, r *http.Request) error {
		u, _ := UserFrom(r.Context())
		queue, mine, err := store.Inbox(r.Context(), u.ID, u.TeamIDs, u.Role == baton.RoleAdmin)
		if err != nil {
			return err
		}
		if queue == nil {
			queue = []InboxItem{}
		}
		if mine == nil {
			mine = []InboxItem{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"queue": queue, "mine": mine})
	})
	s.Handle("GET /v1/conversations/{id}/traces", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := store.ConversationTeam(r.Context(), id); err != nil {
			return err
		}
		limit, err := limitParam(r, 100, 500)
		if err != nil {
			return err
		}
		ts, err := store.TurnTraces(r.Context(), id, limit)
		if err != nil {
			return err
		}
		if ts == nil {
			ts = []TurnTrace{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"traces": ts})
	})
	s.Handle("GET /v1/admin/settings", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		if settings == nil {
			settings = ConsoleSettings{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"settings": settings})
	})
}
