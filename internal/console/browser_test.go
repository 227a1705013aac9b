package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/browsertest"
	"github.com/batonhq/baton/internal/testkit"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// setField sets a form control's value as typing would (input and change events fire).
func setField(p *browsertest.Page, css, value string) {
	browsertest.Eval[bool](p, fmt.Sprintf(`(() => { const el = document.querySelector(%s); el.value = %s;
		el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`,
		js(css), js(value)))
}

// (b) A handoff appears in the open inbox (live, or by the 10 s refresh until the event stream
// exists); the agent signs in with the form, claims, replies and adds an internal note. The reply
// is stored and delivered; the note is stored internal and never delivered.
func TestBrowserAgentTakesAHandoff(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{RealBot: true, Seed: true})
	token := user(t, b, baton.RoleAgent, "support")
	p := browsertest.New(t)
	p.Do(chromedp.Navigate(b.URL + "/agent"))
	p.WaitFor(`!document.querySelector('#signin').hidden`, "the sign-in form")
	p.Do(chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Click(chromedp.CSS("#signin button")))
	p.WaitFor(`!document.querySelector('#app').hidden && document.querySelector('#queue li') !== null`, "the inbox")

	// With the event stream served, the inbox must be live, not refreshing.
	streamed := agentEventsServed(t, b, token)
	if streamed {
		p.WaitFor(`document.querySelector('#live').textContent === 'live'`, "the live event stream")
	}
	asked := time.Now()
	conv := handoff(t, b, fmt.Sprintf("browser-%d", time.Now().UnixNano()))
	item := fmt.Sprintf(`.item[data-id="%d"]`, conv)
	p.WaitForWithin(30*time.Second, fmt.Sprintf(`document.querySelector(%s) !== null`, js("#queue "+item)), "the handoff in the queue")
	t.Logf("the handoff appeared in the inbox %s after the customer's message (%s)", time.Since(asked).Round(time.Millisecond), p.Text("#live"))
	if got := p.Text("#queue " + item); !strings.Contains(got, "Nora Quinn") || !strings.Contains(got, "new") {
		t.Errorf("queue item = %q, want the customer's name and the unread marker", got)
	}
	p.Do(chromedp.Click(chromedp.CSS("#queue " + item)))
	panel := fmt.Sprintf("#panel-%d", conv)
	p.WaitFor(fmt.Sprintf(`document.querySelector(%s) !== null`, js(panel+" .handoff h3")), "the handoff package")
	if got := p.Text(panel + " .handoff"); !strings.Contains(got, "customer request") || !strings.Contains(got, "Next step") {
		t.Errorf("handoff package = %q", got)
	}
	if got := p.Text(panel + " .transcript"); !strings.Contains(got, "real person") {
		t.Errorf("transcript = %q, want the customer's message", got)
	}
	if browsertest.Eval[bool](p, fmt.Sprintf(`document.querySelector(%s).classList.contains('is-unread')`, js("#queue "+item))) {
		t.Error("the opened conversation is still marked unread")
	}

	p.Do(chromedp.Click(chromedp.CSS(panel + " .claim")))
	p.WaitFor(fmt.Sprintf(`(document.querySelector(%s)||{}).textContent === 'agent'`, js(panel+" .status")), "the claim")

	const replyText = "Hi Nora, Ana here. I'm looking at your order now."
	setField(p, panel+" textarea", replyText)
	p.Do(chromedp.Click(chromedp.CSS(panel + " .send")))
	p.WaitFor(fmt.Sprintf(`[...document.querySelectorAll(%s)].some(li => li.textContent.includes(%s))`,
		js(panel+" .transcript li"), js(replyText)), "the reply in the transcript")

	const noteText = "VIP customer, refund without asking twice"
	p.Do(chromedp.Click(chromedp.CSS(fmt.Sprintf("#vis-note-%d", conv))))
	if !browsertest.Eval[bool](p, fmt.Sprintf(`document.querySelector(%s).classList.contains('is-note')`, js(panel+" .compose"))) {
		t.Error("the composer does not look different for an internal note")
	}
	setField(p, panel+" textarea", noteText)
	p.Do(chromedp.Click(chromedp.CSS(panel + " .send")))
	p.WaitFor(fmt.Sprintf(`[...document.querySelectorAll(%s)].some(li => li.textContent.includes(%s))`,
		js(panel+" .transcript li.note"), js(noteText)), "the note, marked as a note, in the transcript")

	if n := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'agent' AND visibility = 'public'
		AND body = $2 AND delivery_state IS NOT NULL`, conv, replyText); n != 1 {
		t.Errorf("stored public replies with a delivery state = %d, want 1", n)
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND visibility = 'internal'
		AND body = $2 AND delivery_state IS NULL`, conv, noteText); n != 1 {
		t.Errorf("stored internal notes without a delivery state = %d, want 1", n)
	}
	t.Cleanup(func() {
		if t.Failed() {
			var state, errText string
			var attempts int
			_ = b.DB.Pool.QueryRow(context.Background(), `SELECT coalesce(delivery_state, ''), delivery_attempts, delivery_error FROM messages
				WHERE conversation_id = $1 AND body = $2`, conv, replyText).Scan(&state, &attempts, &errText)
			t.Logf("the reply: delivery state %q after %d attempts, error %q", state, attempts, errText)
		}
	})
	testkit.WaitFor(t, 20*time.Second, "the reply delivered", func() bool {
		for _, d := range b.DeliveriesTo(conv) {
			if d.Body.Text == replyText {
				return true
			}
		}
		return false
	})
	for _, d := range b.DeliveriesTo(conv) {
		if strings.Contains(d.Body.Text, "VIP") {
			t.Fatalf("the internal note was delivered: %+v", d.Body)
		}
	}

	// A second conversation opens in its own tab; a customer message in the first, now in the
	// background, marks its tab unread until the agent comes back to it.
	conv2 := handoff(t, b, fmt.Sprintf("browser2-%d", time.Now().UnixNano()))
	item2 := fmt.Sprintf(`.item[data-id="%d"]`, conv2)
	p.WaitForWithin(30*time.Second, fmt.Sprintf(`document.querySelector(%s) !== null`, js("#queue "+item2)), "the second handoff")
	p.Do(chromedp.Click(chromedp.CSS("#queue " + item2)))
	p.WaitFor(fmt.Sprintf(`document.querySelector('#tab-%d').getAttribute('aria-selected') === 'true' && document.querySelector('#panel-%d').hidden`, conv2, conv), "the second tab in front")
	status, _ := b.Post(t, testkit.Message(customerOf(t, b, conv), "Nora Quinn", fmt.Sprintf("again-%d", conv), "are you still there?"))
	if status >= 300 {
		t.Fatalf("customer's second message: %d", status)
	}
	p.WaitForWithin(30*time.Second, fmt.Sprintf(`!document.querySelector('#tab-%d .dot').hidden`, conv), "the unread marker on the background tab")
	p.Do(chromedp.Click(chromedp.CSS(fmt.Sprintf("#tab-%d", conv))))
	p.WaitFor(fmt.Sprintf(`document.querySelector('#tab-%d .dot').hidden && [...document.querySelectorAll('#panel-%d .transcript li')].some(li => li.textContent.includes('still there'))`, conv, conv),
		"the message shown and the marker gone")
	if bad := browsertest.Eval[[]string](p, unlabelledJS); len(bad) > 0 {
		t.Errorf("controls without a label: %v", bad)
	}

	if os.Getenv("BATON_CONSOLE_SHOTS") != "" {
		p.Screenshot("agent-inbox")
	}

	// (f) CSRF: the signed-in browser's own cookie, a POST without the token: refused, nothing stored.
	status = browsertest.Eval[int](p, fmt.Sprintf(`fetch('/v1/conversations/%d/messages', {method: 'POST',
		headers: {'Content-Type': 'application/json'}, body: JSON.stringify({text: 'forged'})}).then(r => r.status)`, conv))
	if status != http.StatusForbidden {
		t.Errorf("cookie POST without the CSRF token: %d, want 403", status)
	}
	if n := b.Count(t, `SELECT count(*) FROM messages WHERE body = 'forged'`); n != 0 {
		t.Errorf("the refused POST stored %d messages", n)
	}
	for _, e := range p.ConsoleErrors() {
		// Refused requests are expected here (401 before sign-in, 403 above, 404 for the event
		// stream where it is not served yet); a script error is not.
		if !strings.Contains(e, "Failed to load resource") {
			t.Errorf("browser console: %s", e)
		}
	}
}

