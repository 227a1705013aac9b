package convtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/sandbox"
	"github.com/batonhq/baton/knowledge"
)

// DefaultWindow is the burst window of scripts unless their env sets BATON_BURST_WINDOW.
const DefaultWindow = 300 * time.Millisecond

// SettleTimeout bounds how long a step may take to settle.
var SettleTimeout = 20 * time.Second

// Failure is one failed step of a script (step 0: the script could not run).
type Failure struct {
	Script  string `json:"script"`
	Step    int    `json:"step"`
	Message string `json:"message"`
}

// Result is the outcome of one script.
type Result struct {
	Script     *Script
	Failures   []Failure
	Transcript []string
	Elapsed    time.Duration
}

// Passed reports whether every step held.
func (r Result) Passed() bool { return len(r.Failures) == 0 }

// String is a human-readable report: PASS, or FAIL with every failure and the transcript.
func (r Result) String() string {
	var b strings.Builder
	if r.Passed() {
		fmt.Fprintf(&b, "PASS %s (%s) %s", r.Script.File, r.Script.Name, r.Elapsed.Round(time.Millisecond))
		return b.String()
	}
	fmt.Fprintf(&b, "FAIL %s (%s) %s\n", r.Script.File, r.Script.Name, r.Elapsed.Round(time.Millisecond))
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "  step %d: %s\n", f.Step, f.Message)
	}
	b.WriteString("  transcript:\n")
	for _, l := range r.Transcript {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Env is the configuration a script's Baton should run with: the script's env over the
// default burst window.
func Env(s *Script) map[string]string {
	env := map[string]string{"BATON_BURST_WINDOW": DefaultWindow.String()}
	for k, v := range s.Env {
		env[k] = v
	}
	return env
}

// advancer is a clock that can jump (baton.OffsetClock, baton.ManualClock).
type advancer interface{ Advance(time.Duration) }

// Run plays script s against b, which must run with Env(s), the real brain and an empty
// conversation history for a new customer. It returns when the script ends or a step fails
// to settle; expectation failures do not stop it.
func Run(ctx context.Context, b *sandbox.Baton, s *Script) Result {
	start := time.Now()
	r := &runner{b: b, s: s, res: Result{Script: s}}
	r.run(ctx)
	r.res.Elapsed = time.Since(start)
	return r.res
}

type runner struct {
	b        *sandbox.Baton
	s        *Script
	res      Result
	sender   baton.Sender
	conv     int64
	msgs     int
	lastMsg  int64 // highest message id seen after the previous step
	lastTurn int64
	prev     string // last public bot reply
	agents   []scriptAgent
}

// scriptAgent is a person of the script's setup (or the one it creates when it has none).
type scriptAgent struct {
	id     int64
	email  string
	online bool // keeps a heartbeat: presence is renewed when time passes
}

func (r *runner) fail(step int, format string, args ...any) {
	r.res.Failures = append(r.res.Failures, Failure{Script: r.s.File, Step: step, Message: fmt.Sprintf(format, args...)})
}

func (r *runner) log(format string, args ...any) {
	r.res.Transcript = append(r.res.Transcript, fmt.Sprintf(format, args...))
}

func (r *runner) run(ctx context.Context) {
	r.sender = baton.Sender{ID: "script-" + randomID(), Name: r.s.Customer.Name, Email: r.s.Customer.Email, Phone: r.s.Customer.Phone}
	if st := r.s.Start; st != nil {
		c, ok := r.b.Clock.(advancer)
		if !ok {
			r.fail(0, "start: the Baton's clock (%T) cannot be advanced", r.b.Clock)
			return
		}
		now := r.b.Clock.Now()
		at, err := st.Next(now)
		if err != nil {
			r.fail(0, "start: %v", err)
			return
		}
		c.Advance(at.Sub(now))
		r.log("    (the clock starts at %s)", at.Format("Mon 2 Jan 15:04 MST"))
	}
	if err := r.setup(ctx); err != nil {
		r.fail(0, "setup: %v", err)
		return
	}
	for i, st := range r.s.Steps {
		n := i + 1
		before := ""
		if r.conv != 0 {
			if err := r.b.DB.Pool.QueryRow(ctx, `SELECT status FROM conversations WHERE id = $1`, r.conv).Scan(&before); err != nil {
				r.fail(n, "read conversation status: %v", err)
				return
			}
		}
		var lastCustomer int64
		switch {
		case len(st.Say) > 0:
			for _, text := range st.Say {
				r.msgs++
				res, err := r.b.Send(ctx, r.sender, fmt.Sprintf("%s-%d", r.sender.ID, r.msgs), text)
				if err != nil {
					r.fail(n, "say %q: %v", text, err)
					return
				}
				r.conv, lastCustomer = res.ConversationID, res.MessageID
				r.log("%2d  customer: %s", n, text)
			}
		case st.Wait != 0:
			c, ok := r.b.Clock.(advancer)
			if !ok {
				r.fail(n, "wait: the Baton's clock (%T) cannot be advanced", r.b.Clock)
				return
			}
			c.Advance(time.Duration(st.Wait))
			r.log("%2d  (%s later)", n, formatWait(time.Duration(st.Wait)))
			if err := r.timePassed(ctx); err != nil {
				r.fail(n, "wait: %v", err)
				return
			}
		case st.Agent != "":
			if err := r.agent(ctx, st.Agent); err != nil {
				r.fail(n, "agent %s: %v", st.Agent, err)
				return
			}
			if a, text := AgentAction(st.Agent); a == AgentReply {
				r.log("%2d  agent: %s", n, text)
			} else {
				r.log("%2d  (agent: %s)", n, st.Agent)
			}
		}
		if r.conv == 0 {
			continue // nothing to observe before the first message
		}
		if err := r.settle(ctx); err != nil {
			r.fail(n, "%v", err)
			return
		}
		o, err := r.observe(ctx, st, before, lastCustomer)
		if err != nil {
			r.fail(n, "read the step's outcome: %v", err)
			return
		}
		for _, rep := range o.Replies {
			line := fmt.Sprintf("%2d  bot: %s", n, strings.ReplaceAll(rep.Text, "\n", "\n             "))
			if len(rep.Cites) > 0 {
				line += "   [cites " + strings.Join(rep.Cites, ", ") + "]"
			}
			r.log("%s", line)
		}
		for _, f := range Check(st, o) {
			r.fail(n, "%s", f)
		}
	}
}

func randomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func formatWait(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func (r *runner) setup(ctx context.Context) error {
	for _, d := range r.s.Setup.DetailTypes {
		if _, _, err := r.b.Intents.SaveDetailType(ctx, 0, d); err != nil {
			return fmt.Errorf("save detail type %s: %w", d.Name, err)
		}
	}
	if len(r.s.Setup.Intents) > 0 {
		if _, _, err := r.b.Intents.Save(ctx, 0, r.s.Setup.Intents, false); err != nil {
			return fmt.Errorf("save intents: %w", err)
		}
	}
	if len(r.s.Setup.Articles) > 0 {
		var items []knowledge.Item
		for _, a := range r.s.Setup.Articles {
			items = append(items, knowledge.Item{Source: a.ExternalKey, Input: knowledge.ArticleInput{
				ExternalKey: a.ExternalKey, Title: a.Title, Body: a.Body, Status: knowledge.StatusPublished}})
		}
		sum, err := r.b.Knowledge.ImportItems(ctx, 0, "script "+r.s.File, items, knowledge.ImportOptions{Status: knowledge.StatusPublished}, nil)
		if err != nil {
			return fmt.Errorf("import articles: %w", err)
		}
		if sum.Failed > 0 {
			return fmt.Errorf("import articles: %d failed: %+v", sum.Failed, sum.Failures)
		}
		if _, err := r.b.Knowledge.EmbedPending(ctx, nil); err != nil {
			return fmt.Errorf("embed articles: %w", err)
		}
	}
	return r.setupPeople(ctx)
}

// setupPeople creates the script's teams with their hours and its agents with their presence.
func (r *runner) setupPeople(ctx context.Context) error {
	teams := map[string]int64{}
	existing, err := r.b.DB.ListTeams(ctx)
	if err != nil {
		return fmt.Errorf("list teams: %w", err)
	}
	for _, t := range existing {
		teams[t.Name] = t.ID
	}
	for _, tm := range r.s.Setup.Teams {
		id, ok := teams[tm.Name]
		if !ok {
			t, err := r.b.DB.CreateTeam(ctx, 0, tm.Name)
			if err != nil {
				return fmt.Errorf("create team %s: %w", tm.Name, err)
			}
			id, teams[tm.Name] = t.ID, t.ID
		}
		if tm.Hours != nil {
			raw, err := json.Marshal(tm.Hours)
			if err != nil {
				return fmt.Errorf("team %s hours: %w", tm.Name, err)
			}
			if err := r.b.DB.SetTeamHours(ctx, 0, id, raw); err != nil {
				return fmt.Errorf("team %s hours: %w", tm.Name, err)
			}
		}
	}
	for _, a := range r.s.Setup.Agents {
		u, _, err := r.b.DB.CreateUser(ctx, 0, baton.NewUser{Email: a.Email, Name: a.Email, Role: baton.RoleAgent,
			Capacity: cmp.Or(a.Capacity, 5), Teams: []string{a.Team}})
		if err != nil {
			return fmt.Errorf("create agent %s: %w", a.Email, err)
		}
		p := baton.Presence(cmp.Or(a.Presence, string(baton.PresenceOnline)))
		if err := r.b.DB.SetPresence(ctx, u.ID, p); err != nil {
			return fmt.Errorf("agent %s presence: %w", a.Email, err)
		}
		r.agents = append(r.agents, scriptAgent{id: u.ID, email: a.Email, online: p == baton.PresenceOnline})
	}
	return nil
}

// timePassed does at once what the periodic agents job would do after a wait, so a step sees it:
// online agents' heartbeats renew, and conversations waiting on the customer free their slot.
func (r *runner) timePassed(ctx context.Context) error {
	for _, a := range r.agents {
		if a.online {
			if err := r.b.DB.SetPresence(ctx, a.id, baton.PresenceOnline); err != nil {
				return fmt.Errorf("heartbeat of %s: %w", a.email, err)
			}
		}
	}
	if _, err := r.b.DB.SweepInactive(ctx, cmp.Or(r.b.DB.AgentInactiveAfter, postgres.DefaultAgentInactiveAfter)); err != nil {
		return err
	}
	return nil
}

// agent plays an agent step through the store's agent paths (those the agent API calls).
func (r *runner) agent(ctx context.Context, step string) error {
	action, arg := AgentAction(step)
	email := ""
	if action != AgentReply && action != AgentNote && action != AgentTransfer {
		email = arg
	}
	who, err := r.actor(ctx, email)
	if err != nil {
		return err
	}
	db := r.b.DB
	switch action {
	case AgentClaim:
		_, err = db.Claim(ctx, who, r.conv)
	case AgentResolve, AgentResolveCSAT:
		_, err = db.ResolveConversation(ctx, who, r.conv, action == AgentResolveCSAT)
	case AgentReturn:
		_, err = db.ReturnToBot(ctx, who, r.conv)
	case AgentReply, AgentNote:
		vis := baton.Public
		if action == AgentNote {
			vis = baton.Internal
		}
		_, err = db.PostMessage(ctx, baton.AgentMessage{ConversationID: r.conv, Author: baton.AuthorAgent, UserID: who, Visibility: vis, Text: arg})
	case AgentTransfer:
		to := baton.Transfer{Team: arg}
		if strings.Contains(arg, "@") {
			to = baton.Transfer{}
			if to.UserID, err = r.agentID(arg); err != nil {
				return err
			}
		}
		err = db.Transfer(ctx, who, r.conv, to)
	default:
		return fmt.Errorf("unknown agent action %q", action)
	}
	return err
}

func (r *runner) agentID(email string) (int64, error) {
	for _, a := range r.agents {
		if a.email == email {
			return a.id, nil
		}
	}
	return 0, fmt.Errorf("no agent %s in the script's setup", email)
}

// actor is the agent who acts: the one named, else the one holding the conversation, else the
// script's first, else one created for the script (offline, so nothing is assigned to them).
func (r *runner) actor(ctx context.Context, email string) (int64, error) {
	if email != "" {
		return r.agentID(email)
	}
	var held *int64
	if err := r.b.DB.Pool.QueryRow(ctx, `SELECT assigned_user_id FROM conversations WHERE id = $1`, r.conv).Scan(&held); err != nil {
		return 0, fmt.Errorf("read the conversation's agent: %w", err)
	}
	if held != nil {
		return *held, nil
	}
	if len(r.agents) > 0 {
		return r.agents[0].id, nil
	}
	var team string
	if err := r.b.DB.Pool.QueryRow(ctx, `SELECT name FROM teams WHERE is_default`).Scan(&team); err != nil {
		return 0, fmt.Errorf("read the default team: %w", err)
	}
	u, _, err := r.b.DB.CreateUser(ctx, 0, baton.NewUser{Email: "agent@script.test", Name: "Script Agent", Role: baton.RoleAgent,
		Capacity: 5, Teams: []string{team}})
	if err != nil {
		return 0, fmt.Errorf("create the script's agent: %w", err)
	}
	r.agents = append(r.agents, scriptAgent{id: u.ID, email: "agent@script.test"})
	return u.ID, nil
}

// settle waits until every customer message is processed and every public reply has left.
func (r *runner) settle(ctx context.Context) error {
	deadline := time.Now().Add(SettleTimeout)
	var open, undelivered int
	for {
		err := r.b.DB.Pool.QueryRow(ctx, `SELECT
				count(*) FILTER (WHERE author = 'customer' AND processed_at IS NULL),
				count(*) FILTER (WHERE author <> 'customer' AND visibility = 'public' AND delivery_state IN ('pending', 'sending'))
			FROM messages WHERE conversation_id = $1`, r.conv).Scan(&open, &undelivered)
		if err != nil {
			return fmt.Errorf("settle: %w", err)
		}
		if open == 0 && undelivered == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("did not settle within %s: %d customer messages unprocessed, %d replies undelivered", SettleTimeout, open, undelivered)
		}
		wait, cancel := context.WithTimeout(ctx, 25*time.Millisecond)
		r.b.Sink.Wait(wait) //nolint:errcheck // a delivery or the poll interval, whichever first
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func (r *runner) observe(ctx context.Context, st Step, before string, lastCustomer int64) (Observation, error) {
	o := Observation{StatusBefore: before, Said: len(st.Say) > 0, PrevReply: r.prev, Details: map[string]string{}}
	db := r.b.DB.Pool
	rows, err := db.Query(ctx, `SELECT m.id, m.body, coalesce((SELECT array_agg(DISTINCT a.external_key ORDER BY a.external_key)
			FROM jsonb_array_elements(m.citations) c JOIN kb_articles a ON a.id = (c->>'article_id')::bigint), '{}')
		FROM messages m WHERE m.conversation_id = $1 AND m.id > $2 AND m.author = 'bot' AND m.visibility = 'public'
		ORDER BY m.id`, r.conv, r.lastMsg)
	if err != nil {
		return o, err
	}
	for rows.Next() {
		var rep Reply
		if err := rows.Scan(&rep.ID, &rep.Text, &rep.Cites); err != nil {
			rows.Close()
			return o, err
		}
		o.Replies = append(o.Replies, rep)
	}
	if err := rows.Err(); err != nil {
		return o, err
	}
	if len(o.Replies) > 0 {
		r.prev = o.Replies[len(o.Replies)-1].Text
	}
	rows, err = db.Query(ctx, `SELECT id, coalesce(data->>'action', ''), coalesce(data->'actions', '[]') FROM turn_traces
		WHERE conversation_id = $1 AND id > $2 ORDER BY id`, r.conv, r.lastTurn)
	if err != nil {
		return o, err
	}
	for rows.Next() {
		var id int64
		var t Turn
		var raw []byte
		if err := rows.Scan(&id, &t.Action, &raw); err != nil {
			rows.Close()
			return o, err
		}
		t.Actions = ActionNames(raw)
		o.Turns = append(o.Turns, t)
		r.lastTurn = max(r.lastTurn, id)
	}
	if err := rows.Err(); err != nil {
		return o, err
	}
	if lastCustomer != 0 {
		if err := db.QueryRow(ctx, `SELECT coalesce(meta->>'intent', '') FROM messages WHERE id = $1`, lastCustomer).Scan(&o.Intent); err != nil {
			return o, err
		}
	}
	var details map[string]any
	if err := db.QueryRow(ctx, `SELECT c.status, c.details, coalesce(u.email, 'nobody'), coalesce(t.name, ''),
			coalesce((SELECT csat_score FROM episodes e WHERE e.conversation_id = c.id AND e.csat_asked_at IS NOT NULL
				ORDER BY e.number DESC LIMIT 1), 0)
		FROM conversations c LEFT JOIN users u ON u.id = c.assigned_user_id LEFT JOIN teams t ON t.id = c.team_id
		WHERE c.id = $1`, r.conv).Scan(&o.Status, &details, &o.Assigned, &o.Team, &o.CSAT); err != nil {
		return o, err
	}
	for k, v := range details {
		o.Details[k] = fmt.Sprint(v)
	}
	if st.Expect != nil && st.Expect.Handoff != "" {
		// The handoffs table is another feature's: read it only when a script asks.
		err := db.QueryRow(ctx, `SELECT reason FROM handoffs WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1`, r.conv).Scan(&o.Handoff)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return o, fmt.Errorf("read handoffs: %w", err)
		}
	}
	if err := db.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = $1`, r.conv).Scan(&r.lastMsg); err != nil {
		return o, err
	}
	return o, nil
}

// ActionNames reads a trace's actions: strings, or objects named by kind, type, action or name.
func ActionNames(raw []byte) []string {
	var list []any
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []string
	for _, a := range list {
		switch v := a.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			for _, k := range []string{"kind", "type", "action", "name"} {
				if s, ok := v[k].(string); ok && s != "" {
					out = append(out, s)
					break
				}
			}
		}
	}
	return out
}

// Starter runs a Baton for one script (with Env(s)); stop ends it.
type Starter func(ctx context.Context, s *Script) (b *sandbox.Baton, stop func(), err error)

// RunAll runs scripts, at most parallel at a time, each on its own Baton, in input order.
func RunAll(ctx context.Context, scripts []*Script, parallel int, start Starter) []Result {
	results := make([]Result, len(scripts))
	sem := make(chan struct{}, max(1, parallel))
	var wg sync.WaitGroup
	for i, s := range scripts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				results[i] = Result{Script: s, Failures: []Failure{{Script: s.File, Message: ctx.Err().Error()}}}
				return
			}
			b, stop, err := start(ctx, s)
			if err != nil {
				results[i] = Result{Script: s, Failures: []Failure{{Script: s.File, Message: "start: " + err.Error()}}}
				return
			}
			results[i] = Run(ctx, b, s)
			stop()
		}()
	}
	wg.Wait()
	return results
}

// Report is the machine-readable summary of a run.
type Report struct {
	Scripts  int       `json:"scripts"`
	Passed   int       `json:"passed"`
	Failed   int       `json:"failed"`
	Failures []Failure `json:"failures"`
}

// Summarize counts results.
func Summarize(results []Result) Report {
	rep := Report{Scripts: len(results), Failures: []Failure{}}
	for _, r := range results {
		if r.Passed() {
			rep.Passed++
			continue
		}
		rep.Failed++
		rep.Failures = append(rep.Failures, r.Failures...)
	}
	return rep
}

// ErrFailed is returned by Write when a script failed.
var ErrFailed = errors.New("conversation scripts failed")

// Write prints the results as text (or JSON) and returns ErrFailed if any script failed.
func Write(w io.Writer, results []Result, asJSON bool) error {
	rep := Summarize(results)
	if asJSON {
		if err := json.NewEncoder(w).Encode(rep); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			fmt.Fprintln(w, r.String())
		}
		fmt.Fprintf(w, "%d scripts: %d passed, %d failed\n", rep.Scripts, rep.Passed, rep.Failed)
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%w: %d of %d", ErrFailed, rep.Failed, rep.Scripts)
	}
	return nil
}
