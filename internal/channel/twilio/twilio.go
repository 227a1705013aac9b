// Package twilio is the Twilio Messaging channel (SMS, and WhatsApp via Twilio): signed form
// posts in, answered with empty TwiML; replies through the Messages API; status callbacks that
// carry Baton's message id.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

// Routes the channel serves.
const (
	MessagesPath = "/v1/channels/twilio/messages"
	StatusPath   = "/v1/channels/twilio/status"
	// SignatureHeader carries base64(HMAC-SHA1(auth token, URL + sorted parameters)).
	SignatureHeader = "X-Twilio-Signature"
	// MaxText is Twilio's limit of one message body.
	MaxText = 1600
	maxBody = 64 << 10
)

// Config is the channel's configuration.
type Config struct {
	AccountSID          string
	AuthTokens          []string // current first, then the previous one during rotation
	From                string   // the sender number, or
	MessagingServiceSID string   // a messaging service
	APIURL              string   // API host, e.g. https://api.twilio.com
	PublicURL           string   // Baton's public base URL: signatures are computed over it
	ContentSID          string   // WhatsApp template sent outside the 24-hour window
	HelpText            string   // the answer to HELP
}

// Configured reports whether the required settings are set.
func (c Config) Configured() bool {
	return c.AccountSID != "" && len(c.AuthTokens) > 0 && c.AuthTokens[0] != "" && (c.From != "" || c.MessagingServiceSID != "")
}

// Adapter is the Twilio channel.
type Adapter struct {
	Config
	Client *http.Client
}

// Name implements channel.Adapter.
func (a *Adapter) Name() string { return "twilio" }

// Caps implements channel.Adapter: no idempotency key (a reply of unknown fate is never sent
// again; its status callback settles it), 1600 characters, keywords honoured.
func (a *Adapter) Caps() channel.Caps {
	return channel.Caps{MaxText: MaxText, Compliance: true, Window: 24 * time.Hour}
}

// Routes implements channel.Adapter.
func (a *Adapter) Routes() []channel.Route {
	return []channel.Route{
		{Method: http.MethodPost, Path: MessagesPath, MaxBody: maxBody, Ack: ackTwiML},
		{Method: http.MethodPost, Path: StatusPath, MaxBody: maxBody, Ack: ackEmpty},
	}
}

