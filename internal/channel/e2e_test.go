package channel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/channel/chatwoot"
	"github.com/batonhq/baton/internal/channel/twilio"
	"github.com/batonhq/baton/internal/channel/whatsapp"
	"github.com/batonhq/baton/internal/testkit"
)

// The end-to-end tests run the real pipeline (ingest → turn → delivery → status callback)
// against a local fake of each provider's API.

const public = "https://baton.example.com" // BATON_PUBLIC_URL: what providers sign

// recorder is a fake provider API: it records every request and answers with answer.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Method, Path, Body string
	Header             http.Header
}

func newRecorder(t *testing.T, answer func(n int, r recorded) string) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		got := recorded{Method: r.Method, Path: r.URL.Path, Body: string(raw), Header: r.Header.Clone()}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, got)
		n := len(rec.reqs)
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer(n, got)) //nolint:errcheck
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) requests(path string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, q := range r.reqs {
		if strings.HasSuffix(q.Path, path) {
			out = append(out, q)
		}
	}
	return out
}

func do(t *testing.T, method, u, contentType string, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func state(t *testing.T, b *testkit.Baton, where string, args ...any) string {
	t.Helper()
	var s *string
	err := b.DB.Pool.QueryRow(context.Background(), `SELECT delivery_state FROM messages WHERE `+where, args...).Scan(&s)
	if err != nil || s == nil {
		return ""
	}
	return *s
}

func TestTwilioEndToEnd(t *testing.T) {
	t.Parallel()
	api := newRecorder(t, func(n int, _ recorded) string { return fmt.Sprintf(`{"sid":"SMout%d","status":"queued"}`, n) })
	b := testkit.Start(t, testkit.Options{Env: map[string]string{"BATON_PUBLIC_URL": public,
		"BATON_TWILIO_ACCOUNT_SID": "AC1", "BATON_TWILIO_AUTH_TOKEN": "tok", "BATON_TWILIO_FROM": "+15005550006",
		"BATON_TWILIO_API_URL": api.URL, "BATON_SMS_HELP_TEXT": "Acme support. Reply STOP to opt out."}})
	post := func(path string, form url.Values) (int, string) {
		return do(t, http.MethodPost, b.URL+path, "application/x-www-form-urlencoded", form.Encode(),
			map[string]string{twilio.SignatureHeader: twilio.Signature("tok", public+path, form)})
	}
	msg := func(sid, from, text string) url.Values {
		return url.Values{"MessageSid": {sid}, "AccountSid": {"AC1"}, "From": {from}, "To": {"+15005550006"}, "Body": {text}, "NumMedia": {"0"}}
	}

	status, body := post(twilio.MessagesPath, msg("SMin1", "+14155550100", "Where is my order?"))
	if status != 200 || !strings.Contains(body, "<Response></Response>") {
		t.Fatalf("inbound: %d %q; want empty TwiML", status, body)
	}
	if status, _ := post(twilio.MessagesPath, msg("SMin1", "+14155550100", "Where is my order?")); status != 200 {
		t.Fatalf("retry: %d", status)
	}
	testkit.WaitFor(t, 15*time.Second, "the reply at Twilio", func() bool { return len(api.requests("/Messages.json")) == 1 })
	sent, _ := url.ParseQuery(api.requests("/Messages.json")[0].Body)
	if sent.Get("To") != "+14155550100" || sent.Get("From") != "+15005550006" || sent.Get("Body") == "" {
		t.Errorf("sent %v", sent)
	}
	cb, _ := url.Parse(sent.Get("StatusCallback"))
	replyID, _ := strconv.ParseInt(cb.Query().Get("m"), 10, 64)
	testkit.WaitFor(t, 10*time.Second, "the reply sent", func() bool { return state(t, b, `id = $1 AND external_id = 'SMout1'`, replyID) == "sent" })
	// Statuses out of order: delivered, then a late "sent" that must not move it back.
	for _, st := range []string{"delivered", "sent"} {
		path := twilio.StatusPath + "?" + cb.RawQuery
		if status, _ := post(path, url.Values{"MessageSid": {"SMout1"}, "MessageStatus": {st}, "AccountSid": {"AC1"}}); status != http.StatusNoContent {
			t.Fatalf("status callback %s: %d", st, status)
		}
	}
	if got := state(t, b, `id = $1`, replyID); got != "delivered" {
		t.Errorf("state %q after delivered then sent; want delivered", got)
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE channel = 'twilio' AND author = 'customer'`); n != 1 {
		t.Errorf("%d customer messages; want the retry stored once", n)
	}

	// STOP: recorded, no reply; later messages stored, never answered; START lifts it.
	if status, body := post(twilio.MessagesPath, msg("SMin2", "+14155550199", "STOP")); status != 200 || strings.Contains(body, "<Message>") {
		t.Fatalf("STOP: %d %q", status, body)
	}
	post(twilio.MessagesPath, msg("SMin3", "+14155550199", "one more thing"))
	if n := b.Count(t, `SELECT count(*) FROM channel_opt_outs WHERE channel = 'twilio' AND external_id = '+14155550199'`); n != 1 {
		t.Error("STOP was not recorded")
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE external_id IN ('SMin2', 'SMin3') AND processed_at IS NOT NULL`); n != 2 {
		t.Error("messages after STOP are not stored as answered")
	}
	if n := b.Count(t, `SELECT count(*) FROM outbox o JOIN messages m ON o.task_id = 'turn:' || m.id WHERE m.external_id IN ('SMin2', 'SMin3')`); n != 0 {
		t.Error("a turn was queued for an opted-out customer")
	}
	// HELP answers at once, in the TwiML.
	if _, body := post(twilio.MessagesPath, msg("SMin4", "+14155550199", "help")); !strings.Contains(body, "<Message>Acme support. Reply STOP to opt out.</Message>") {
		t.Errorf("HELP answered %q", body)
	}
	post(twilio.MessagesPath, msg("SMin5", "+14155550199", "START"))
	testkit.WaitFor(t, 15*time.Second, "a reply after START", func() bool { return len(api.requests("/Messages.json")) == 2 })
	if got, _ := url.ParseQuery(api.requests("/Messages.json")[1].Body); got.Get("To") != "+14155550199" {
		t.Errorf("second reply went to %q", got.Get("To"))
	}

	// Bad signature: 401, nothing stored.
	before := b.Count(t, `SELECT count(*) FROM messages`)
	form := msg("SMbad", "+14155550100", "hi")
	status, _ = do(t, http.MethodPost, b.URL+twilio.MessagesPath, "application/x-www-form-urlencoded", form.Encode(),
		map[string]string{twilio.SignatureHeader: twilio.Signature("wrong", public+twilio.MessagesPath, form)})
	if status != http.StatusUnauthorized || b.Count(t, `SELECT count(*) FROM messages`) != before {
		t.Errorf("forged request: %d; want 401 and nothing stored", status)
	}
}

func TestWhatsAppEndToEnd(t *testing.T) {
	t.Parallel()
	graph := newRecorder(t, func(n int, _ recorded) string {
		return fmt.Sprintf(`{"messaging_product":"whatsapp","contacts":[{"input":"x","wa_id":"x"}],"messages":[{"id":"wamid.OUT%d"}]}`, n)
	})
	b := testkit.Start(t, testkit.Options{Env: map[string]string{"BATON_PUBLIC_URL": public,
		"BATON_WHATSAPP_APP_SECRET": "appsecret", "BATON_WHATSAPP_VERIFY_TOKEN": "vt", "BATON_WHATSAPP_TOKEN": "tok",
		"BATON_WHATSAPP_PHONE_NUMBER_ID": "106540352242922", "BATON_WHATSAPP_API_URL": graph.URL + "/v21.0"}})
	if status, body := do(t, http.MethodGet, b.URL+whatsapp.Path+"?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42", "", "", nil); status != 200 || body != "42" {
		t.Fatalf("verification: %d %q", status, body)
	}
	if status, _ := do(t, http.MethodGet, b.URL+whatsapp.Path+"?hub.mode=subscribe&hub.verify_token=no&hub.challenge=42", "", "", nil); status != 403 {
		t.Fatalf("verification with a wrong token: %d; want 403", status)
	}
	post := func(body string) int {
		status, _ := do(t, http.MethodPost, b.URL+whatsapp.Path, "application/json", body,
			map[string]string{whatsapp.SignatureHeader: channel.Sign("appsecret", []byte(body))})
		return status
	}
	inbound := func(msgs string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
			"metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
			"contacts":[{"profile":{"name":"Ana"},"wa_id":"16505551234"},{"profile":{"name":"Bo"},"wa_id":"16505550000"}],"messages":[` + msgs + `]}}]}]}`
	}
	batch := inbound(`{"from":"16505551234","id":"wamid.A1","timestamp":"1749416383","type":"text","text":{"body":"Where is my order?"}},
		{"from":"16505550000","id":"wamid.B1","timestamp":"1749416384","type":"image","image":{"id":"1"}},
		{"from":"16505550000","id":"wamid.B2","timestamp":"1749416385","type":"reaction","reaction":{"message_id":"wamid.X","emoji":"x"}}`)
	if status := post(batch); status != 200 {
		t.Fatalf("batch: %d", status)
	}
	if status := post(batch); status != 200 {
		t.Fatalf("retried batch: %d", status)
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE channel = 'whatsapp' AND author = 'customer'`); n != 2 {
		t.Errorf("%d customer messages; want the text and the image, once each (the reaction gets nothing)", n)
	}
	testkit.WaitFor(t, 15*time.Second, "the reply at Meta", func() bool { return len(graph.requests("/messages")) == 1 })
	var sent map[string]any
	json.Unmarshal([]byte(graph.requests("/messages")[0].Body), &sent) //nolint:errcheck
	replyID, _ := strconv.ParseInt(fmt.Sprint(sent["biz_opaque_callback_data"]), 10, 64)
	if sent["to"] != "16505551234" || sent["messaging_product"] != "whatsapp" || replyID == 0 {
		t.Fatalf("sent %v", sent)
	}
	testkit.WaitFor(t, 10*time.Second, "the reply sent", func() bool { return state(t, b, `id = $1`, replyID) == "sent" })
	statuses := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
		"metadata":{"phone_number_id":"106540352242922"},"statuses":[
		{"id":"wamid.OUT1","status":"read","timestamp":"2","recipient_id":"16505551234","biz_opaque_callback_data":"` + strconv.FormatInt(replyID, 10) + `"},
		{"id":"wamid.OUT1","status":"delivered","timestamp":"1","recipient_id":"16505551234","biz_opaque_callback_data":"` + strconv.FormatInt(replyID, 10) + `"}]}}]}]}`
	if status := post(statuses); status != 200 {
		t.Fatalf("statuses: %d", status)
	}
	if got := state(t, b, `id = $1`, replyID); got != "read" {
		t.Errorf("state %q after read then delivered; want read", got)
	}
	// The image got the one polite answer in the message's place, without a turn.
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE external_id = 'wamid.B1' AND processed_at IS NOT NULL`); n != 1 {
		t.Error("the image is not stored as answered")
	}
	if status, _ := do(t, http.MethodPost, b.URL+whatsapp.Path, "application/json", batch,
		map[string]string{whatsapp.SignatureHeader: channel.Sign("other", []byte(batch))}); status != 403 {
		t.Errorf("forged batch: %d; want 403", status)
	}
}

