// Package events is the live event hub: changes to conversations travel over PostgreSQL
// NOTIFY (channel baton_events, payloads of ids only), so every `serve` process sees every
// change whichever process or worker made it. Each process holds one LISTEN connection
// (Hub.Run, reconnecting) and fans events out to its subscribers, filtered by conversation
// (the chat widget) or by teams (the agent inbox).
//
// Publishers: triggers on messages (insert) and conversations (status, priority, team or
// assigned agent changed) publish every write path's changes; the worker publishes
// processing start/end around a turn (Publisher).
//
// A subscription whose reader falls behind, or that lived through a reconnect of the LISTEN
// connection (events may have been missed), is closed with ErrGap: the stream ends and its
// client resumes from its Last-Event-ID, replayed from the database.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

// Kind is the kind of an event; it is the SSE `event:` name.
type Kind string

// The kinds of events.
const (
	KindMessage      Kind = "message"      // a message was stored (customer, bot, agent; notes too)
	KindConversation Kind = "conversation" // status, priority, team or assigned agent changed
	KindProcessing   Kind = "processing"   // a turn started or ended on the conversation
)

// Processing states.
const (
	ProcessingStart = "start"
	ProcessingEnd   = "end"
)

// Errors that end a subscription.
var (
	// ErrGap: events may have been missed (slow reader, LISTEN reconnected); resume from the
	// database.
	ErrGap = errors.New("events: subscription fell behind; resume from the last event id")
	// ErrClosed: the hub stopped (shutdown).
	ErrClosed = errors.New("events: hub stopped")
)

// Scope is who may see a conversation's events, with what an inbox shows of it.
type Scope = postgres.EventScope

// Event is one change, with the data subscribers need read once by the hub.
type Event struct {
	Kind           Kind
	ConversationID int64
	Scope          Scope          // message and conversation events; processing events for team subscribers
	Message        *baton.Message // message events
	Processing     string         // processing events: ProcessingStart or ProcessingEnd
	// PrevTeamID is the team before a conversation event (equal to Scope.TeamID unless the
	// team changed): the old team's subscribers get the event too, and see it leave.
	PrevTeamID int64
}

// Filter chooses a subscriber's events.
type Filter struct {
	// ConversationID > 0: only this conversation (the chat widget).
	ConversationID int64
	// Otherwise an agent's view: every team (admins), the listed teams, and conversations
	// without a team for members of the default team.
	AllTeams    bool
	Teams       []int64
	DefaultTeam bool
	// PublicOnly leaves internal notes out (always for the chat widget).
	PublicOnly bool
}

// Sees reports whether an event of a conversation in scope sc passes the filter's team rule.
func (f Filter) Sees(convID int64, sc Scope) bool {
	if f.ConversationID > 0 {
		return convID == f.ConversationID
	}
	return f.AllTeams || slices.Contains(f.Teams, sc.TeamID) || sc.TeamID == 0 && f.DefaultTeam
}

func (f Filter) accepts(ev Event) bool {
	prev := ev.Scope
	prev.TeamID = ev.PrevTeamID
	if !f.Sees(ev.ConversationID, ev.Scope) && !(ev.Kind == KindConversation && f.Sees(ev.ConversationID, prev)) {
		return false
	}
	return !(f.PublicOnly && ev.Message != nil && ev.Message.Visibility != baton.Public)
}

// Store reads what events refer to (postgres.DB).
type Store interface {
	EventMessage(ctx context.Context, id int64) (baton.Message, Scope, error)
	EventConversation(ctx context.Context, id int64) (Scope, error)
}

// Buffer is how many events a subscriber may have unread before it is cut off with ErrGap.
const Buffer = 256

// Subscription receives events on C until it is closed; Err then says why.
type Subscription struct {
	C <-chan Event

	c      chan Event
	filter Filter
	hub    *Hub
	once   sync.Once
	err    error // set before c is closed
}

// Err is why C was closed (ErrGap, ErrClosed), nil while open or after Close.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.drop(s, nil)
}

// Hub fans NOTIFY events out to this process's subscribers. Create with New; Run it.
type Hub struct {
	pool  *pgxpool.Pool
	store Store
	log   *slog.Logger

	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	convs   map[int64]int // subscribers per conversation
	teamSub int           // subscribers by team
	stopped bool
	ready   chan struct{}
	scopes  map[int64]Scope // conversation scopes seen, for processing events
}

// New builds a hub listening through pool (one connection held while running).
func New(pool *pgxpool.Pool, store Store, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{pool: pool, store: store, log: log, subs: map[*Subscription]struct{}{},
		convs: map[int64]int{}, ready: make(chan struct{}), scopes: map[int64]Scope{}}
}

