package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/pii"
)

// ChatChannel is the channel name of the web chat widget's customers and messages.
const ChatChannel = "web"

// ChatStore is what the chat API reads and writes (postgres.DB).
type ChatStore interface {
	ChatSession(ctx context.Context, channel, externalID, name, email string) (customerID, conversationID int64, err error)
	Ingest(ctx context.Context, in baton.Inbound, window, idle time.Duration) (baton.IngestResult, error)
	MessagesAfter(ctx context.Context, conversationID int64, f baton.ConversationFilter, after int64, publicOnly bool, limit int) ([]baton.Message, []events.Scope, error)
	EventMessage(ctx context.Context, id int64) (baton.Message, events.Scope, error)
	EventConversation(ctx context.Context, id int64) (events.Scope, error)
}

// ChatFeedback records a customer's thumbs up or down on an answer (knowledge.Service).
type ChatFeedback interface {
	Feedback(ctx context.Context, messageID int64, chunkIDs []int64, up bool, by string) error
}

// ChatOptions configure the chat API.
type ChatOptions struct {
	Store          ChatStore
	Hub            *events.Hub
	Feedback       ChatFeedback // nil: feedback answers 404
	Tokens         ChatTokens
	IdentitySecret string   // BATON_CHAT_IDENTITY_SECRET; "" refuses identities
	Origins        []string // BATON_CHAT_ORIGINS: cross-origin pages allowed to call the API
	PublicURL      string   // its origin is always allowed
	TokenTTL       time.Duration
	Window, Idle   time.Duration // the burst window and idle resolve of ingest
	Clock          baton.Clock
	Heartbeat      time.Duration // SSE comment interval; 0 = 15s
}

// Limits of the chat API's inputs.
const (
	maxChatText     = 4000
	maxClientMsgID  = 100
	maxIdentity     = 200
	chatHistoryPage = 1000
)

type chatAPI struct {
	ChatOptions
	origins    map[string]bool
	preflights map[string]bool
}