func TestChatwootEndToEnd(t *testing.T) {
	t.Parallel()
	cw := newRecorder(t, func(n int, r recorded) string { return fmt.Sprintf(`{"id":%d}`, 900+n) })
	b := testkit.Start(t, testkit.Options{Env: map[string]string{"BATON_PUBLIC_URL": public,
		"BATON_CHATWOOT_URL": cw.URL, "BATON_CHATWOOT_BOT_TOKEN": "bot", "BATON_CHATWOOT_SECRET": "secret"}})
	post := func(body string) int {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		status, _ := do(t, http.MethodPost, b.URL+chatwoot.Path, "application/json", body,
			map[string]string{chatwoot.TimestampHeader: ts, chatwoot.SignatureHeader: chatwoot.Sign("secret", ts, []byte(body))})
		return status
	}
	event := func(id int, status, text string) string {
		return fmt.Sprintf(`{"event":"message_created","id":%d,"content":%q,"message_type":"incoming","private":false,
			"sender":{"id":5,"name":"Ana","type":"contact"},"account":{"id":1},"conversation":{"id":7,"status":%q},"inbox":{"id":2}}`, id, text, status)
	}
	if status := post(event(101, "pending", "Where is my order?")); status != 200 {
		t.Fatalf("incoming: %d", status)
	}
	testkit.WaitFor(t, 15*time.Second, "the reply in Chatwoot", func() bool { return len(cw.requests("/conversations/7/messages")) == 1 })
	testkit.WaitFor(t, 10*time.Second, "typing off", func() bool { return len(cw.requests("/toggle_typing_status")) == 2 })
	typing := cw.requests("/toggle_typing_status")
	if !strings.Contains(typing[0].Body, `"on"`) || !strings.Contains(typing[1].Body, `"off"`) || typing[0].Header.Get("api_access_token") != "bot" {
		t.Errorf("typing calls %v", typing)
	}
	reply := cw.requests("/conversations/7/messages")[0]
	if !strings.Contains(reply.Body, `"content"`) || strings.Contains(reply.Body, `"private":true`) {
		t.Errorf("reply %s", reply.Body)
	}
	testkit.WaitFor(t, 10*time.Second, "the reply sent", func() bool { return state(t, b, `channel = 'chatwoot' AND author = 'bot'`) == "sent" })
	var providerID string
	b.DB.Pool.QueryRow(context.Background(), `SELECT external_id FROM messages WHERE channel = 'chatwoot' AND author = 'bot'`).Scan(&providerID) //nolint:errcheck
	// Chatwoot echoes Baton's own reply (never answered) and later reports it delivered.
	echo := fmt.Sprintf(`{"event":"message_created","id":%s,"content":"x","message_type":"outgoing","private":false,"sender":{"id":1,"type":"agent_bot"},"account":{"id":1},"conversation":{"id":7,"status":"pending"}}`, providerID)
	delivered := strings.Replace(strings.Replace(echo, "message_created", "message_updated", 1), `"private":false`, `"private":false,"status":"delivered"`, 1)
	for _, e := range []string{echo, delivered} {
		if status := post(e); status != 200 {
			t.Fatalf("event: %d", status)
		}
	}
	if got := state(t, b, `channel = 'chatwoot' AND author = 'bot'`); got != "delivered" {
		t.Errorf("state %q; want delivered", got)
	}
	// Open: agents own it, Baton stays silent.
	post(event(102, "open", "Hello? Anyone?"))
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE external_id = '102' AND processed_at IS NOT NULL`); n != 1 {
		t.Error("a message while open is not stored as answered")
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE channel = 'chatwoot' AND author = 'customer'`); n != 2 {
		t.Errorf("%d customer messages; want 2 (the echo is not one)", n)
	}
	// Stale timestamp: 401, nothing stored.
	body := event(103, "pending", "late")
	ts := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	status, _ := do(t, http.MethodPost, b.URL+chatwoot.Path, "application/json", body,
		map[string]string{chatwoot.TimestampHeader: ts, chatwoot.SignatureHeader: chatwoot.Sign("secret", ts, []byte(body))})
	if status != http.StatusUnauthorized || b.Count(t, `SELECT count(*) FROM messages WHERE external_id = '103'`) != 0 {
		t.Errorf("stale event: %d; want 401 and nothing stored", status)
	}
}

