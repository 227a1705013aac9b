package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

// The vectors of Twilio's own helper libraries.
func TestSignatureVectors(t *testing.T) {
	t.Parallel()
	params := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}}
	tests := []struct{ name, url, want string }{
		{"without port", "https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"with :443", "https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="},
	}
	for _, tt := range tests {
		if got := Signature("12345", tt.url, params); got != tt.want {
			t.Errorf("%s: Signature = %s; want %s", tt.name, got, tt.want)
		}
	}
	// Either form verifies against a configured URL without the port, and vice versa.
	for _, cfg := range []string{"https://mycompany.com/myapp.php?foo=1&bar=2", "https://mycompany.com:443/myapp.php?foo=1&bar=2"} {
		for _, tt := range tests {
			if !ValidSignature([]string{"12345"}, cfg, params, tt.want) {
				t.Errorf("signature %s (%s) refused for configured URL %s", tt.want, tt.name, cfg)
			}
		}
	}
	if ValidSignature([]string{"other"}, tests[0].url, params, tests[0].want) {
		t.Error("a signature under another token verified")
	}
	if !ValidSignature([]string{"new", "12345"}, tests[0].url, params, tests[0].want) {
		t.Error("the previous token is refused during rotation")
	}
	params.Set("Digits", "9999")
	if ValidSignature([]string{"12345"}, tests[0].url, params, tests[0].want) {
		t.Error("a changed parameter verified")
	}
}

const public = "https://baton.example.com"

func adapter(api string) *Adapter {
	return &Adapter{Config: Config{AccountSID: "AC1", AuthTokens: []string{"tok"}, From: "+15005550006",
		APIURL: api, PublicURL: public, HelpText: "Help: reply STOP to opt out.", ContentSID: "HX1"}}
}

// request builds a signed inbound request of form to path.
func request(path string, form url.Values, token string) (*http.Request, []byte) {
	body := []byte(form.Encode())
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	r.Header.Set(SignatureHeader, Signature(token, public+r.URL.RequestURI(), form))
	return r, body
}

func inbound(sid, from, text string) url.Values {
	return url.Values{"MessageSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {"AC1"}, "From": {from}, "To": {"+15005550006"},
		"Body": {text}, "NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
}

func TestInboundMessages(t *testing.T) {
	t.Parallel()
	a := adapter("")
	wa := inbound("SM2", "whatsapp:+14155550100", "hello")
	wa.Set("ProfileName", "Ana")
	wa.Set("WaId", "14155550100")
	media := inbound("MM3", "+14155550100", "")
	media.Set("NumMedia", "1")
	media.Set("MediaUrl0", "https://api.twilio.com/media/1")
	tests := []struct {
		name          string
		form          url.Values
		text, replyIs string
		optOut, optIn bool
	}{
		{name: "sms text", form: inbound("SM1", "+14155550100", " Where is my order? "), text: "Where is my order?"},
		{name: "whatsapp via twilio", form: wa, text: "hello"},
		{name: "stop", form: inbound("SM4", "+14155550100", "Stop"), text: "Stop", optOut: true},
		{name: "unsubscribe", form: inbound("SM5", "+14155550100", "UNSUBSCRIBE."), text: "UNSUBSCRIBE.", optOut: true},
		{name: "start", form: inbound("SM6", "+14155550100", "start"), text: "start", optIn: true},
		{name: "help", form: inbound("SM7", "+14155550100", "HELP"), text: "HELP", replyIs: a.HelpText},
		{name: "media only", form: media, text: "[1 attachment(s)]", replyIs: channel.TextOnly},
		{name: "stop inside a sentence is a message", form: inbound("SM8", "+14155550100", "please stop sending the wrong size"),
			text: "please stop sending the wrong size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, body := request(MessagesPath, tt.form, "tok")
			evs, err := a.Inbound(r, body)
			if err != nil || len(evs) != 1 {
				t.Fatalf("Inbound = %v, %v", evs, err)
			}
			ev := evs[0]
			if ev.Kind != baton.ChannelMessage || ev.Message.Text != tt.text || ev.Message.ExternalID != tt.form.Get("MessageSid") ||
				ev.Message.Sender.ID != tt.form.Get("From") || ev.Reply != tt.replyIs || ev.OptOut != tt.optOut || ev.OptIn != tt.optIn {
				t.Errorf("event %+v", ev)
			}
		})
	}
	r, body := request(MessagesPath, wa, "tok")
	evs, _ := a.Inbound(r, body)
	if s := evs[0].Message.Sender; s.Name != "Ana" || s.Phone != "+14155550100" {
		t.Errorf("sender %+v; want the profile name and the bare number", s)
	}
}