// (c) An admin, signed in by a sign-in link, edits and publishes an article, and the playground
// answers from the new text.
func TestBrowserAdminPublishesAndThePlaygroundAnswers(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true})
	token := user(t, b, baton.RoleAdmin)
	status, art := b.API(t, "POST", "/v1/knowledge/articles", token, map[string]any{
		"title": "Gift wrapping", "body": "We do not wrap gifts yet.", "status": "draft"})
	if status != http.StatusCreated {
		t.Fatalf("create article: %d %v", status, art)
	}
	id := testkit.ID(art["id"])

	p := browsertest.New(t)
	p.Do(chromedp.Navigate(fmt.Sprintf("%s/admin#token=%s", b.URL, token)))
	p.WaitFor(`!document.querySelector('#app').hidden`, "the console after the sign-in link")
	if h := browsertest.Eval[string](p, `location.hash`); strings.Contains(h, "token") {
		t.Errorf("the token stays in the address bar: %q", h)
	}
	p.Do(chromedp.Navigate(fmt.Sprintf("%s/admin#article/%d", b.URL, id)))
	p.WaitFor(`document.querySelector('#article-body') !== null`, "the editor")
	const body = "## Gift wrapping\n\nEvery order can be **gift wrapped** in recycled paper with a unicorn ribbon for 3 euros."
	setField(p, "#article-body", body)
	p.WaitFor(`(document.querySelector('#article-preview strong')||{}).textContent === 'gift wrapped'`, "the Markdown preview")
	p.Do(chromedp.Click(chromedp.CSS("button.publish")))
	p.WaitFor(`(document.querySelector('#article-state')||{}).textContent.startsWith('published')`, "the published state")

	p.Do(chromedp.Navigate(b.URL + "/admin#playground"))
	p.WaitFor(`document.querySelector('#play-q') !== null`, "the playground")
	setField(p, "#play-q", "can you gift wrap my order with a unicorn ribbon?")
	p.Do(chromedp.Click(chromedp.CSS("#view form button[type=submit]")))
	p.WaitFor(`document.querySelector('#play-chunks tbody tr') !== null`, "the retrieved chunks")
	if got := p.Text("#play-chunks tbody tr"); !strings.Contains(got, "unicorn ribbon") {
		t.Errorf("top chunk = %q, want the new text", got)
	}
	if got := p.Text("#play-answer"); !strings.Contains(got, "unicorn ribbon") {
		t.Errorf("answer = %q, want it from the new text", got)
	}
}

