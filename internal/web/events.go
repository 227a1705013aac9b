package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/events"
)

// Server-sent event streams (GET /v1/agent/events, GET /v1/chat/events). The contract:
//
//	id: <message id>          only on message events, for Last-Event-ID resume
//	event: message            {"conversation_id","id","author","visibility","text","citations","created_at"}
//	event: conversation       {"conversation_id","status", and for agents "priority","team","assigned_user_id"}
//	event: processing         {"conversation_id","state":"start"|"end"}
//	: ping                    every 15 s
//
// A stream resumes from Last-Event-ID (header, or ?last_event_id= for the first connection)
// by replaying the messages after it from the database before going live. A stream ends when
// its reader falls behind or the server shuts down; EventSource reconnects and resumes.

// streamWriteWait bounds one write to a stream; each write moves the deadline, so the
// server's WriteTimeout does not cut long streams.
const streamWriteWait = 30 * time.Second

// replayLimit bounds the messages a resuming stream replays.
const replayLimit = 500

type stream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startStream sends the event-stream headers. The request's read deadline is lifted: the
// connection stays open for as long as the stream.
func startStream(w http.ResponseWriter) (*stream, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{}) // best effort: not every writer supports it
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies: don't buffer
	w.WriteHeader(http.StatusOK)
	s := &stream{w: w, rc: rc}
	return s, s.write([]byte("retry: 2000\n\n"))
}

func (s *stream) write(b []byte) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(streamWriteWait)); err != nil {
		return fmt.Errorf("extend write deadline: %w", err)
	}
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *stream) event(id int64, kind events.Kind, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", kind, err)
	}
	var b []byte
	if id > 0 {
		b = strconv.AppendInt(append(b, "id: "...), id, 10)
		b = append(b, '\n')
	}
	b = append(append(append(b, "event: "...), kind...), '\n')
	b = append(append(append(b, "data: "...), raw...), "\n\n"...)
	return s.write(b)
}

// pump sends live events until the client leaves, the subscription ends (fell behind, or
// the hub stopped at shutdown) or a write fails; heartbeats keep proxies from closing an
// idle stream. Each of these ends the stream normally: the client reconnects.
func (s *stream) pump(ctx context.Context, sub *events.Subscription, heartbeat time.Duration, send func(events.Event) error) error {
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-sub.C:
			if !ok {
				return nil
			}
			if err := send(ev); err != nil {
				return nil
			}
		case <-tick.C:
			if err := s.write([]byte(": ping\n\n")); err != nil {
				return nil
			}
		}
	}
}

// hubReady waits (briefly) until the hub listens: a subscription made before would be cut
// off by the hub's first LISTEN, which cannot tell what it missed.
func hubReady(ctx context.Context, hub *events.Hub) error {
	if hub == nil {
		return baton.Errorf(baton.ErrUnavailable, "events_unavailable", "live events are not available")
	}
	select {
	case <-hub.Ready():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
		return baton.Errorf(baton.ErrUnavailable, "events_unavailable", "live events are not available yet")
	}
}

// lastEventID is where a stream resumes: the Last-Event-ID header EventSource sends on
// reconnect, or ?last_event_id= on the first connection.
func lastEventID(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, baton.Invalid("Last-Event-ID must be a message id")
	}
	return id, nil
}

type processingData struct {
	ConversationID int64  `json:"conversation_id"`
	State          string `json:"state"`
}

// events streams one conversation's public messages, status and processing to its widget.
func (c *chatAPI) events(w http.ResponseWriter, r *http.Request) error {
	cl, err := c.claims(r)
	if err != nil {
		return err
	}
	last, err := lastEventID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := hubReady(ctx, c.Hub); err != nil {
		return err
	}
	// Subscribe first, then read: nothing falls between the replay and the live events.
	sub := c.Hub.Subscribe(events.Filter{ConversationID: cl.ConversationID, PublicOnly: true})
	defer sub.Close()
	sc, err := c.Store.EventConversation(ctx, cl.ConversationID)
	if err != nil {
		return err
	}
	var replay []baton.Message
	if last > 0 {
		if replay, _, err = c.Store.MessagesAfter(ctx, cl.ConversationID, baton.ConversationFilter{}, last, true, replayLimit); err != nil {
			return err
		}
	}
	st, err := startStream(w)
	if err != nil {
		return nil
	}
	sent := map[int64]bool{}
	for _, m := range replay {
		if m.Author == baton.AuthorSystem {
			continue
		}
		if err := st.event(m.ID, events.KindMessage, NewChatMessage(m)); err != nil {
			return nil
		}
		sent[m.ID] = true
	}
	type status struct {
		ConversationID int64                    `json:"conversation_id"`
		Status         baton.ConversationStatus `json:"status"`
	}
	if err := st.event(0, events.KindConversation, status{cl.ConversationID, sc.Status}); err != nil {
		return nil
	}
	return st.pump(ctx, sub, c.Heartbeat, func(ev events.Event) error {
		switch ev.Kind {
		case events.KindMessage:
			m := ev.Message
			if sent[m.ID] || m.Author == baton.AuthorSystem || m.Visibility != baton.Public {
				return nil // internal notes never reach the customer (the filter drops them too)
			}
			return st.event(m.ID, ev.Kind, NewChatMessage(*m))
		case events.KindConversation:
			return st.event(0, ev.Kind, status{ev.ConversationID, ev.Scope.Status})
		case events.KindProcessing:
			return st.event(0, ev.Kind, processingData{ev.ConversationID, ev.Processing})
		}
		return nil
	})
}