// Ready is closed once the hub listens for the first time.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Subscribe starts receiving the events f selects. Subscribe before reading the state to
// resume from, so that nothing falls between the two.
func (h *Hub) Subscribe(f Filter) *Subscription {
	c := make(chan Event, Buffer)
	s := &Subscription{C: c, c: c, filter: f, hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		s.err = ErrClosed
		s.once.Do(func() { close(c) })
		return s
	}
	h.subs[s] = struct{}{}
	if f.ConversationID > 0 {
		h.convs[f.ConversationID]++
	} else {
		h.teamSub++
	}
	return s
}

// drop removes s and closes its channel with err; h.mu is held.
func (h *Hub) drop(s *Subscription, err error) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	if id := s.filter.ConversationID; id > 0 {
		if h.convs[id]--; h.convs[id] <= 0 {
			delete(h.convs, id)
		}
	} else {
		h.teamSub--
	}
	s.err = err
	s.once.Do(func() { close(s.c) })
}

// Subscribers counts the open subscriptions (for tests and metrics).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// dropAll ends every subscription with err.
func (h *Hub) dropAll(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		h.drop(s, err)
	}
}

// Run listens until ctx is done, reconnecting after failures, then closes every
// subscription with ErrClosed (which ends the SSE streams, so a graceful shutdown is not
// held up by them).
func (h *Hub) Run(ctx context.Context) error {
	defer func() {
		h.mu.Lock()
		h.stopped = true
		h.mu.Unlock()
		h.dropAll(ErrClosed)
	}()
	first := true
	for ctx.Err() == nil {
		err := h.listen(ctx, first)
		first = false
		if ctx.Err() != nil {
			break
		}
		h.log.WarnContext(ctx, "events listener", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

func (h *Hub) listen(ctx context.Context, first bool) error {
	pc, err := h.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire listen connection: %w", err)
	}
	// The connection holds a LISTEN: it never goes back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck
	if _, err := conn.Exec(ctx, "LISTEN "+postgres.EventsChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Whoever subscribed before now may have missed events: they resume from the database.
	h.dropAll(ErrGap)
	if first {
		close(h.ready)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		h.dispatch(ctx, []byte(n.Payload))
	}
}

// payload is what the triggers and the publisher send (see the events migration).
type payload struct {
	Kind   Kind   `json:"k"`
	Conv   int64  `json:"c"`
	ID     int64  `json:"id"`
	Status string `json:"s"`
	Prio   int    `json:"p"`
	Team   int64  `json:"t"`
	Old    int64  `json:"o"`
	User   int64  `json:"u"`
	State  string `json:"st"`
}

// interest reports whether any subscriber may want events of conversation id.
func (h *Hub) interest(id int64) (byConv, byTeam bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.convs[id] > 0, h.teamSub > 0
}

func (h *Hub) dispatch(ctx context.Context, raw []byte) {
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil || p.Conv <= 0 {
		h.log.WarnContext(ctx, "malformed event", "payload", string(raw))
		return
	}
	byConv, byTeam := h.interest(p.Conv)
	if p.Kind == KindConversation {
		// Keep the cache current whether or not anyone listens: processing events use it.
		h.remember(p.Conv, Scope{Status: baton.ConversationStatus(p.Status), Priority: p.Prio, TeamID: p.Team, AssignedUserID: p.User})
	}
	if !byConv && !byTeam {
		return
	}
	ev := Event{Kind: p.Kind, ConversationID: p.Conv}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	switch p.Kind {
	case KindMessage:
		m, sc, err := h.store.EventMessage(lctx, p.ID)
		if err != nil {
			h.log.WarnContext(ctx, "read event message", "message_id", p.ID, "err", err)
			return
		}
		ev.Message, ev.Scope = &m, sc
		h.remember(p.Conv, sc)
	case KindConversation:
		ev.Scope = Scope{Status: baton.ConversationStatus(p.Status), Priority: p.Prio, TeamID: p.Team, AssignedUserID: p.User}
		ev.PrevTeamID = p.Old
	case KindProcessing:
		if p.State != ProcessingStart && p.State != ProcessingEnd {
			return
		}
		ev.Processing = p.State
		if byTeam {
			sc, ok := h.scope(p.Conv)
			if !ok {
				var err error
				if sc, err = h.store.EventConversation(lctx, p.Conv); err != nil {
					h.log.WarnContext(ctx, "read event conversation", "conversation_id", p.Conv, "err", err)
					return
				}
				h.remember(p.Conv, sc)
			}
			ev.Scope = sc
		}
	default:
		return
	}
	h.fanOut(ev)
}

// fanOut hands ev to every subscriber that accepts it, cutting off those that are full.
func (h *Hub) fanOut(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !s.filter.accepts(ev) {
			continue
		}
		select {
		case s.c <- ev:
		default:
			h.drop(s, ErrGap)
		}
	}
}

// maxScopes bounds the scope cache; past it the cache starts over.
const maxScopes = 50_000

func (h *Hub) remember(id int64, sc Scope) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.scopes) >= maxScopes {
		clear(h.scopes)
	}
	h.scopes[id] = sc
}

func (h *Hub) scope(id int64) (Scope, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sc, ok := h.scopes[id]
	return sc, ok
}