// (d) A broken prompt template is refused with its line number, and no version is stored.
func TestBrowserBrokenPromptIsRefusedWithItsLine(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{NoWork: true})
	token := user(t, b, baton.RoleAdmin)
	status, list := b.API(t, "GET", "/v1/prompts", token, nil)
	if status != http.StatusOK {
		t.Fatalf("list prompts: %d", status)
	}
	name := list["prompts"].([]any)[0].(map[string]any)["name"].(string)
	before := b.Count(t, `SELECT count(*) FROM prompt_versions`)

	p := browsertest.New(t)
	p.Do(chromedp.Navigate(fmt.Sprintf("%s/admin#token=%s", b.URL, token)))
	p.WaitFor(`!document.querySelector('#app').hidden`, "the console")
	p.Do(chromedp.Navigate(b.URL + "/admin#prompt/" + name))
	p.WaitFor(`document.querySelector('#prompt-body') !== null`, "the prompt editor")
	setField(p, "#prompt-body", "Hello there.\nStill fine.\n{{ if .Nope }\n")
	p.Do(chromedp.Click(chromedp.CSS("button.save")))
	p.WaitFor(`document.querySelector('#prompt-error').textContent !== ''`, "the refusal")
	if got := p.Text("#prompt-error"); !strings.HasPrefix(got, "Line 3:") {
		t.Errorf("error = %q, want it on line 3", got)
	}
	if n := b.Count(t, `SELECT count(*) FROM prompt_versions`); n != before {
		t.Errorf("prompt rows %d → %d: the refused template was stored", before, n)
	}
}