// MountChat registers the web chat widget's API: sessions, messages (through the same
// ingest path as every channel), history, answer feedback and the event stream.
func (s *Server) MountChat(o ChatOptions) {
	if o.Clock == nil {
		o.Clock = baton.SystemClock{}
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 30 * 24 * time.Hour
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	c := &chatAPI{ChatOptions: o, origins: map[string]bool{}, preflights: map[string]bool{}}
	for _, origin := range o.Origins {
		c.origins[strings.TrimRight(origin, "/")] = true
	}
	if u, err := url.Parse(o.PublicURL); err == nil && u.Host != "" {
		c.origins[u.Scheme+"://"+u.Host] = true
	}
	// Browsers call these unauthenticated: each client IP is limited (Limits.PerIP); a
	// conversation flooding messages is caught by the loop detection.
	s.chatRoute("POST /v1/chat/sessions", 8<<10, c, c.createSession, Browser)
	s.chatRoute("POST /v1/chat/messages", 16<<10, c, c.postMessage, Browser)
	s.chatRoute("GET /v1/chat/messages", 0, c, c.history, Browser)
	s.chatRoute("POST /v1/chat/feedback", 4<<10, c, c.feedback, Browser)
	s.chatRoute("GET /v1/chat/events", 0, c, c.events)
}

// chatRoute registers a chat route with its CORS handling: a request from another origin is
// served (with CORS headers) only when that origin is allowed, and refused otherwise; its
// preflight OPTIONS is answered here too.
func (s *Server) chatRoute(pattern string, maxBody int64, c *chatAPI, h HandlerFunc, opts ...RouteOption) {
	s.Handle(pattern, Public, maxBody, func(w http.ResponseWriter, r *http.Request) error {
		if err := c.cors(w, r); err != nil {
			return err
		}
		return h(w, r)
	}, opts...)
	_, path, _ := strings.Cut(pattern, " ")
	opt := "OPTIONS " + path
	if c.preflights[opt] {
		return // the other method of this path registered it
	}
	c.preflights[opt] = true
	s.mux.Handle(opt, s.wrap(opt, Public, 0, func(w http.ResponseWriter, r *http.Request) error {
		if err := c.cors(w, r); err != nil {
			return err
		}
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
}

// cors allows same-origin and listed origins; a request without Origin (curl, a server) is
// not a browser's cross-origin call and needs nothing.
func (c *chatAPI) cors(w http.ResponseWriter, r *http.Request) error {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	if u, err := url.Parse(origin); err == nil && u.Host == r.Host {
		return nil
	}
	if !c.origins[origin] {
		return baton.Errorf(baton.ErrForbidden, "origin_not_allowed", "origin %s may not use the chat API (BATON_CHAT_ORIGINS)", origin)
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return nil
}

// claims authenticates a chat request: Authorization: Bearer <token>, or ?token= for
// EventSource, which cannot send headers (request logs carry the path only, never the query).
func (c *chatAPI) claims(r *http.Request) (ChatClaims, error) {
	token := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, t, ok := strings.Cut(strings.TrimSpace(h), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return ChatClaims{}, baton.Errorf(baton.ErrUnauthorized, "invalid_token", "Authorization must be a Bearer token")
		}
		token = strings.TrimSpace(t)
	}
	if token == "" {
		return ChatClaims{}, baton.Errorf(baton.ErrUnauthorized, "chat_token_required", "a chat token is required (POST /v1/chat/sessions)")
	}
	return c.Tokens.Verify(token, c.Clock.Now())
}

type chatSessionOut struct {
	Token          string    `json:"token"`
	ConversationID int64     `json:"conversation_id"`
	ExpiresAt      time.Time `json:"expires_at"`
}

func (c *chatAPI) createSession(w http.ResponseWriter, r *http.Request) error {
	if len(c.Tokens.Secret) == 0 {
		return baton.Errorf(baton.ErrUnavailable, "chat_not_configured", "the chat is not configured (BATON_CHAT_TOKEN_SECRET or BATON_WEBHOOK_SECRET)")
	}
	var in struct {
		Identity          string `json:"identity"`
		IdentitySignature string `json:"identity_signature"`
		Name              string `json:"name"`
		Email             string `json:"email"`
	}
	// A visitor with a valid token renews it: same customer and conversation, a new expiry.
	if r.Header.Get("Authorization") != "" {
		cl, err := c.claims(r)
		if err != nil {
			return err
		}
		return c.issue(w, cl.CustomerID, cl.ConversationID, cl.ExternalID)
	}
	if r.ContentLength != 0 {
		// The body is optional: an anonymous visitor sends none.
		if err := DecodeJSON(r, &in); err != nil && !isEmptyBody(err) {
			return err
		}
	}
	var ext string
	switch {
	case in.Identity != "":
		if len(in.Identity) > maxIdentity || !utf8.ValidString(in.Identity) {
			return baton.Invalid("identity must be 1..%d characters", maxIdentity)
		}
		if c.IdentitySecret == "" {
			return baton.Errorf(baton.ErrInvalid, "identity_not_configured", "signed identities need BATON_CHAT_IDENTITY_SECRET")
		}
		want := IdentitySignature(c.IdentitySecret, in.Identity)
		if !hmac.Equal([]byte(strings.ToLower(in.IdentitySignature)), []byte(want)) {
			return baton.Errorf(baton.ErrUnauthorized, "invalid_identity_signature", "identity_signature does not match the identity")
		}
		ext = "id:" + in.Identity
	case in.IdentitySignature != "":
		return baton.Invalid("identity_signature without identity")
	default:
		b := make([]byte, 16)
		rand.Read(b)
		ext = "anon:" + hex.EncodeToString(b)
	}
	if len(in.Name) > 200 || len(in.Email) > 200 {
		return baton.Invalid("name and email are at most 200 characters")
	}
	cust, conv, err := c.Store.ChatSession(r.Context(), ChatChannel, ext, strings.TrimSpace(in.Name), strings.TrimSpace(in.Email))
	if err != nil {
		return err
	}
	return c.issue(w, cust, conv, ext)
}

func (c *chatAPI) issue(w http.ResponseWriter, cust, conv int64, ext string) error {
	exp := c.Clock.Now().Add(c.TokenTTL).Truncate(time.Second)
	tok := c.Tokens.Sign(ChatClaims{CustomerID: cust, ConversationID: conv, ExternalID: ext, Expires: exp.Unix()})
	return WriteJSON(w, http.StatusCreated, chatSessionOut{Token: tok, ConversationID: conv, ExpiresAt: exp.UTC()})
}

func isEmptyBody(err error) bool {
	return err != nil && strings.Contains(err.Error(), "request body is empty")
}

func (c *chatAPI) postMessage(w http.ResponseWriter, r *http.Request) error {
	cl, err := c.claims(r)
	if err != nil {
		return err
	}
	var in struct {
		Text        string `json:"text"`
		ClientMsgID string `json:"client_msg_id"`
	}
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	text := strings.TrimSpace(in.Text)
	switch {
	case text == "":
		return baton.Invalid("text is required")
	case utf8.RuneCountInString(text) > maxChatText:
		return baton.Invalid("text is at most %d characters", maxChatText)
	case in.ClientMsgID == "" || len(in.ClientMsgID) > maxClientMsgID:
		return baton.Invalid("client_msg_id is required (1..%d characters), unique per message: a retry with the same id stores nothing new", maxClientMsgID)
	}
	res, err := c.Store.Ingest(r.Context(), baton.Inbound{
		Channel: ChatChannel, Sender: baton.Sender{ID: cl.ExternalID},
		// Scoped by the customer, so visitors cannot collide (or probe each other's ids).
		ExternalID: cl.ExternalID + "/" + in.ClientMsgID,
		// Card numbers are never stored in full, as on every channel.
		Text: pii.MaskCards(text),
	}, c.Window, c.Idle)
	if err != nil {
		return err
	}
	if res.ConversationID != cl.ConversationID {
		return baton.Errorf(baton.ErrNotFound, "not_found", "conversation not found")
	}
	status := http.StatusAccepted
	if res.Duplicate {
		status = http.StatusOK
	}
	return WriteJSON(w, status, map[string]int64{"message_id": res.MessageID, "conversation_id": res.ConversationID})
}

// ChatMessage is a message as the widget and the event streams show it.
type ChatMessage struct {
	ConversationID int64            `json:"conversation_id"`
	ID             int64            `json:"id"`
	Author         baton.Author     `json:"author"`
	Visibility     baton.Visibility `json:"visibility"`
	Text           string           `json:"text"`
	Citations      []baton.Citation `json:"citations"`
	CreatedAt      time.Time        `json:"created_at"`
}

// NewChatMessage shapes m for a client.
func NewChatMessage(m baton.Message) ChatMessage {
	cit := m.Citations
	if cit == nil {
		cit = []baton.Citation{}
	}
	return ChatMessage{ConversationID: m.ConversationID, ID: m.ID, Author: m.Author, Visibility: m.Visibility,
		Text: m.Text, Citations: cit, CreatedAt: m.CreatedAt.UTC()}
}

func (c *chatAPI) history(w http.ResponseWriter, r *http.Request) error {
	cl, err := c.claims(r)
	if err != nil {
		return err
	}
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return baton.Invalid("after must be a message id")
		}
	}
	sc, err := c.Store.EventConversation(r.Context(), cl.ConversationID)
	if err != nil {
		return err
	}
	ms, _, err := c.Store.MessagesAfter(r.Context(), cl.ConversationID, baton.ConversationFilter{}, after, true, chatHistoryPage)
	if err != nil {
		return err
	}
	out := make([]ChatMessage, 0, len(ms))
	for _, m := range ms {
		if m.Author == baton.AuthorSystem {
			continue // system notes are for agents
		}
		out = append(out, NewChatMessage(m))
	}
	return WriteJSON(w, http.StatusOK, map[string]any{"conversation_id": cl.ConversationID, "status": sc.Status, "messages": out})
}

func (c *chatAPI) feedback(w http.ResponseWriter, r *http.Request) error {
	cl, err := c.claims(r)
	if err != nil {
		return err
	}
	var in struct {
		MessageID int64 `json:"message_id"`
		Up        *bool `json:"up"`
	}
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Up == nil {
		return baton.Invalid("up is required: true for helpful, false for not")
	}
	notFound := baton.Errorf(baton.ErrNotFound, "not_found", "answer not found")
	if c.Feedback == nil || in.MessageID <= 0 {
		return notFound
	}
	m, _, err := c.Store.EventMessage(r.Context(), in.MessageID)
	if err != nil {
		return err
	}
	// Another conversation's message is as unknown as a missing one.
	if m.ConversationID != cl.ConversationID || m.Author != baton.AuthorBot || m.Visibility != baton.Public {
		return notFound
	}
	var chunks []int64
	for _, ci := range m.Citations {
		if ci.ChunkID > 0 && !slices.Contains(chunks, ci.ChunkID) {
			chunks = append(chunks, ci.ChunkID)
		}
	}
	if len(chunks) == 0 {
		return baton.Errorf(baton.ErrInvalid, "no_citations", "only answers from the help centre take feedback")
	}
	if err := c.Feedback.Feedback(r.Context(), m.ID, chunks, *in.Up, "customer:"+strconv.FormatInt(cl.CustomerID, 10)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// MountWidget serves the chat widget's pages (GET /chat and its files) with h. They need no
// session: the page starts its own chat session.
func (s *Server) MountWidget(h http.Handler) {
	serve := func(w http.ResponseWriter, r *http.Request) error { h.ServeHTTP(w, r); return nil }
	s.Handle("GET /chat", Public, 0, serve)
	s.Handle("GET /chat/{file}", Public, 0, serve)
}
