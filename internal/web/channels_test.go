package web_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/channel/chatwoot"
	"github.com/batonhq/baton/internal/channel/twilio"
	"github.com/batonhq/baton/internal/channel/webhook"
	"github.com/batonhq/baton/internal/channel/whatsapp"
	"github.com/batonhq/baton/internal/web"
)

const webhookPath = "/v1/channels/webhook/messages"

// testChannels is every channel, configured for tests (their provider APIs unreachable).
func testChannels(clock baton.Clock) channel.Registry {
	return channel.Registry{
		"webhook": &webhook.Adapter{Secrets: []string{webhookSecret}, Clock: clock},
		"twilio": &twilio.Adapter{Config: twilio.Config{AccountSID: "AC1", AuthTokens: []string{"tok"}, From: "+15005550006",
			PublicURL: "https://baton.example.com", HelpText: "help"}},
		"whatsapp": &whatsapp.Adapter{Config: whatsapp.Config{AppSecrets: []string{"appsecret"}, VerifyToken: "vt", Token: "t", PhoneNumberID: "1"}},
		"chatwoot": &chatwoot.Adapter{Config: chatwoot.Config{URL: "http://127.0.0.1:1", BotToken: "b", Secrets: []string{"secret"}, Verify: true}, Clock: clock},
	}
}

// webhookBody is an inbound webhook body.
func webhookBody(sender, msgID, text string) string {
	var b channel.WebhookBody
	b.Sender.ID, b.Message.ID, b.Message.Text = sender, msgID, text
	raw, _ := json.Marshal(b)
	return string(raw)
}

// signed is a webhook call signed with the test secret.
func signed(path, body string) call {
	return call{method: "POST", path: path, body: body,
		header: map[string]string{channel.SignatureHeader: channel.Sign(webhookSecret, []byte(body))}}
}

func ingestResult(t testing.TB, r response) baton.IngestResult {
	t.Helper()
	var res baton.IngestResult
	r.decode(t, &res)
	if res.ConversationID == 0 || res.MessageID == 0 {
		t.Fatalf("ingest result %s lacks ids", r.body)
	}
	return res
}

func TestWebhookAcceptsNewAndAcknowledgesRetries(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)

	first := ts.do(t, signed(webhookPath, webhookBody("ada", "m1", "Where is my order?")))
	first.wantStatus(t, http.StatusAccepted)
	res := ingestResult(t, first)

	steps := []struct {
		name     string
		body     string
		want     int
		sameConv bool
		sameMsg  bool
	}{
		{"retry of the same request", webhookBody("ada", "m1", "Where is my order?"), http.StatusOK, true, true},
		{"retry with another text keeps the first", webhookBody("ada", "m1", "edited"), http.StatusOK, true, true},
		{"next message of the customer", webhookBody("ada", "m2", "Hello?"), http.StatusAccepted, true, false},
		{"another customer", webhookBody("bob", "m3", "Hi"), http.StatusAccepted, false, false},
	}
	for _, st := range steps { // in order: each step sees the previous ones
		t.Run(st.name, func(t *testing.T) {
			r := ts.do(t, signed(webhookPath, st.body))
			r.wantStatus(t, st.want)
			got := ingestResult(t, r)
			if (got.ConversationID == res.ConversationID) != st.sameConv || (got.MessageID == res.MessageID) != st.sameMsg {
				t.Errorf("ids %+v after first %+v: same conversation %v, same message %v", got, res, st.sameConv, st.sameMsg)
			}
			if strings.Contains(string(r.body), "duplicate") {
				t.Errorf("body %s exposes the duplicate flag; the status says it", r.body)
			}
		})
	}
	if n := ts.count(t, `SELECT count(*) FROM messages`); n != 3 {
		t.Errorf("%d messages stored, want 3", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM outbox WHERE kind = 'turn'`); n != 3 {
		t.Errorf("%d turn tasks queued, want 3 (none for retries)", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM messages WHERE body = 'edited'`); n != 0 {
		t.Error("a retry overwrote the stored message")
	}
}

