package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/testkit"
	"github.com/batonhq/baton/internal/web"
)

// chatCall is one request to a running Baton.
func chatCall(t *testing.T, method, url, token string, body any, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

type chatSession struct {
	Token          string `json:"token"`
	ConversationID int64  `json:"conversation_id"`
}

func newChat(t *testing.T, base string, body any) chatSession {
	t.Helper()
	status, _, raw := chatCall(t, "POST", base+"/v1/chat/sessions", "", body)
	if status != http.StatusCreated {
		t.Fatalf("create chat session: %d %s", status, raw)
	}
	var s chatSession
	if err := json.Unmarshal(raw, &s); err != nil || s.Token == "" || s.ConversationID == 0 {
		t.Fatalf("session %s: %v", raw, err)
	}
	return s
}

func errCode(raw []byte) string {
	var b web.ErrorBody
	json.Unmarshal(raw, &b) //nolint:errcheck
	return b.Error.Code
}

// sseEvent is one server-sent event.
type sseEvent struct {
	ID, Event string
	Data      map[string]any
}

// openStream connects to an event stream and delivers its events on a channel, closed when
// the stream ends.
func openStream(t *testing.T, url string, hdr ...string) (<-chan sseEvent, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("stream %s: %d %s", url, resp.StatusCode, raw)
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				json.Unmarshal([]byte(line[6:]), &ev.Data) //nolint:errcheck
			}
		}
	}()
	return ch, resp
}

// waitEvent returns the first event satisfying ok, failing after a deadline; it returns the
// events skipped on the way too.
func waitEvent(t *testing.T, ch <-chan sseEvent, what string, ok func(sseEvent) bool) (sseEvent, []sseEvent) {
	t.Helper()
	var skipped []sseEvent
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev, open := <-ch:
			if !open {
				t.Fatalf("stream ended while waiting for %s (skipped %v)", what, skipped)
			}
			if ok(ev) {
				return ev, skipped
			}
			skipped = append(skipped, ev)
		case <-deadline:
			t.Fatalf("no %s within 15s (skipped %v)", what, skipped)
		}
	}
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

func TestChatMessageIsIdempotentAndValidated(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true})
	s := newChat(t, b.URL, nil)
	msg := map[string]string{"text": "where is my order?", "client_msg_id": "c-1"}
	status, _, raw := chatCall(t, "POST", b.URL+"/v1/chat/messages", s.Token, msg)
	if status != http.StatusAccepted {
		t.Fatalf("first send: %d %s", status, raw)
	}
	var first, again map[string]int64
	json.Unmarshal(raw, &first) //nolint:errcheck
	status, _, raw = chatCall(t, "POST", b.URL+"/v1/chat/messages", s.Token, msg)
	json.Unmarshal(raw, &again) //nolint:errcheck
	if status != http.StatusOK || again["message_id"] != first["message_id"] || first["conversation_id"] != s.ConversationID {
		t.Fatalf("retry: %d %v, want 200 with %v in conversation %d", status, again, first, s.ConversationID)
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1`, s.ConversationID); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	if ch := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND channel = 'web'`, s.ConversationID); ch != 1 {
		t.Fatal("the message is not on the web channel")
	}
	for _, tc := range []struct {
		name, token string
		body        any
		status      int
		code        string
	}{
		{"no token", "", msg, 401, "chat_token_required"},
		{"forged token", s.Token[:len(s.Token)-3] + "abc", msg, 401, "invalid_token"},
		{"empty text", s.Token, map[string]string{"text": "  ", "client_msg_id": "c-2"}, 400, "invalid_request"},
		{"no client id", s.Token, map[string]string{"text": "hi"}, 400, "invalid_request"},
		{"too long", s.Token, map[string]string{"text": strings.Repeat("a", 4001), "client_msg_id": "c-3"}, 400, "invalid_request"},
		{"unknown field", s.Token, map[string]any{"text": "hi", "client_msg_id": "c-4", "author": "bot"}, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, raw := chatCall(t, "POST", b.URL+"/v1/chat/messages", tc.token, tc.body)
			if status != tc.status || errCode(raw) != tc.code {
				t.Fatalf("%d %s, want %d %s", status, raw, tc.status, tc.code)
			}
		})
	}
	if n := b.Count(t, `SELECT count(*) FROM messages`); n != 1 {
		t.Fatalf("%d messages stored after bad requests, want 1", n)
	}
}