// Every admin section renders from the live API without a script error, the conversation view
// with the turn traces of a real handoff.
func TestBrowserAdminSectionsRender(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{RealBot: true, Seed: true})
	conv := handoff(t, b, fmt.Sprintf("sections-%d", time.Now().UnixNano()))
	token := user(t, b, baton.RoleAdmin)
	p := browsertest.New(t)
	p.Do(chromedp.Navigate(fmt.Sprintf("%s/admin#token=%s", b.URL, token)))
	p.WaitFor(`!document.querySelector('#app').hidden`, "the console")
	sections := []struct{ hash, want, css, contains string }{
		{"dashboard", "Dashboard", "#view", dashboardText(t, b, token)},
		{"articles", "Articles", "#view tbody", "Returns and refunds"}, {"gaps", "Knowledge gaps", "", ""},
		{"playground", "Retrieval playground", "", ""}, {"prompts", "Prompts", "#view tbody", "v"},
		{"intents", "Intents", "#view tbody", "order_status"}, {"intent/order_status", "Intent order_status", "", ""},
		{"conversations", "Conversations", "#view tbody", "Nora Quinn"},
		{fmt.Sprintf("conversation/%d", conv), "Conversation #", "#view .trace", "customer_request"},
		{"settings", "Settings", "#settings-list", "BATON_ANSWER_MIN_CONFIDENCE"}, {"users", "Users & teams", "#view tbody", "admin"},
	}
	for _, s := range sections {
		p.Do(chromedp.Navigate(b.URL + "/admin#" + s.hash))
		p.WaitFor(fmt.Sprintf(`(document.querySelector('#view h2')||{}).textContent?.startsWith(%s) && !document.querySelector('#view .error')
			&& !document.querySelector('#view .hint')?.textContent.startsWith('Loading')`, js(s.want)), "section "+s.hash)
		if s.hash == "dashboard" && s.contains == "The numbers" {
			p.WaitFor(`[...document.querySelectorAll('.chart img')].every(i => i.complete && i.naturalWidth > 0) && !/null/.test(document.querySelector('#view').textContent.slice(0, 60))`, "the charts drawn")
		}
		if os.Getenv("BATON_CONSOLE_SHOTS") != "" {
			p.Screenshot("admin-" + s.hash)
		}
		if s.css != "" {
			p.WaitFor(fmt.Sprintf(`(document.querySelector(%s)||{textContent: ''}).textContent.includes(%s)`, js(s.css), js(s.contains)),
				fmt.Sprintf("#%s: %q in %s", s.hash, s.contains, s.css))
		}
		if bad := browsertest.Eval[[]string](p, unlabelledJS); len(bad) > 0 {
			t.Errorf("#%s: controls without a label: %v", s.hash, bad)
		}
	}
	noStats := sections[0].contains == "no statistics endpoint"
	for _, e := range p.ConsoleErrors() {
		if noStats && strings.Contains(e, "status of 404") {
			continue // the dashboard's GET /v1/stats, where it is not served
		}
		t.Errorf("browser console: %s", e)
	}
}