// AgentEventStore is what the agent stream reads (postgres.DB).
type AgentEventStore interface {
	MessagesAfter(ctx context.Context, conversationID int64, f baton.ConversationFilter, after int64, publicOnly bool, limit int) ([]baton.Message, []events.Scope, error)
	TeamNames(ctx context.Context) (map[int64]string, error)
}

// ConversationEvent is the data of a conversation event on the agent stream.
type ConversationEvent struct {
	ConversationID int64                    `json:"conversation_id"`
	Status         baton.ConversationStatus `json:"status"`
	Priority       int                      `json:"priority"`
	Team           string                   `json:"team"`                       // "" = no team yet
	AssignedUserID int64                    `json:"assigned_user_id,omitempty"` // absent = nobody
}

type agentEvents struct {
	hub       *events.Hub
	store     AgentEventStore
	heartbeat time.Duration

	mu    sync.Mutex
	teams map[int64]string
}

// MountAgentEvents registers GET /v1/agent/events: the live changes of every conversation
// the agent may see (their teams; conversations without a team for the default team's
// members; all for admins), internal notes included. heartbeat 0 = 15s.
func (s *Server) MountAgentEvents(hub *events.Hub, store AgentEventStore, heartbeat time.Duration) {
	if heartbeat <= 0 {
		heartbeat = 15 * time.Second
	}
	a := &agentEvents{hub: hub, store: store, heartbeat: heartbeat, teams: map[int64]string{}}
	s.Handle("GET /v1/agent/events", Agent, 0, a.serve)
}

// teamName names team id, reloading the names when it is new.
func (a *agentEvents) teamName(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	a.mu.Lock()
	name, ok := a.teams[id]
	a.mu.Unlock()
	if ok {
		return name
	}
	names, err := a.store.TeamNames(ctx)
	if err != nil {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.teams = names
	return names[id]
}

func (a *agentEvents) serve(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	last, err := lastEventID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := hubReady(ctx, a.hub); err != nil {
		return err
	}
	all := u.Role == baton.RoleAdmin
	sub := a.hub.Subscribe(events.Filter{AllTeams: all, Teams: u.TeamIDs, DefaultTeam: u.InDefaultTeam})
	defer sub.Close()
	var replay []baton.Message
	if last > 0 {
		if replay, _, err = a.store.MessagesAfter(ctx, 0, baton.ConversationFilter{Teams: u.TeamIDs, AllTeams: all}, last, false, replayLimit); err != nil {
			return err
		}
	}
	st, err := startStream(w)
	if err != nil {
		return nil
	}
	sent := map[int64]bool{}
	for _, m := range replay {
		if err := st.event(m.ID, events.KindMessage, NewChatMessage(m)); err != nil {
			return nil
		}
		sent[m.ID] = true
	}
	return st.pump(ctx, sub, a.heartbeat, func(ev events.Event) error {
		switch ev.Kind {
		case events.KindMessage:
			if sent[ev.Message.ID] {
				return nil
			}
			return st.event(ev.Message.ID, ev.Kind, NewChatMessage(*ev.Message))
		case events.KindConversation:
			sc := ev.Scope
			return st.event(0, ev.Kind, ConversationEvent{ConversationID: ev.ConversationID, Status: sc.Status,
				Priority: sc.Priority, Team: a.teamName(ctx, sc.TeamID), AssignedUserID: sc.AssignedUserID})
		case events.KindProcessing:
			return st.event(0, ev.Kind, processingData{ev.ConversationID, ev.Processing})
		}
		return nil
	})
}