// A channel whose settings are unset is not mounted: its routes answer 404.
func TestUnconfiguredChannelsAreNotMounted(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true})
	for _, c := range []struct{ method, path string }{
		{"POST", twilio.MessagesPath}, {"POST", twilio.StatusPath}, {"GET", whatsapp.Path}, {"POST", whatsapp.Path}, {"POST", chatwoot.Path},
	} {
		if status, _ := do(t, c.method, b.URL+c.path, "application/json", "{}", nil); status != http.StatusNotFound {
			t.Errorf("%s %s: %d; want 404", c.method, c.path, status)
		}
	}
}

// A provider that takes the request and never answers is not sent the reply a second time (it
// has no idempotency key): the reply stays unknown, unscheduled, until its status arrives.
func TestSlowProviderNeverGetsAReplyTwice(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	var mu sync.Mutex
	var bodies []string
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(raw))
		mu.Unlock()
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(stop) })
	b := testkit.Start(t, testkit.Options{Env: map[string]string{"BATON_PUBLIC_URL": public,
		"BATON_WHATSAPP_APP_SECRET": "appsecret", "BATON_WHATSAPP_VERIFY_TOKEN": "vt", "BATON_WHATSAPP_TOKEN": "tok",
		"BATON_WHATSAPP_PHONE_NUMBER_ID": "1", "BATON_WHATSAPP_API_URL": slow.URL, "BATON_DELIVERY_SEND_TIMEOUT": "1s",
		"BATON_DELIVERY_SWEEP": "50ms"}})
	body := `{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"1"},
		"messages":[{"from":"4915112345678","id":"wamid.S1","timestamp":"1","type":"text","text":{"body":"hello"}}]}}]}]}`
	if status, _ := do(t, http.MethodPost, b.URL+whatsapp.Path, "application/json", body,
		map[string]string{whatsapp.SignatureHeader: channel.Sign("appsecret", []byte(body))}); status != 200 {
		t.Fatalf("inbound: %d", status)
	}
	where := `channel = 'whatsapp' AND author = 'bot' AND delivery_next_at IS NULL`
	testkit.WaitFor(t, 20*time.Second, "the reply unknown and unscheduled", func() bool { return state(t, b, where) == "unknown" })
	mu.Lock()
	n := len(bodies)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("the provider got %d requests; want 1", n)
	}
	var id int64
	b.DB.Pool.QueryRow(context.Background(), `SELECT id FROM messages WHERE `+where).Scan(&id) //nolint:errcheck
	st := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"1"},
		"statuses":[{"id":"wamid.late","status":"delivered","timestamp":"2","recipient_id":"4915112345678","biz_opaque_callback_data":"%d"}]}}]}]}`, id)
	do(t, http.MethodPost, b.URL+whatsapp.Path, "application/json", st, map[string]string{whatsapp.SignatureHeader: channel.Sign("appsecret", []byte(st))})
	if got := state(t, b, `id = $1`, id); got != "delivered" {
		t.Errorf("state %q after the late status; want delivered", got)
	}
}

// handoffDecider answers every turn; a customer asking for a person is handed off.
type handoffDecider struct{}

func (handoffDecider) Decide(ctx context.Context, st baton.TurnState) (baton.TurnOutcome, error) {
	out := baton.TurnOutcome{StartedAt: time.Now(), Replies: []baton.Reply{{Author: baton.AuthorBot, Visibility: baton.Public, Text: "Happy to help."}}}
	for _, m := range st.Pending {
		out.Processed = append(out.Processed, m.ID)
		if strings.Contains(m.Text, "person") {
			out.Replies[0].Text = "A person will take over."
			out.Status = baton.StatusQueued
			out.Handoff = &baton.Handoff{Reason: baton.HandoffCustomerRequest, Priority: 90,
				Package: json.RawMessage(`{"issue":"wants a person","next_step":"call back"}`)}
		}
	}
	return out, nil
}

// The Chatwoot handoff through the pipeline: Chatwoot gets the sequence, Baton's queue never
// sees the conversation, the bot is silent while it is open and answers again when pending.
func TestChatwootHandoffEndToEnd(t *testing.T) {
	t.Parallel()
	cw := newRecorder(t, func(n int, r recorded) string {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/labels") {
			return `{"payload":["vip"]}`
		}
		return fmt.Sprintf(`{"id":%d}`, 900+n)
	})
	b := testkit.Start(t, testkit.Options{Decider: handoffDecider{}, Env: map[string]string{"BATON_PUBLIC_URL": public,
		"BATON_CHATWOOT_URL": cw.URL, "BATON_CHATWOOT_BOT_TOKEN": "bot", "BATON_CHATWOOT_VERIFY": "off", "BATON_CHATWOOT_TEAM_ID": "4"}})
	post := func(id int, status, text string) {
		body := fmt.Sprintf(`{"event":"message_created","id":%d,"content":%q,"message_type":"incoming","private":false,
			"sender":{"id":5,"name":"Ana","type":"contact"},"account":{"id":1},"conversation":{"id":7,"status":%q}}`, id, text, status)
		if status, _ := do(t, http.MethodPost, b.URL+chatwoot.Path, "application/json", body, nil); status != 200 {
			t.Fatalf("event %d: %d", id, status)
		}
	}
	post(201, "pending", "I want a person")
	testkit.WaitFor(t, 15*time.Second, "the conversation opened in Chatwoot", func() bool { return len(cw.requests("/toggle_status")) == 1 })
	var seq []string
	for _, r := range cw.requests("") {
		if !strings.HasSuffix(r.Path, "/toggle_typing_status") {
			seq = append(seq, r.Method+" "+r.Path[strings.LastIndex(r.Path, "/")+1:]+" "+r.Body)
		}
	}
	want := []string{
		`POST messages {"content":"Handoff from Baton (customer_request)\nIssue: wants a person\nNext step: call back","message_type":"outgoing","private":true}`,
		`GET labels `, `POST labels {"labels":["vip","baton-handoff"]}`, `POST toggle_priority {"priority":"urgent"}`,
		`POST assignments {"team_id":4}`, `POST toggle_status {"status":"open"}`,
	}
	if len(seq) < len(want) || strings.Join(seq[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s\nwant first:\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
	}
	testkit.WaitFor(t, 10*time.Second, "the reply in Chatwoot", func() bool { return len(cw.requests("/conversations/7/messages")) == 2 })
	if n := b.Count(t, `SELECT count(*) FROM handoffs`); n != 0 {
		t.Errorf("%d handoffs in Baton's queue; want Chatwoot's inbox alone", n)
	}
	// Open: agents work it; Baton stores and stays silent.
	post(202, "open", "hello?")
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE external_id = '202' AND processed_at IS NOT NULL`); n != 1 {
		t.Error("a message while open is not stored as answered")
	}
	// Resolved, then pending again: Baton answers, in the same conversation (its memory).
	post(203, "pending", "one more question")
	testkit.WaitFor(t, 15*time.Second, "an answer after pending again", func() bool { return len(cw.requests("/conversations/7/messages")) == 3 })
	if n := b.Count(t, `SELECT count(DISTINCT conversation_id) FROM messages WHERE channel = 'chatwoot'`); n != 1 {
		t.Errorf("%d conversations; want one, with its history", n)
	}
}