func TestInboundRefuses(t *testing.T) {
	t.Parallel()
	a := adapter("")
	good := inbound("SM1", "+14155550100", "hi")
	forged, body := request(MessagesPath, good, "other")
	tampered, _ := request(MessagesPath, good, "tok")
	hostHeader, hbody := request(MessagesPath, good, "tok")
	hostHeader.Host = "evil.example" // the public URL is configured; the Host header does not matter
	noSid, nbody := request(MessagesPath, url.Values{"From": {"+1"}, "Body": {"x"}}, "tok")
	tests := []struct {
		name string
		r    *http.Request
		body []byte
		kind error
	}{
		{"forged signature", forged, body, baton.ErrUnauthorized},
		{"tampered body", tampered, []byte(strings.Replace(string(body), "hi", "ho", 1)), baton.ErrUnauthorized},
		{"no MessageSid", noSid, nbody, baton.ErrInvalid},
		{"not a form", forged, []byte("%zz"), baton.ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := a.Inbound(tt.r, tt.body); !errors.Is(err, tt.kind) {
			t.Errorf("%s: err %v; want %v", tt.name, err, tt.kind)
		}
	}
	if _, err := a.Inbound(hostHeader, hbody); err != nil {
		t.Errorf("the Host header changed the signed URL: %v", err)
	}
}

func TestStatusCallbackCarriesBatonID(t *testing.T) {
	t.Parallel()
	a := adapter("")
	form := url.Values{"MessageSid": {"SM9"}, "MessageStatus": {"delivered"}, "AccountSid": {"AC1"}}
	r, body := request(StatusPath+"?m=42", form, "tok")
	evs, err := a.Inbound(r, body)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Inbound = %v, %v", evs, err)
	}
	if st := evs[0].Status; evs[0].Kind != baton.ChannelStatus || st.MessageID != 42 || st.ProviderID != "SM9" || st.State != baton.DeliveryDelivered {
		t.Errorf("status %+v", evs[0])
	}
	form.Set("MessageStatus", "queued")
	r, body = request(StatusPath+"?m=42", form, "tok")
	if evs, err := a.Inbound(r, body); err != nil || len(evs) != 0 {
		t.Errorf("queued: %v, %v; want no event", evs, err)
	}
}

func TestAckIsTwiML(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	if err := ackTwiML(rec, []channel.Result{{Event: baton.ChannelEvent{Kind: baton.ChannelMessage}}}); err != nil {
		t.Fatal(err)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") || !strings.Contains(rec.Body.String(), "<Response></Response>") {
		t.Errorf("ack %q %q; want empty TwiML as text/xml", ct, rec.Body)
	}
	rec = httptest.NewRecorder()
	ackTwiML(rec, []channel.Result{{Event: baton.ChannelEvent{Reply: "a < b & c"}}}) //nolint:errcheck
	if !strings.Contains(rec.Body.String(), "<Message>a &lt; b &amp; c</Message>") {
		t.Errorf("ack %q; want the reply escaped in a Message", rec.Body)
	}
}

// fakeAPI is a Messages API that records what it got and answers from a script.
type fakeAPI struct {
	*httptest.Server
	mu      sync.Mutex
	got     []url.Values
	answers []func(w http.ResponseWriter)
}

func newFakeAPI(t *testing.T, answers ...func(w http.ResponseWriter)) *fakeAPI {
	f := &fakeAPI{answers: answers}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if r.URL.Path != "/2010-04-01/Accounts/AC1/Messages.json" || user != "AC1" || pass != "tok" {
			t.Errorf("request %s with user %q", r.URL.Path, user)
		}
		raw, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(raw))
		f.mu.Lock()
		n := len(f.got)
		f.got = append(f.got, form)
		f.mu.Unlock()
		if n < len(f.answers) {
			f.answers[n](w)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SM%d","status":"queued"}`, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func status(code int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(code)
		io.WriteString(w, body) //nolint:errcheck
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("This sentence is twenty-nine. ", 60) // 1800 characters
	tests := []struct {
		name      string
		text      string
		answers   []func(w http.ResponseWriter)
		ids       []string
		sent      int
		permanent bool
		afterSend bool
		retryIn   bool
	}{
		{name: "one message", text: "hi", ids: []string{"SM0"}, sent: 1},
		{name: "long reply in two parts", text: long, ids: []string{"SM0", "SM1"}, sent: 2},
		{name: "rate limited", text: "hi", answers: []func(http.ResponseWriter){status(429, `{"code":20429}`)}, sent: 1, retryIn: true},
		{name: "server error", text: "hi", answers: []func(http.ResponseWriter){status(500, ``)}, sent: 1, retryIn: true},
		{name: "bad number", text: "hi", answers: []func(http.ResponseWriter){status(400, `{"code":21211,"message":"invalid To"}`)}, sent: 1, permanent: true},
		{name: "outside the whatsapp window sends the template", text: "hi",
			answers: []func(http.ResponseWriter){status(400, `{"code":63016,"message":"outside window"}`)}, ids: []string{"SM1"}, sent: 2},
		{name: "second part fails: unknown, never resent", text: long,
			answers: []func(http.ResponseWriter){status(201, `{"sid":"SMa"}`), status(500, ``)}, ids: []string{"SMa"}, sent: 2, afterSend: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, tt.answers...)
			a := adapter(api.URL)
			rc, err := a.Send(context.Background(), baton.Outbound{MessageID: 7, RecipientID: "whatsapp:+14155550100", Text: tt.text})
			if len(api.got) != tt.sent || strings.Join(rc.ProviderIDs, ",") != strings.Join(tt.ids, ",") {
				t.Fatalf("%d requests, receipt %v; want %d, %v", len(api.got), rc.ProviderIDs, tt.sent, tt.ids)
			}
			var se *channel.SendError
			wantErr := tt.permanent || tt.afterSend || tt.retryIn
			if (err != nil) != wantErr || (err != nil && (!errors.As(err, &se) || se.Permanent != tt.permanent || se.AfterSend != tt.afterSend)) {
				t.Fatalf("err %#v; want permanent %v, after send %v", err, tt.permanent, tt.afterSend)
			}
			if tt.retryIn && se.RetryAfter.Seconds() != 3 {
				t.Errorf("RetryAfter %s; want 3s", se.RetryAfter)
			}
			for _, f := range api.got {
				if f.Get("To") != "whatsapp:+14155550100" || f.Get("From") != "+15005550006" ||
					f.Get("StatusCallback") != public+StatusPath+"?m=7" || len([]rune(f.Get("Body"))) > MaxText {
					t.Errorf("sent %v", f)
				}
			}
			if tt.name == "outside the whatsapp window sends the template" && (api.got[1].Get("ContentSid") != "HX1" || api.got[1].Get("Body") != "") {
				t.Errorf("second request %v; want the template alone", api.got[1])
			}
		})
	}
}