// Signature is Twilio's request signature of fullURL and the POST parameters.
func Signature(token, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ValidSignature checks sig against every token, for fullURL as given and with its default
// port added or removed (Twilio signs whichever form it was configured with).
func ValidSignature(tokens []string, fullURL string, params url.Values, sig string) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(got) == 0 {
		return false
	}
	for _, u := range urlForms(fullURL) {
		for _, t := range tokens {
			if t == "" {
				continue
			}
			want, _ := base64.StdEncoding.DecodeString(Signature(t, u, params))
			if hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

// urlForms is fullURL with and without its scheme's default port.
func urlForms(fullURL string) []string {
	u, err := url.Parse(fullURL)
	if err != nil {
		return []string{fullURL}
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	other := *u
	switch u.Port() {
	case "":
		if def == "" {
			return []string{fullURL}
		}
		other.Host = u.Host + ":" + def
	case def:
		other.Host = u.Hostname()
	default:
		return []string{fullURL}
	}
	return []string{fullURL, other.String()}
}

// Inbound implements channel.Adapter.
func (a *Adapter) Inbound(r *http.Request, body []byte) ([]baton.ChannelEvent, error) {
	params, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, baton.Invalid("body is not a form: %v", err)
	}
	full := strings.TrimRight(a.PublicURL, "/") + r.URL.RequestURI()
	if !ValidSignature(a.AuthTokens, full, params, r.Header.Get(SignatureHeader)) {
		return nil, baton.Errorf(baton.ErrUnauthorized, "invalid_signature", "missing or invalid %s", SignatureHeader)
	}
	if r.URL.Path == StatusPath {
		return a.status(r, params)
	}
	return a.message(params)
}

func (a *Adapter) message(p url.Values) ([]baton.ChannelEvent, error) {
	sid := p.Get("MessageSid")
	if sid == "" {
		sid = p.Get("SmsMessageSid")
	}
	from, text := strings.TrimSpace(p.Get("From")), strings.TrimSpace(p.Get("Body"))
	switch {
	case sid == "" || from == "":
		return nil, baton.Invalid("MessageSid and From are required")
	case len(sid) > channel.MaxIDLen || len(from) > 64:
		return nil, baton.Invalid("MessageSid or From is too long")
	case len(text) > channel.MaxTextLen || strings.ContainsRune(text, 0):
		return nil, baton.Invalid("Body is too long or contains NUL")
	}
	in := baton.Inbound{Channel: "twilio", ExternalID: sid, Text: text,
		Sender: baton.Sender{ID: from, Name: strings.TrimSpace(p.Get("ProfileName")), Phone: strings.TrimPrefix(from, "whatsapp:")}}
	if len(in.Sender.Name) > 200 {
		in.Sender.Name = ""
	}
	ev := baton.ChannelEvent{Kind: baton.ChannelMessage, Message: in}
	media, _ := strconv.Atoi(p.Get("NumMedia"))
	switch {
	case text == "" && media > 0:
		ev.Message.Text = fmt.Sprintf("[%d attachment(s)]", media)
		ev.Reply = channel.TextOnly
	case text == "":
		return nil, baton.Invalid("Body is empty")
	}
	switch channel.ParseKeyword(text) {
	case channel.KeywordStop:
		ev.OptOut = true // no reply: the carrier (or Twilio's own opt-out handling) confirms
	case channel.KeywordStart:
		ev.OptIn = true
	case channel.KeywordHelp:
		ev.Reply = a.HelpText
	}
	return []baton.ChannelEvent{ev}, nil
}

// statuses maps Twilio's MessageStatus to delivery states; the others (queued, accepted,
// sending, scheduled) say nothing Baton does not know.
var statuses = map[string]baton.DeliveryState{
	"sent": baton.DeliverySent, "delivered": baton.DeliveryDelivered, "read": baton.DeliveryRead,
	"undelivered": baton.DeliveryUndelivered, "failed": baton.DeliveryFailed, "canceled": baton.DeliveryFailed,
}

func (a *Adapter) status(r *http.Request, p url.Values) ([]baton.ChannelEvent, error) {
	sid, st := p.Get("MessageSid"), p.Get("MessageStatus")
	if sid == "" || st == "" {
		return nil, baton.Invalid("MessageSid and MessageStatus are required")
	}
	state, ok := statuses[st]
	if !ok {
		return nil, nil
	}
	id, _ := strconv.ParseInt(r.URL.Query().Get("m"), 10, 64)
	up := baton.StatusUpdate{MessageID: id, ProviderID: sid, State: state}
	if c := p.Get("ErrorCode"); c != "" {
		up.Error = "twilio error " + c
	}
	return []baton.ChannelEvent{{Kind: baton.ChannelStatus, Status: up}}, nil
}

// ackTwiML answers an inbound message with TwiML: empty, or the one immediate answer (HELP,
// media). Never text/plain, which Twilio would send to the customer.
func ackTwiML(w http.ResponseWriter, res []channel.Result) error {
	type message struct {
		XMLName xml.Name `xml:"Message"`
		Body    string   `xml:",chardata"`
	}
	var resp struct {
		XMLName  xml.Name `xml:"Response"`
		Messages []message
	}
	for _, r := range res {
		// A retried message was answered the first time.
		if r.Event.Reply != "" && !r.Ingest.Duplicate {
			resp.Messages = append(resp.Messages, message{Body: r.Event.Reply})
		}
	}
	out, err := xml.Marshal(resp)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append([]byte(xml.Header), out...))
	return err
}

func ackEmpty(w http.ResponseWriter, _ []channel.Result) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiError is the Messages API's error body.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error 63016: a WhatsApp free-form message outside the 24-hour window.
const errOutsideWindow = 63016

// Send implements channel.Adapter: one Messages API call per part (replies longer than 1600
// characters are split at sentence ends). The status callback URL carries Baton's id. A failure
// after a part went out is unknown (never resent: the customer would get that part twice).
func (a *Adapter) Send(ctx context.Context, o baton.Outbound) (baton.Receipt, error) {
	var rc receipt
	sent := 0
	for _, part := range channel.Split(o.Text, MaxText) {
		sid, err := a.sendOne(ctx, o, url.Values{"Body": {part}})
		var se *channel.SendError
		if errors.As(err, &se) && se.Status == http.StatusBadRequest && strings.Contains(se.Error(), strconv.Itoa(errOutsideWindow)) &&
			a.ContentSID != "" && sent == 0 {
			// Outside WhatsApp's 24-hour window only the approved template may go out.
			sid, err = a.sendOne(ctx, o, url.Values{"ContentSid": {a.ContentSID}})
			if err == nil {
				return baton.Receipt(rc.add(sid)), nil
			}
		}
		if err != nil {
			if sent > 0 && errors.As(err, &se) {
				se.AfterSend, se.Permanent = true, false
			}
			return baton.Receipt(rc), err
		}
		rc = rc.add(sid)
		sent++
	}
	return baton.Receipt(rc), nil
}

type receipt baton.Receipt

func (r receipt) add(sid string) receipt {
	if sid != "" {
		r.ProviderIDs = append(r.ProviderIDs, sid)
	}
	return r
}

func (a *Adapter) sendOne(ctx context.Context, o baton.Outbound, form url.Values) (string, error) {
	form.Set("To", o.RecipientID)
	if a.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", a.MessagingServiceSID)
	} else {
		form.Set("From", a.From)
	}
	form.Set("StatusCallback", strings.TrimRight(a.PublicURL, "/")+StatusPath+"?m="+strconv.FormatInt(o.MessageID, 10))
	endpoint := strings.TrimRight(a.APIURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(a.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &channel.SendError{Permanent: true, Err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(a.AccountSID, a.AuthTokens[0])
	body, err := channel.Do(a.Client, req)
	if err != nil {
		var se *channel.SendError
		var ae apiError
		if errors.As(err, &se) && json.Unmarshal(body, &ae) == nil && ae.Code != 0 {
			se.Err = fmt.Errorf("twilio error %d: %s", ae.Code, ae.Message)
		}
		return "", err
	}
	var ok struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(body, &ok); err != nil || ok.SID == "" {
		// Accepted, but no id to map its statuses: sent all the same.
		return "", nil
	}
	return ok.SID, nil
}
