package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

func TestSignatureVector(t *testing.T) {
	t.Parallel()
	const want = "sha256=afb2bfa5f6dadd18f4262791ecd36aa3629c8c8b1b981431200a57a02a81e8d6"
	body := []byte(`{"event":"message_created","id":1}`)
	if got := channel.Sign("appsecret", body); got != want {
		t.Errorf("signature %s; want %s", got, want)
	}
	if !channel.Verify([]string{"new", "appsecret"}, body, want) {
		t.Error("the previous secret is refused during rotation")
	}
}

func adapter() *Adapter {
	return &Adapter{Config: Config{AppSecrets: []string{"appsecret"}, VerifyToken: "vt", Token: "tok", PhoneNumberID: "106540352242922"},
		Clock: baton.NewManualClock(time.Unix(1749416400, 0))} // just after the fixtures were sent
}

func TestVerificationGET(t *testing.T) {
	t.Parallel()
	a := adapter()
	tests := []struct {
		name, query string
		status      int
		body        string
	}{
		{"right token", "hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444", 200, "1158201444"},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=no&hub.challenge=1", 403, ""},
		{"wrong mode", "hub.mode=unsubscribe&hub.verify_token=vt&hub.challenge=1", 403, ""},
		{"nothing", "", 403, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		err := a.verify(rec, httptest.NewRequest(http.MethodGet, Path+"?"+tt.query, nil))
		status := rec.Code
		if err != nil {
			status = 0
			if errors.Is(err, baton.ErrForbidden) {
				status = 403
			}
		}
		if status != tt.status || (tt.body != "" && rec.Body.String() != tt.body) {
			t.Errorf("%s: %d %q (%v); want %d %q", tt.name, status, rec.Body, err, tt.status, tt.body)
		}
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func post(body []byte, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(string(body)))
	r.Header.Set(SignatureHeader, channel.Sign(secret, body))
	return r
}

func TestInboundBatch(t *testing.T) {
	t.Parallel()
	a := adapter()
	body := fixture(t, "batch.json")
	evs, err := a.Inbound(post(body, "appsecret"), body)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		switch ev.Kind {
		case baton.ChannelMessage:
			got = append(got, fmt.Sprintf("msg %s %s %q reply=%v out=%v", ev.Message.ExternalID, ev.Message.Sender.ID, ev.Message.Text, ev.Reply != "", ev.OptOut))
		case baton.ChannelStatus:
			got = append(got, fmt.Sprintf("status %s %d %s %q", ev.Status.ProviderID, ev.Status.MessageID, ev.Status.State, ev.Status.Error))
		}
	}
	want := []string{
		`msg wamid.A1 16505551234 "first" reply=false out=false`,
		`msg wamid.B1 16505550000 "[image]" reply=true out=false`, // one polite answer, no turn
		// the reaction: nothing
		`msg wamid.B2 16505550000 "STOP" reply=false out=true`,
		`status wamid.OUT1 42 delivered ""`,
		`status wamid.OUT2 43 failed "whatsapp error 131047: Re-engagement message"`,
		`status wamid.OUT3 0 sent ""`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if evs[0].Message.Sender.Name != "Sheena Nelson" || evs[0].Message.Sender.Phone != "+16505551234" ||
		evs[0].Message.SentAt == nil || !evs[0].Message.SentAt.Equal(time.Unix(1749416383, 0)) {
		t.Errorf("first message %+v", evs[0].Message)
	}
}

func TestInboundKeysOnWaIDOrUserID(t *testing.T) {
	t.Parallel()
	a := adapter()
	for name, want := range map[string]string{"text.json": "16505551234", "username_only.json": "US.999"} {
		body := fixture(t, name)
		evs, err := a.Inbound(post(body, "appsecret"), body)
		if err != nil || len(evs) != 1 || evs[0].Message.Sender.ID != want || evs[0].Message.Sender.Name == "" {
			t.Errorf("%s: %+v, %v; want sender %s with a name", name, evs, err, want)
		}
	}
}

func TestInboundRefuses(t *testing.T) {
	t.Parallel()
	a := adapter()
	body := fixture(t, "text.json")
	tests := []struct {
		name string
		r    *http.Request
		body []byte
		kind error
	}{
		{"another secret", post(body, "other"), body, baton.ErrForbidden},
		{"no signature", httptest.NewRequest(http.MethodPost, Path, nil), body, baton.ErrForbidden},
		{"not JSON", post([]byte("{"), "appsecret"), []byte("{"), baton.ErrInvalid},
		{"not WhatsApp", post([]byte(`{"object":"page"}`), "appsecret"), []byte(`{"object":"page"}`), baton.ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := a.Inbound(tt.r, tt.body); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v; want %v", tt.name, err, tt.kind)
		}
	}
}

type lastAt time.Time

func (l lastAt) LastCustomerAt(context.Context, int64) (time.Time, error) { return time.Time(l), nil }

// graph is a fake Graph API: it records bodies and answers from a script, then with ids.
type graph struct {
	*httptest.Server
	mu      sync.Mutex
	got     []map[string]any
	answers []int
}

func newGraph(t *testing.T, answers ...int) *graph {
	g := &graph{answers: answers}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v21.0/106540352242922/messages" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("request %s %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		raw, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(raw, &m) //nolint:errcheck
		g.mu.Lock()
		n := len(g.got)
		g.got = append(g.got, m)
		g.mu.Unlock()
		if n < len(g.answers) && g.answers[n] != 200 {
			w.WriteHeader(g.answers[n])
			if g.answers[n] == 400 {
				fmt.Fprint(w, `{"error":{"message":"Re-engagement message","type":"OAuthException","code":131047}}`)
			}
			return
		}
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],"messages":[{"id":"wamid.OUT%d"}]}`, n)
	}))
	t.Cleanup(g.Close)
	return g
}

func TestSend(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		last     time.Time
		template string
		answers  []int
		types    []string
		ids      []string
		fails    bool
	}{
		{name: "inside the window", last: now.Add(-time.Hour), types: []string{"text"}, ids: []string{"wamid.OUT0"}},
		{name: "outside the window: template", last: now.Add(-25 * time.Hour), template: "follow_up:de", types: []string{"template"}, ids: []string{"wamid.OUT0"}},
		{name: "outside the window without a template fails", last: now.Add(-25 * time.Hour), fails: true},
		{name: "meta says 131047: template", last: now.Add(-time.Hour), template: "follow_up", answers: []int{400}, types: []string{"text", "template"}, ids: []string{"wamid.OUT1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGraph(t, tt.answers...)
			a := adapter()
			a.APIURL, a.Template, a.Store, a.Clock = g.URL+"/v21.0", tt.template, lastAt(tt.last), baton.NewManualClock(now)
			rc, err := a.Send(context.Background(), baton.Outbound{MessageID: 42, ConversationID: 1, RecipientID: "16505551234", Text: "hello"})
			if tt.fails {
				if !channel.IsPermanent(err) || len(g.got) != 0 {
					t.Fatalf("err %v after %d requests; want a permanent failure and nothing sent", err, len(g.got))
				}
				return
			}
			if err != nil || strings.Join(rc.ProviderIDs, ",") != strings.Join(tt.ids, ",") {
				t.Fatalf("receipt %v, %v; want %v", rc.ProviderIDs, err, tt.ids)
			}
			var types []string
			for _, m := range g.got {
				types = append(types, m["type"].(string))
				if m["messaging_product"] != "whatsapp" || m["to"] != "16505551234" || m["biz_opaque_callback_data"] != "42" {
					t.Errorf("sent %v", m)
				}
			}
			if strings.Join(types, ",") != strings.Join(tt.types, ",") {
				t.Errorf("sent types %v; want %v", types, tt.types)
			}
		})
	}
}

func TestSendRetryableAndUnknown(t *testing.T) {
	t.Parallel()
	g := newGraph(t, 503)
	a := adapter()
	a.APIURL = g.URL + "/v21.0"
	_, err := a.Send(context.Background(), baton.Outbound{MessageID: 1, RecipientID: "1", Text: "x"})
	var se *channel.SendError
	if !errors.As(err, &se) || se.Permanent || se.Status != 503 {
		t.Errorf("503: %v; want a retryable error", err)
	}
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(stop) }) // runs first
	a.APIURL = hang.URL
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = a.Send(ctx, baton.Outbound{MessageID: 1, RecipientID: "1", Text: "x"})
	if !errors.As(err, &se) || !se.AfterSend || a.Caps().Idempotent {
		t.Errorf("hang: %v; want an unknown result on a channel that is never resent", err)
	}
}

// A reply a person sent from the WhatsApp Business app is never answered; it pauses the bot.
func TestEchoPausesTheBot(t *testing.T) {
	t.Parallel()
	body := fixture(t, "echo.json")
	evs, err := adapter().Inbound(post(body, "appsecret"), body)
	if err != nil || len(evs) != 1 || evs[0].Kind != baton.ChannelHumanReply || evs[0].Customer != "16505551234" {
		t.Fatalf("events %+v, %v; want one human reply for the customer", evs, err)
	}
}