// agentEventsServed reports whether GET /v1/agent/events answers (the event stream exists).
func agentEventsServed(t testing.TB, b *testkit.Baton, token string) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.URL+"/v1/agent/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/agent/events: %v", err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// customerOf returns the external id of a conversation's customer (the webhook sender).
func customerOf(t testing.TB, b *testkit.Baton, conv int64) string {
	t.Helper()
	var id string
	if err := b.DB.Pool.QueryRow(context.Background(), `SELECT cu.external_id FROM conversations c
		JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1`, conv).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// unlabelledJS lists the page's visible form controls that have neither a label nor an
// aria-label: every control must be named for keyboard and screen-reader users.
const unlabelledJS = `[...document.querySelectorAll('input, select, textarea, button')]
	.filter(el => el.offsetParent !== null && el.type !== 'hidden')
	.filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
	.map(el => el.outerHTML.slice(0, 80))`

// An admin imports a Markdown file and watches it finish, restores an earlier version of an
// article, and edits an intent's examples.
func TestBrowserAdminImportsRestoresAndEditsIntents(t *testing.T) {
	t.Parallel()
	b := testkit.Start(t, testkit.Options{Seed: true})
	token := user(t, b, baton.RoleAdmin)
	file := filepath.Join(t.TempDir(), "gift-cards.md")
	if err := os.WriteFile(file, []byte("# Gift cards\n\nGift cards never expire and can be used for any order.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := browsertest.New(t)
	p.Do(chromedp.Navigate(fmt.Sprintf("%s/admin#token=%s", b.URL, token)))
	p.WaitFor(`!document.querySelector('#app').hidden && document.querySelector('#import-file') !== null`, "the articles")
	p.Do(chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{file}))
	p.Do(chromedp.Click(chromedp.CSS("#view .card button.primary")))
	p.WaitForWithin(40*time.Second, `/: done/.test(document.querySelector('#import-status').textContent)`, "the import to finish")
	if got := p.Text("#import-status"); !strings.Contains(got, "added 1") {
		t.Errorf("import status = %q, want one article added", got)
	}
	if v := browsertest.Eval[float64](p, `document.querySelector('#import-progress').value`); v < 1 {
		t.Errorf("progress = %v at the end", v)
	}
	id := int64(b.Count(t, `SELECT id::int FROM kb_articles WHERE title = 'Gift cards'`))

	// Version 2 by the API, then back to version 1 in the console.
	if status, _ := b.API(t, "PATCH", fmt.Sprintf("/v1/knowledge/articles/%d", id), token, map[string]any{"body": "Gift cards expire after a year."}); status != http.StatusOK {
		t.Fatalf("edit: %d", status)
	}
	p.Do(chromedp.Navigate(fmt.Sprintf("%s/admin#article/%d", b.URL, id)))
	p.WaitFor(`[...document.querySelectorAll('#article-versions button')].some(b => b.textContent === 'Restore')`, "the versions")
	p.Do(chromedp.Click(chromedp.CSS("#article-versions button:nth-of-type(1)")))
	p.WaitFor(`document.querySelector('#article-versions pre.diff .add') !== null`, "the diff")
	browsertest.Eval[bool](p, `(() => { [...document.querySelectorAll('#article-versions button')].find(b => b.textContent === 'Restore').click(); return true; })()`)
	p.WaitFor(`document.querySelector('#article-body') && document.querySelector('#article-body').value.includes('never expire')`, "the restored text")
	if n := b.Count(t, `SELECT count(*) FROM kb_articles WHERE id = $1 AND body LIKE '%never expire%'`, id); n != 1 {
		t.Error("the restore was not stored")
	}

	p.Do(chromedp.Navigate(b.URL + "/admin#intent/order_status"))
	p.WaitFor(`document.querySelector('#intent-examples') !== null`, "the intent editor")
	browsertest.Eval[bool](p, `(() => { const t = document.querySelector('#intent-examples'); t.value += '\nwhere has my parcel gone'; return true; })()`)
	p.Do(chromedp.Click(chromedp.CSS("#view .bar button.primary")))
	status, in := 0, map[string]any{}
	testkit.WaitFor(t, 20*time.Second, "the intent saved", func() bool {
		status, in = b.API(t, "GET", "/v1/intents/order_status", token, nil)
		return status == http.StatusOK && strings.Contains(fmt.Sprint(in["examples"]), "where has my parcel gone")
	})
	if in["action"] != "gather_then_handoff" || in["team"] != "orders" {
		t.Errorf("saving the examples changed the rest of the intent: %v", in)
	}
}

// dashboardText is what the dashboard shows: the table of numbers where /v1/stats is served,
// else that it is not.
func dashboardText(t testing.TB, b *testkit.Baton, token string) string {
	t.Helper()
	if status, _ := b.API(t, "GET", "/v1/stats", token, nil); status == http.StatusOK {
		return "The numbers"
	}
	return "no statistics endpoint"
}