// (e) A token for conversation A never reads B: not its history, stream, nor feedback.
func TestChatTokenReadsOnlyItsConversation(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{})
	a, other := newChat(t, b.URL, nil), newChat(t, b.URL, nil)
	if a.ConversationID == other.ConversationID {
		t.Fatal("two visitors share a conversation")
	}
	chatCall(t, "POST", b.URL+"/v1/chat/messages", other.Token, map[string]string{"text": "B's secret", "client_msg_id": "b-1"})
	chatCall(t, "POST", b.URL+"/v1/chat/messages", a.Token, map[string]string{"text": "A asks", "client_msg_id": "a-1"})
	testkit.WaitFor(t, 15*time.Second, "B's reply", func() bool {
		return b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'bot'`, other.ConversationID) > 0
	})
	status, _, raw := chatCall(t, "GET", b.URL+"/v1/chat/messages", a.Token, nil)
	if status != 200 || strings.Contains(string(raw), "B's secret") || !strings.Contains(string(raw), "A asks") {
		t.Fatalf("A's history: %d %s", status, raw)
	}
	var bReply int64
	b.DB.Pool.QueryRow(t.Context(), `SELECT id FROM messages WHERE conversation_id = $1 AND author = 'bot' LIMIT 1`, other.ConversationID).Scan(&bReply) //nolint:errcheck
	status, _, raw = chatCall(t, "POST", b.URL+"/v1/chat/feedback", a.Token, map[string]any{"message_id": bReply, "up": false})
	if status != http.StatusNotFound {
		t.Fatalf("A's feedback on B's answer: %d %s, want 404", status, raw)
	}
	// A token re-signed for B's conversation with another key is refused.
	forged := web.ChatTokens{Secret: []byte("guess")}.Sign(web.ChatClaims{CustomerID: 1, ConversationID: other.ConversationID, Expires: time.Now().Add(time.Hour).Unix()})
	if status, _, raw = chatCall(t, "GET", b.URL+"/v1/chat/messages", forged, nil); status != http.StatusUnauthorized {
		t.Fatalf("forged token: %d %s, want 401", status, raw)
	}
	// A's stream carries A's events only.
	events, _ := openStream(t, b.URL+"/v1/chat/events?token="+a.Token)
	chatCall(t, "POST", b.URL+"/v1/chat/messages", other.Token, map[string]string{"text": "B again", "client_msg_id": "b-2"})
	chatCall(t, "POST", b.URL+"/v1/chat/messages", a.Token, map[string]string{"text": "A again", "client_msg_id": "a-2"})
	_, skipped := waitEvent(t, events, "A's message", func(ev sseEvent) bool { return ev.Event == "message" && ev.Data["text"] == "A again" })
	for _, ev := range skipped {
		if num(ev.Data["conversation_id"]) != a.ConversationID {
			t.Fatalf("A's stream got %v", ev)
		}
	}
}

func TestChatStreamLiveResumeAndNoInternalNotes(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{})
	s := newChat(t, b.URL, nil)
	events, resp := openStream(t, b.URL+"/v1/chat/events", "Authorization", "Bearer "+s.Token)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	ev, _ := waitEvent(t, events, "the conversation snapshot", func(ev sseEvent) bool { return ev.Event == "conversation" })
	if ev.Data["status"] != "bot" || num(ev.Data["conversation_id"]) != s.ConversationID {
		t.Fatalf("snapshot %v", ev.Data)
	}
	chatCall(t, "POST", b.URL+"/v1/chat/messages", s.Token, map[string]string{"text": "hello", "client_msg_id": "m-1"})
	mine, _ := waitEvent(t, events, "my message", func(ev sseEvent) bool { return ev.Event == "message" && ev.Data["author"] == "customer" })
	if mine.ID == "" || mine.ID != fmt.Sprint(num(mine.Data["id"])) {
		t.Fatalf("message event id %q, data %v", mine.ID, mine.Data)
	}
	_, before := waitEvent(t, events, "the reply", func(ev sseEvent) bool { return ev.Event == "message" && ev.Data["author"] == "bot" })
	started := false
	for _, e := range before {
		started = started || e.Event == "processing" && e.Data["state"] == "start"
	}
	if !started {
		t.Fatalf("no processing start before the reply: %v", before)
	}
	waitEvent(t, events, "processing end", func(ev sseEvent) bool { return ev.Event == "processing" && ev.Data["state"] == "end" })

	// An agent's internal note never reaches the customer; their public reply does.
	ctx := t.Context()
	if _, err := b.DB.PostMessage(ctx, baton.AgentMessage{ConversationID: s.ConversationID, Author: baton.AuthorSystem, Visibility: baton.Internal, Text: "internal: VIP"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DB.PostMessage(ctx, baton.AgentMessage{ConversationID: s.ConversationID, Author: baton.AuthorSystem, Visibility: baton.Public, Text: "public from us"}); err != nil {
		t.Fatal(err)
	}
	chatCall(t, "POST", b.URL+"/v1/chat/messages", s.Token, map[string]string{"text": "after the note", "client_msg_id": "m-2"})
	_, skipped := waitEvent(t, events, "the next message", func(ev sseEvent) bool { return ev.Event == "message" && ev.Data["text"] == "after the note" })
	for _, e := range skipped {
		if strings.Contains(fmt.Sprint(e.Data["text"]), "internal") || e.Data["visibility"] == "internal" {
			t.Fatalf("internal note on the chat stream: %v", e)
		}
	}
	status, _, raw := chatCall(t, "GET", b.URL+"/v1/chat/messages", s.Token, nil)
	if status != 200 || strings.Contains(string(raw), "internal: VIP") {
		t.Fatalf("history: %d %s", status, raw)
	}

	// Resume: a new stream from Last-Event-ID replays what came after it, in order.
	resumed, _ := openStream(t, b.URL+"/v1/chat/events?token="+s.Token, "Last-Event-ID", mine.ID)
	ev, _ = waitEvent(t, resumed, "the replayed reply", func(ev sseEvent) bool { return ev.Event == "message" })
	if ev.Data["author"] != "bot" || num(ev.Data["id"]) <= num(mine.Data["id"]) {
		t.Fatalf("first replayed event %v, want the bot's reply after %s", ev, mine.ID)
	}
}

func TestAgentStreamSeesOnlyTheirTeams(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true})
	ctx := t.Context()
	agent, token, err := b.DB.CreateUser(ctx, 0, baton.NewUser{Email: "ann@example.com", Name: "Ann", Role: baton.RoleAgent, Teams: []string{"billing"}})
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := newChat(t, b.URL, nil), newChat(t, b.URL, nil)
	if _, err := b.DB.Pool.Exec(ctx, `UPDATE conversations SET team_id = $2 WHERE id = $1`, mine.ConversationID, agent.TeamIDs[0]); err != nil {
		t.Fatal(err)
	}
	if status, _, raw := chatCall(t, "GET", b.URL+"/v1/agent/events", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("anonymous agent stream: %d %s", status, raw)
	}
	events, _ := openStream(t, b.URL+"/v1/agent/events", "Authorization", "Bearer "+token)
	chatCall(t, "POST", b.URL+"/v1/chat/messages", theirs.Token, map[string]string{"text": "not yours", "client_msg_id": "t-1"})
	if _, err := b.DB.PostMessage(ctx, baton.AgentMessage{ConversationID: mine.ConversationID, Author: baton.AuthorSystem, Visibility: baton.Internal, Text: "note"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DB.Pool.Exec(ctx, `UPDATE conversations SET status = 'queued', priority = 90 WHERE id = $1`, mine.ConversationID); err != nil {
		t.Fatal(err)
	}
	note, skipped := waitEvent(t, events, "the internal note", func(ev sseEvent) bool { return ev.Event == "message" })
	if note.Data["visibility"] != "internal" || num(note.Data["conversation_id"]) != mine.ConversationID {
		t.Fatalf("first message event %v (skipped %v)", note, skipped)
	}
	conv, skipped := waitEvent(t, events, "the status change", func(ev sseEvent) bool { return ev.Event == "conversation" })
	if conv.Data["status"] != "queued" || num(conv.Data["priority"]) != 90 || conv.Data["team"] != "billing" || len(skipped) != 0 {
		t.Fatalf("conversation event %v (skipped %v)", conv.Data, skipped)
	}
}

func TestChatCORSAndIdentity(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true, Env: map[string]string{
		"BATON_CHAT_ORIGINS": "https://shop.example", "BATON_CHAT_IDENTITY_SECRET": "id-secret"}})
	status, hdr, raw := chatCall(t, "POST", b.URL+"/v1/chat/sessions", "", nil, "Origin", "https://shop.example")
	if status != http.StatusCreated || hdr.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("allowed origin: %d %v %s", status, hdr, raw)
	}
	status, hdr, raw = chatCall(t, "POST", b.URL+"/v1/chat/sessions", "", nil, "Origin", "https://evil.example")
	if status != http.StatusForbidden || errCode(raw) != "origin_not_allowed" || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign origin: %d %v %s", status, hdr, raw)
	}
	status, hdr, _ = chatCall(t, "OPTIONS", b.URL+"/v1/chat/messages", "", nil, "Origin", "https://shop.example", "Access-Control-Request-Method", "POST")
	if status != http.StatusNoContent || !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", status, hdr)
	}
	// A signed identity gets the same conversation on every device; a wrong signature none.
	id := map[string]string{"identity": "shop-customer-42", "identity_signature": web.IdentitySignature("id-secret", "shop-customer-42")}
	one, two := newChat(t, b.URL, id), newChat(t, b.URL, id)
	if one.ConversationID != two.ConversationID {
		t.Fatalf("identity sessions %d and %d, want one conversation", one.ConversationID, two.ConversationID)
	}
	id["identity_signature"] = web.IdentitySignature("wrong", "shop-customer-42")
	if status, _, raw = chatCall(t, "POST", b.URL+"/v1/chat/sessions", "", id); status != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d %s", status, raw)
	}
	// The allowed origin's visitor and the identified one; the refused origin stored nothing.
	if n := b.Count(t, `SELECT count(*) FROM customers WHERE channel = 'web'`); n != 2 {
		t.Fatalf("%d web customers, want 2", n)
	}
}

// A stream ends when the server shuts down, well within the shutdown grace.
func TestStreamsEndOnShutdown(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true})
	s := newChat(t, b.URL, nil)
	events, _ := openStream(t, b.URL+"/v1/chat/events?token="+s.Token)
	waitEvent(t, events, "the snapshot", func(ev sseEvent) bool { return ev.Event == "conversation" })
	start := time.Now()
	done := make(chan struct{})
	go func() { b.Stop(); close(done) }()
	for range events { // drains until the stream ends
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("stream ended %s after shutdown began, want well within the 2s grace", d)
	}
	<-done
}

// A valid token renews itself: the same conversation, a later expiry; an invalid one is refused.
func TestChatTokenRenewal(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true})
	s := newChat(t, b.URL, nil)
	b.Advance(t, time.Hour)
	status, _, raw := chatCall(t, "POST", b.URL+"/v1/chat/sessions", s.Token, nil)
	var renewed struct {
		chatSession
		ExpiresAt time.Time `json:"expires_at"`
	}
	json.Unmarshal(raw, &renewed) //nolint:errcheck
	if status != http.StatusCreated || renewed.ConversationID != s.ConversationID || renewed.Token == s.Token {
		t.Fatalf("renewal: %d %s, want a new token for conversation %d", status, raw, s.ConversationID)
	}
	if status, _, raw = chatCall(t, "POST", b.URL+"/v1/chat/sessions", "v1.bogus.token", nil); status != http.StatusUnauthorized {
		t.Fatalf("renewal with a bad token: %d %s, want 401", status, raw)
	}
	// Past its expiry a token reads nothing.
	b.Advance(t, 31*24*time.Hour)
	if status, _, raw = chatCall(t, "GET", b.URL+"/v1/chat/messages", s.Token, nil); status != http.StatusUnauthorized || errCode(raw) != "invalid_token" {
		t.Fatalf("expired token: %d %s, want 401 invalid_token", status, raw)
	}
}

// Every serve process streams every change: a message posted to one process reaches a
// stream held by another.
func TestStreamFromAnotherProcess(t *testing.T) {
	t.Parallel()
	one := testkit.Start(t, testkit.Options{})
	two := testkit.Start(t, testkit.Options{NoWork: true, DatabaseURL: one.DBURL, Sink: one.Sink, Clock: one.Clock})
	s := newChat(t, one.URL, nil)
	events, _ := openStream(t, two.URL+"/v1/chat/events?token="+s.Token)
	chatCall(t, "POST", one.URL+"/v1/chat/messages", s.Token, map[string]string{"text": "via one", "client_msg_id": "x-1"})
	waitEvent(t, events, "the message on the other process", func(ev sseEvent) bool { return ev.Event == "message" && ev.Data["text"] == "via one" })
	waitEvent(t, events, "the reply on the other process", func(ev sseEvent) bool { return ev.Event == "message" && ev.Data["author"] == "bot" })
}

// The typing indicator ends also when the bot decides to stay silent (a muted conversation).
func TestProcessingEndsWhenTheBotStaysSilent(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{})
	s := newChat(t, b.URL, nil)
	if _, err := b.DB.Pool.Exec(t.Context(), `UPDATE conversations SET bot_muted_at = now() WHERE id = $1`, s.ConversationID); err != nil {
		t.Fatal(err)
	}
	events, _ := openStream(t, b.URL+"/v1/chat/events?token="+s.Token)
	chatCall(t, "POST", b.URL+"/v1/chat/messages", s.Token, map[string]string{"text": "anyone there?", "client_msg_id": "q-1"})
	waitEvent(t, events, "processing start", func(ev sseEvent) bool { return ev.Event == "processing" && ev.Data["state"] == "start" })
	_, skipped := waitEvent(t, events, "processing end", func(ev sseEvent) bool { return ev.Event == "processing" && ev.Data["state"] == "end" })
	for _, ev := range skipped {
		if ev.Event == "message" && ev.Data["author"] != "customer" {
			t.Fatalf("a muted conversation got a reply: %v", ev)
		}
	}
	testkit.WaitFor(t, 10*time.Second, "the message processed", func() bool {
		return b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND processed_at IS NOT NULL`, s.ConversationID) == 1
	})
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'bot'`, s.ConversationID); n != 0 {
		t.Fatalf("%d bot replies in a muted conversation", n)
	}
}
