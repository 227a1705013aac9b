package chatwoot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestSignatureVector(t *testing.T) {
	t.Parallel()
	const want = "sha256=253a515530ea0f51d3683cd7215d58fde07f5c13a4dcdc07a0b69d13e9a6a501"
	if got := Sign("secret", "1700000000", []byte(`{"event":"message_created","id":1}`)); got != want {
		t.Errorf("signature %s; want %s", got, want)
	}
}

var now = time.Unix(1700000000, 0)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func signed(body []byte, secret string, at time.Time) *http.Request {
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, Path, nil)
	r.Header.Set(TimestampHeader, ts)
	r.Header.Set(SignatureHeader, Sign(secret, ts, body))
	r.Header.Set(DeliveryHeader, "d-1")
	return r
}

func adapter(url string) *Adapter {
	return &Adapter{Config: Config{URL: url, BotToken: "bot-token", Secrets: []string{"secret", "old"}, Verify: true,
		HandoffTarget: "chatwoot", Labels: []string{"baton-handoff"}, TeamID: 3}, Clock: baton.NewManualClock(now)}
}

func TestInboundVerification(t *testing.T) {
	t.Parallel()
	a := adapter("")
	body := fixture(t, "incoming.json")
	tests := []struct {
		name string
		r    *http.Request
		code string // "" = accepted
	}{
		{"signed now", signed(body, "secret", now), ""},
		{"previous secret", signed(body, "old", now), ""},
		{"four minutes old", signed(body, "secret", now.Add(-4*time.Minute)), ""},
		{"six minutes old", signed(body, "secret", now.Add(-6*time.Minute)), "stale_timestamp"},
		{"another secret", signed(body, "other", now), "invalid_signature"},
		{"unsigned", httptest.NewRequest(http.MethodPost, Path, nil), "invalid_signature"},
	}
	for _, tt := range tests {
		_, err := a.Inbound(tt.r, body)
		var be *baton.Error
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.code != "" && (!errors.As(err, &be) || be.Code != tt.code || !errors.Is(err, baton.ErrUnauthorized)):
			t.Errorf("%s: %v; want 401 %s", tt.name, err, tt.code)
		}
	}
	a.Verify = false
	if _, err := a.Inbound(httptest.NewRequest(http.MethodPost, Path, nil), body); err != nil {
		t.Errorf("verification off refused an unsigned event: %v", err)
	}
}

func TestInboundEvents(t *testing.T) {
	t.Parallel()
	a := adapter("")
	a.Verify = false
	tests := []struct {
		fixture string
		want    string
	}{
		{"incoming.json", `back_to_bot 1:7|message 101 1:7 "Where is my order?" silent=false`},
		{"open.json", `message 102 1:7 "Are you there?" silent=true`},
		{"private_note.json", ``},
		{"echo.json", ``},
		{"status_delivered.json", `status 104 delivered`},
		{"resolved.json", ``},
	}
	for _, tt := range tests {
		body := fixture(t, tt.fixture)
		evs, err := a.Inbound(httptest.NewRequest(http.MethodPost, Path, nil), body)
		if err != nil {
			t.Fatalf("%s: %v", tt.fixture, err)
		}
		var got []string
		for _, ev := range evs {
			switch ev.Kind {
			case baton.ChannelBackToBot:
				got = append(got, "back_to_bot "+ev.Customer)
			case baton.ChannelMessage:
				got = append(got, fmt.Sprintf("message %s %s %q silent=%v", ev.Message.ExternalID, ev.Message.Sender.ID, ev.Message.Text, ev.Silent))
			case baton.ChannelStatus:
				got = append(got, fmt.Sprintf("status %s %s", ev.Status.ProviderID, ev.Status.State))
			}
		}
		if strings.Join(got, "|") != tt.want {
			t.Errorf("%s: %q; want %q", tt.fixture, strings.Join(got, "|"), tt.want)
		}
	}
	a.HandoffTarget = "baton"
	if evs, _ := a.Inbound(httptest.NewRequest(http.MethodPost, Path, nil), fixture(t, "incoming.json")); len(evs) != 1 || evs[0].Kind != baton.ChannelMessage {
		t.Errorf("handoff target baton: %+v; want the message alone (Baton's queue decides who answers)", evs)
	}
	a.HandoffTarget = "chatwoot"
	evs, _ := a.Inbound(httptest.NewRequest(http.MethodPost, Path, nil), fixture(t, "incoming.json"))
	if s := evs[1].Message.Sender; s.Name != "Ana" || s.Email != "ana@example.com" || s.Phone != "+4915112345678" {
		t.Errorf("sender %+v", s)
	}
	if _, err := a.Inbound(httptest.NewRequest(http.MethodPost, Path, nil), []byte("{")); !errors.Is(err, baton.ErrInvalid) {
		t.Errorf("bad JSON: %v", err)
	}
}

// fake is a Chatwoot API that records every call and answers from a script.
type fake struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []string
	labels []string
	fail   map[string]int // action → status to answer
}