func TestWebhookConcurrentRetriesStoreOnce(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	body := webhookBody("ada", "m1", "Where is my order?")
	const n = 6
	results := make([]response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = send(t.Context(), ts.URL, signed(webhookPath, body)) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	accepted := 0
	var first baton.IngestResult
	for i, r := range results {
		switch r.status {
		case http.StatusAccepted:
			accepted++
		case http.StatusOK:
		default:
			t.Fatalf("request %d: status %d, body %s", i, r.status, r.body)
		}
		res := ingestResult(t, r)
		if i == 0 {
			first = res
		} else if res != first {
			t.Errorf("request %d got %+v, request 0 got %+v; want the same ids", i, res, first)
		}
	}
	if accepted != 1 {
		t.Errorf("%d requests answered 202, want exactly 1 (the others 200)", accepted)
	}
	if c := ts.count(t, `SELECT count(*) FROM messages`); c != 1 {
		t.Errorf("%d messages stored, want 1", c)
	}
}

func TestWebhookRejects(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	body := webhookBody("ada", "m1", "hi")
	withSignature := func(sig string) call {
		return call{method: "POST", path: webhookPath, body: body, header: map[string]string{channel.SignatureHeader: sig}}
	}
	tests := []struct {
		name       string
		call       call
		wantStatus int
		wantCode   string
	}{
		{"no signature", call{method: "POST", path: webhookPath, body: body}, http.StatusUnauthorized, "invalid_signature"},
		{"signed with another secret", withSignature(channel.Sign("other-secret", []byte(body))), http.StatusUnauthorized, "invalid_signature"},
		{"signature of another body", withSignature(channel.Sign(webhookSecret, []byte(body+" "))), http.StatusUnauthorized, "invalid_signature"},
		{"signature without sha256=", withSignature(strings.TrimPrefix(channel.Sign(webhookSecret, []byte(body)), "sha256=")), http.StatusUnauthorized, "invalid_signature"},
		{"signature not hex", withSignature("sha256=zz"), http.StatusUnauthorized, "invalid_signature"},
		{"bearer token instead of a signature", call{method: "POST", path: webhookPath, body: body, token: "btn_x"}, http.StatusUnauthorized, "invalid_signature"},
		{"unknown channel", signed("/v1/channels/carrier-pigeon/messages", body), http.StatusNotFound, "unknown_channel"},
		{"not JSON", signed(webhookPath, "hello"), http.StatusBadRequest, "invalid_request"},
		{"no sender id", signed(webhookPath, webhookBody("", "m1", "hi")), http.StatusBadRequest, "invalid_request"},
		{"no message id", signed(webhookPath, webhookBody("ada", "", "hi")), http.StatusBadRequest, "invalid_request"},
		{"blank text", signed(webhookPath, webhookBody("ada", "m1", "  ")), http.StatusBadRequest, "invalid_request"},
		{"too large", signed(webhookPath, padded(t, `{"sender":{"id":"ada"},"message":{"id":"m1","text":"%s"}}`, 64<<10+1)),
			http.StatusRequestEntityTooLarge, "too_large"},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ts.do(t, tt.call).wantError(t, tt.wantStatus, tt.wantCode)
			})
		}
	})
	if n := ts.count(t, `SELECT count(*) FROM customers`) + ts.count(t, `SELECT count(*) FROM messages`); n != 0 {
		t.Errorf("refused webhooks stored %d rows, want 0", n)
	}
}

func TestWebhookWithoutSecretIsUnavailable(t *testing.T) {
	t.Parallel()
	s := web.New(web.Options{})
	s.MountChannels(channel.Registry{"webhook": &webhook.Adapter{}}, nil, 0, 0) // Parse refuses before any store call
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	body := webhookBody("ada", "m1", "hi")
	do(t, hs.URL, call{method: "POST", path: webhookPath, body: body,
		header: map[string]string{channel.SignatureHeader: channel.Sign("", []byte(body))}}).
		wantError(t, http.StatusServiceUnavailable, "not_configured")
}

func TestCardNumbersAreNotStoredInFull(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	r := ts.do(t, signed(webhookPath, webhookBody("c-card", "m-card", "my card 4242 4242 4242 4242 was charged twice")))
	r.wantStatus(t, http.StatusAccepted)
	res := ingestResult(t, r)
	var got string
	if err := ts.db.Pool.QueryRow(t.Context(), `SELECT body FROM messages WHERE id = $1`, res.MessageID).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "4242 4242 4242 4242") || !strings.Contains(got, "4242") {
		t.Errorf("stored %q; want the card masked with its last four digits kept", got)
	}
}