func newFake(t *testing.T) *fake {
	f := &fake{labels: []string{"vip"}, fail: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("api_access_token") != "bot-token" {
			t.Errorf("%s without the bot token", r.URL.Path)
		}
		raw, _ := io.ReadAll(r.Body)
		action := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, strings.TrimSpace(r.Method+" "+strings.TrimPrefix(r.URL.Path, "/api/v1/accounts/1/conversations/7/")+" "+string(raw)))
		if s := f.fail[action]; s != 0 {
			w.WriteHeader(s)
			return
		}
		switch {
		case action == "labels" && r.Method == http.MethodGet:
			json.NewEncoder(w).Encode(map[string]any{"payload": f.labels}) //nolint:errcheck
		case action == "messages":
			fmt.Fprintf(w, `{"id":%d,"content":"x","message_type":1}`, 500+len(f.calls))
		default:
			w.Write([]byte(`{}`)) //nolint:errcheck
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func TestSendReply(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	rc, err := adapter(f.URL).Send(context.Background(), baton.Outbound{MessageID: 9, RecipientID: "1:7", Text: "Hello"})
	if err != nil || len(rc.ProviderIDs) != 1 || rc.ProviderIDs[0] != "501" {
		t.Fatalf("receipt %v, %v", rc, err)
	}
	if got := f.got(); len(got) != 1 || got[0] != `POST messages {"content":"Hello","message_type":"outgoing"}` {
		t.Errorf("calls %q", got)
	}
	if _, err := adapter(f.URL).Send(context.Background(), baton.Outbound{RecipientID: "nope"}); err == nil {
		t.Error("a recipient that is no Chatwoot conversation was sent")
	}
}

type decider struct {
	out baton.TurnOutcome
	err error
	f   *fake
	saw []string
}

func (d *decider) Decide(context.Context, baton.TurnState) (baton.TurnOutcome, error) {
	d.saw = d.f.got() // what Chatwoot had been told when the turn decided
	return d.out, d.err
}

func conv() baton.TurnState {
	return baton.TurnState{Conversation: baton.Conversation{ID: 1, Channel: "chatwoot", Customer: baton.Customer{ExternalID: "1:7"}}}
}

func TestTypingAroundEveryTurn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		out  baton.TurnOutcome
		err  error
	}{
		{name: "a reply", out: baton.TurnOutcome{Replies: []baton.Reply{{Text: "hi"}}}},
		{name: "silent", out: baton.TurnOutcome{}},
		{name: "failed", err: errors.New("model down")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			d := &decider{out: tt.out, err: tt.err, f: f}
			b := &Bot{Next: d, Chatwoot: adapter(f.URL), Log: slog.New(slog.DiscardHandler)}
			_, err := b.Decide(context.Background(), conv())
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v", err)
			}
			on, off := `POST toggle_typing_status {"typing_status":"on"}`, `POST toggle_typing_status {"typing_status":"off"}`
			if got := f.got(); strings.Join(d.saw, "|") != on || strings.Join(got, "|") != on+"|"+off {
				t.Errorf("during the turn %q, after %q; want typing on during, off after", d.saw, got)
			}
		})
	}
}

func TestHandoffSequence(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	pkg, _ := json.Marshal(map[string]any{"issue": "Order A-1 is late", "tried": []string{"answered: Shipping times"},
		"details": []map[string]any{{"label": "order number", "value": "A-1"}}, "next_step": "check with the carrier"})
	h := &baton.Handoff{Reason: baton.HandoffCustomerRequest, Priority: 70, Package: pkg}
	d := &decider{out: baton.TurnOutcome{Replies: []baton.Reply{{Text: "A person will take over."}}, Status: baton.StatusQueued, Handoff: h}, f: f}
	b := &Bot{Next: d, Chatwoot: adapter(f.URL), Log: slog.New(slog.DiscardHandler)}
	out, err := b.Decide(context.Background(), conv())
	if err != nil {
		t.Fatal(err)
	}
	if out.Handoff != nil || out.Status != "" || len(out.Replies) != 1 {
		t.Errorf("outcome %+v; want the reply kept and Baton's own handoff bypassed", out)
	}
	got := f.got()
	want := []string{
		`POST toggle_typing_status {"typing_status":"on"}`,
		`POST messages {"content":"Handoff from Baton (customer_request)\nIssue: Order A-1 is late\nTried: answered: Shipping times\norder number: A-1\nNext step: check with the carrier","message_type":"outgoing","private":true}`,
		`GET labels`,
		`POST labels {"labels":["vip","baton-handoff"]}`,
		`POST toggle_priority {"priority":"high"}`,
		`POST assignments {"team_id":3}`,
		`POST toggle_status {"status":"open"}`,
		`POST toggle_typing_status {"typing_status":"off"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHandoffThatChatwootRefusesStaysWithBaton(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.fail["toggle_priority"] = http.StatusInternalServerError
	h := &baton.Handoff{Reason: baton.HandoffNegativeSentiment}
	d := &decider{out: baton.TurnOutcome{Status: baton.StatusQueued, Handoff: h}, f: f}
	b := &Bot{Next: d, Chatwoot: adapter(f.URL), Log: slog.New(slog.DiscardHandler)}
	out, err := b.Decide(context.Background(), conv())
	if err != nil || out.Handoff != h || out.Status != baton.StatusQueued {
		t.Errorf("outcome %+v, %v; want Baton's own handoff kept", out, err)
	}
	for _, c := range f.got() {
		if strings.Contains(c, "toggle_status") {
			t.Errorf("opened the conversation after a failed step: %q", f.got())
		}
	}
}

func TestOtherChannelsAreUntouched(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	d := &decider{out: baton.TurnOutcome{Handoff: &baton.Handoff{}}, f: f}
	b := &Bot{Next: d, Chatwoot: adapter(f.URL), Log: slog.New(slog.DiscardHandler)}
	st := conv()
	st.Conversation.Channel = "twilio"
	out, _ := b.Decide(context.Background(), st)
	if len(f.got()) != 0 || out.Handoff == nil {
		t.Errorf("calls %q, outcome %+v; want nothing done for another channel", f.got(), out)
	}
}