// Provider channels refuse what is not theirs with the status each provider expects, and
// store nothing.
func TestProviderChannelsRefuse(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	form := url.Values{"MessageSid": {"SM1"}, "From": {"+14155550100"}, "To": {"+15005550006"}, "Body": {"hi"}}
	twilioSig := twilio.Signature("tok", "https://baton.example.com"+twilio.MessagesPath, form)
	wa := `{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"from":"1","id":"wamid.1","type":"text","text":{"body":"hi"}}]}}]}]}`
	cw := `{"event":"message_created","id":1,"content":"hi","message_type":"incoming","sender":{"type":"contact"},"account":{"id":1},"conversation":{"id":7,"status":"pending"}}`
	now := strconv.FormatInt(time.Now().Unix(), 10)
	stale := strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10)
	tests := []struct {
		name   string
		call   call
		status int
		code   string
	}{
		{"twilio: another token", call{method: "POST", path: twilio.MessagesPath, body: form.Encode(),
			header: map[string]string{twilio.SignatureHeader: twilio.Signature("other", "https://baton.example.com"+twilio.MessagesPath, form)}},
			http.StatusUnauthorized, "invalid_signature"},
		{"twilio: signed over the request's host", call{method: "POST", path: twilio.MessagesPath, body: form.Encode(),
			header: map[string]string{twilio.SignatureHeader: twilio.Signature("tok", ts.URL+twilio.MessagesPath, form)}},
			http.StatusUnauthorized, "invalid_signature"},
		{"twilio: body changed after signing", call{method: "POST", path: twilio.MessagesPath, body: strings.Replace(form.Encode(), "hi", "ho", 1),
			header: map[string]string{twilio.SignatureHeader: twilioSig}}, http.StatusUnauthorized, "invalid_signature"},
		{"whatsapp: another secret", call{method: "POST", path: whatsapp.Path, body: wa,
			header: map[string]string{whatsapp.SignatureHeader: channel.Sign("other", []byte(wa))}}, http.StatusForbidden, "invalid_signature"},
		{"whatsapp: not JSON", call{method: "POST", path: whatsapp.Path, body: "{",
			header: map[string]string{whatsapp.SignatureHeader: channel.Sign("appsecret", []byte("{"))}}, http.StatusBadRequest, "invalid_request"},
		{"whatsapp: wrong verify token", call{method: "GET", path: whatsapp.Path + "?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"},
			http.StatusForbidden, "invalid_verify_token"},
		{"chatwoot: unsigned", call{method: "POST", path: chatwoot.Path, body: cw}, http.StatusUnauthorized, "invalid_signature"},
		{"chatwoot: stale", call{method: "POST", path: chatwoot.Path, body: cw,
			header: map[string]string{chatwoot.TimestampHeader: stale, chatwoot.SignatureHeader: chatwoot.Sign("secret", stale, []byte(cw))}},
			http.StatusUnauthorized, "stale_timestamp"},
		{"chatwoot: signed with another timestamp", call{method: "POST", path: chatwoot.Path, body: cw,
			header: map[string]string{chatwoot.TimestampHeader: now, chatwoot.SignatureHeader: chatwoot.Sign("secret", stale, []byte(cw))}},
			http.StatusUnauthorized, "invalid_signature"},
		{"chatwoot: too large", call{method: "POST", path: chatwoot.Path, body: strings.Repeat(" ", 1<<20+1)},
			http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.do(t, tt.call).wantError(t, tt.status, tt.code)
		})
	}
	if n := ts.count(t, `SELECT count(*) FROM customers`) + ts.count(t, `SELECT count(*) FROM messages`); n != 0 {
		t.Errorf("refused requests stored %d rows, want 0", n)
	}
	// The same Twilio message, signed right, is stored once and answered with TwiML.
	for range 2 {
		r := ts.do(t, call{method: "POST", path: twilio.MessagesPath, body: form.Encode(), header: map[string]string{twilio.SignatureHeader: twilioSig}})
		r.wantStatus(t, http.StatusOK)
		if !strings.Contains(string(r.body), "<Response></Response>") {
			t.Errorf("answer %q; want empty TwiML", r.body)
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM messages WHERE channel = 'twilio'`); n != 1 {
		t.Errorf("%d twilio messages; want 1", n)
	}
}
