// Package soak runs Baton as real processes under a steady load while injecting faults, then
// checks at its own receiver that no acknowledged message went unanswered, no reply arrived
// twice and the replies of each conversation arrived in order. `baton bench soak` runs it.
//
// Processes: one `baton serve` and two `baton work` (the binary given), a private
// redis-server (append-only) on a free port, a scratch database (internal/sandbox), and the
// receiver replies are delivered to. Faults, spread over the run: kill -9 of one worker and a
// restart, a restart of the Redis server, a receiver slower than the delivery timeout, a
// receiver failing with 500.
package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
	"github.com/batonhq/baton/internal/sandbox"
)

// Options configure a run.
type Options struct {
	Binary   string        // the baton binary to run
	Duration time.Duration // the load phase; a drain of at most Drain follows
	Drain    time.Duration // default 60s
	Getenv   func(string) string
	Log      *slog.Logger
	Rate     float64 // messages per second (default 8)
}

// Report is what the run found, counted at the receiver.
type Report struct {
	Messages         int      `json:"messages"`
	Answered         int      `json:"answered"`
	Lost             int      `json:"lost"`
	DuplicateReplies int      `json:"duplicate_replies"`
	OutOfOrder       int      `json:"out_of_order"`
	MaxLagMS         int64    `json:"max_lag_ms"`
	RSSMBMax         float64  `json:"rss_mb_max"`
	Faults           []string `json:"faults"`
}

// OK reports whether the targets hold: nothing lost, doubled or out of order.
func (r Report) OK() bool { return r.Lost == 0 && r.DuplicateReplies == 0 && r.OutOfOrder == 0 }

const secret = "soak-secret"

// Run runs the soak.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Drain == 0 {
		o.Drain = 60 * time.Second
	}
	if o.Rate == 0 {
		o.Rate = 8
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var rep Report
	sb, err := sandbox.New(ctx, sandbox.Options{Getenv: o.Getenv})
	if err != nil {
		return rep, err
	}
	defer sb.Close()
	dbURL, err := sb.Clone(ctx)
	if err != nil {
		return rep, err
	}
	dir, err := os.MkdirTemp("", "baton-soak-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)

	rd, err := startRedis(ctx, dir)
	if err != nil {
		return rep, err
	}
	defer rd.stop()

	rc := newReceiver()
	rln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	rsrv := &http.Server{Handler: rc}
	go rsrv.Serve(rln) //nolint:errcheck
	defer rsrv.Close()

	fake := &model{}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	msrv := &http.Server{Handler: fake}
	go msrv.Serve(mln) //nolint:errcheck
	defer msrv.Close()

	httpAddr, err := freeAddr()
	if err != nil {
		return rep, err
	}
	env := append(os.Environ(),
		"BATON_DATABASE_URL="+dbURL, "BATON_REDIS_URL="+rd.url(), "BATON_HTTP_ADDR="+httpAddr,
		"BATON_PUBLIC_URL=http://"+httpAddr, "BATON_WEBHOOK_SECRET="+secret, "BATON_WEBHOOK_SECRET_PREVIOUS=",
		"BATON_OUTBOUND_URL=http://"+rln.Addr().String()+"/replies", "BATON_QUEUE_PREFIX=soak",
		"BATON_LLM_BASE_URL=http://"+mln.Addr().String()+"/v1", "BATON_LLM_API_KEY=soak", "BATON_LLM_TIMEOUT=5s", "BATON_LOG_LEVEL=error", "BATON_METRICS_ADDR=",
		"BATON_DELIVERY_SEND_TIMEOUT=3s", "BATON_DELIVERY_SWEEP=1s", "BATON_LEASE_TTL=3s", "BATON_BURST_WINDOW=500ms",
		"BATON_SHUTDOWN_GRACE=3s")
	procs := &processes{binary: o.Binary, env: env, dir: dir}
	defer procs.stopAll()
	for _, name := range []string{"serve", "work-1", "work-2"} {
		if err := procs.start(name); err != nil {
			return rep, err
		}
	}
	base := "http://" + httpAddr
	if err := waitReady(ctx, base+"/readyz", 30*time.Second); err != nil {
		return rep, err
	}

	// Load and faults.
	lctx, stopLoad := context.WithTimeout(ctx, o.Duration)
	defer stopLoad()
	ld := &load{base: base, rate: o.Rate}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ld.run(lctx) }()
	faultsDone := make(chan []string, 1)
	go func() { defer wg.Done(); faultsDone <- runFaults(lctx, o.Duration, procs, rd, rc, o.Log) }()
	var rss atomic.Uint64
	sctx, stopSample := context.WithCancel(ctx)
	go procs.sampleRSS(sctx, &rss)
	wg.Wait()
	rep.Faults = <-faultsDone
	if calls, failed := fake.calls.Load(), fake.failed.Load(); calls > 0 {
		rep.Faults = append(rep.Faults, fmt.Sprintf("LLM failing %d of %d calls", failed, calls))
	}
	rc.mode.Store(modeOK)

	// Drain: until every acknowledged message has a reply after it, or the bound.
	deadline := time.Now().Add(o.Drain)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if len(unanswered(ld.acked(), rc.received())) == 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	stopSample()
	rep.RSSMBMax = float64(rss.Load()) / 1024
	handed, err := handedOff(ctx, dbURL)
	if err != nil {
		return rep, err
	}
	rep.count(ld.acked(), rc.received(), rc.duplicates(), handed)
	// Stored public replies never received.
	missing, err := storedNotReceived(ctx, dbURL, rc.received())
	if err != nil {
		return rep, err
	}
	rep.Lost += missing
	return rep, nil
}

func (rep *Report) count(acked []ack, got map[int64][]delivery, dups int, handed map[int64]bool) {
	rep.Messages = len(acked)
	// A message a turn read after the conversation went to people is theirs to answer.
	for _, a := range unanswered(acked, got) {
		if !handed[a.message] {
			rep.Lost++
		}
	}
	rep.Answered = rep.Messages - rep.Lost
	rep.DuplicateReplies = dups
	for _, ds := range got {
		for i := 1; i < len(ds); i++ {
			if ds[i].messageID < ds[i-1].messageID {
				rep.OutOfOrder++
			}
		}
	}
	for _, a := range acked {
		for _, d := range got[a.conversation] {
			if d.at.After(a.at) {
				if lag := d.at.Sub(a.at).Milliseconds(); lag > rep.MaxLagMS {
					rep.MaxLagMS = lag
				}
				break
			}
		}
	}
}

// unanswered lists the acknowledged messages with no reply received after them.
func unanswered(acked []ack, got map[int64][]delivery) []ack {
	var out []ack
	for _, a := range acked {
		answered := false
		for _, d := range got[a.conversation] {
			if d.messageID > a.message {
				answered = true
				break
			}
		}
		if !answered {
			out = append(out, a)
		}
	}
	return out
}

// --- the receiver -------------------------------------------------------------------------

const (
	modeOK int32 = iota
	modeSlow
	modeFailing
)

type delivery struct {
	messageID int64
	at        time.Time
}

type receiver struct {
	mode atomic.Int32
	mu   sync.Mutex
	got  map[int64][]delivery // by conversation, in order of arrival
	seen map[int64]int
}

func newReceiver() *receiver {
	return &receiver{got: map[int64][]delivery{}, seen: map[int64]int{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil || !channel.Verify([]string{secret}, raw, r.Header.Get(channel.SignatureHeader)) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	switch rc.mode.Load() {
	case modeFailing:
		http.Error(w, "failing on purpose", http.StatusInternalServerError)
		return
	case modeSlow:
		// Longer than the sender's timeout: the sender gives up, the reply is unknown and
		// sent again; this one is not taken (its answer never reaches the sender).
		select {
		case <-time.After(8 * time.Second): // beyond the send lease (2 × the 3s send timeout)
		case <-r.Context().Done():
		}
		http.Error(w, "too slow", http.StatusGatewayTimeout)
		return
	}
	var body channel.OutboundBody
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.seen[body.MessageID]++
	if rc.seen[body.MessageID] == 1 {
		rc.got[body.ConversationID] = append(rc.got[body.ConversationID], delivery{messageID: body.MessageID, at: time.Now()})
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) received() map[int64][]delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[int64][]delivery, len(rc.got))
	for k, v := range rc.got {
		out[k] = append([]delivery(nil), v...)
	}
	return out
}

func (rc *receiver) duplicates() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, c := range rc.seen {
		n += c - 1
	}
	return n
}

// --- the load -----------------------------------------------------------------------------

type ack struct {
	conversation, message int64
	at                    time.Time
}

type load struct {
	base string
	rate float64
	mu   sync.Mutex
	acks []ack
	seq  atomic.Int64
}

func (l *load) acked() []ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ack(nil), l.acks...)
}

// run posts a mix: new customers, returning customers, and bursts of three.
func (l *load) run(ctx context.Context) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / l.rate))
	defer tick.Stop()
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		customer := fmt.Sprintf("c%d", i)
		n := 1
		switch {
		case i%5 == 1 && i > 10:
			customer = fmt.Sprintf("c%d", i-10) // returning
		case i%7 == 3:
			n = 3 // a burst
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				l.post(ctx, client, customer, []string{"where is my order?", "how do I return a parcel?", "hello", "thanks"}[(i+j)%4])
			}
		}()
	}
}

// post sends one message, retrying as a channel would while Baton answers 5xx or nothing.
func (l *load) post(ctx context.Context, client *http.Client, customer, text string) {
	id := fmt.Sprintf("m%d", l.seq.Add(1))
	body, _ := json.Marshal(map[string]any{"sender": map[string]string{"id": customer}, "message": map[string]string{"id": id, "text": text}})
	for attempt := 0; attempt < 20 && ctx.Err() == nil; attempt++ {
		req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, l.base+"/v1/channels/webhook/messages", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(channel.SignatureHeader, channel.Sign(secret, body))
		resp, err := client.Do(req)
		if err == nil {
			var res baton.IngestResult
			json.NewDecoder(resp.Body).Decode(&res) //nolint:errcheck
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				l.mu.Lock()
				l.acks = append(l.acks, ack{conversation: res.ConversationID, message: res.MessageID, at: time.Now()})
				l.mu.Unlock()
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// --- faults -------------------------------------------------------------------------------

func runFaults(ctx context.Context, d time.Duration, p *processes, rd *redisServer, rc *receiver, log *slog.Logger) []string {
	var done []string
	at := func(frac float64) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Duration(float64(d) * frac)):
			return true
		}
	}
	step := func(name string, f func() error) {
		if err := f(); err != nil {
			log.Warn("soak fault", "fault", name, "err", err)
			name += " (failed: " + err.Error() + ")"
		}
		done = append(done, name)
	}
	// Each wait is relative to the previous step.
	const gap = 0.12
	if at(gap) {
		step("kill -9 work-1, restart", func() error { return p.kill9AndRestart("work-1") })
	}
	if at(gap) {
		step("restart redis with append-only persistence", func() error { return rd.restart(true) })
	}
	if at(gap) {
		rc.mode.Store(modeSlow)
		step("receiver slower than the send timeout", func() error { return nil })
	}
	if at(gap) {
		rc.mode.Store(modeFailing)
		step("receiver failing with 500", func() error { return nil })
	}
	if at(gap) {
		rc.mode.Store(modeOK)
		step("restart redis without persistence (every queued task lost)", func() error { return rd.restart(false) })
	}
	if at(gap) {
		step("kill -9 work-2, restart", func() error { return p.kill9AndRestart("work-2") })
	}
	return done
}

// --- processes ----------------------------------------------------------------------------

type processes struct {
	binary string
	env    []string
	dir    string
	mu     sync.Mutex
	cmds   map[string]*exec.Cmd
}

func (p *processes) start(name string) error {
	sub := strings.SplitN(name, "-", 2)[0]
	logf, err := os.OpenFile(filepath.Join(p.dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.binary, sub)
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start baton %s: %w", sub, err)
	}
	go func() { cmd.Wait(); logf.Close() }() //nolint:errcheck
	p.mu.Lock()
	if p.cmds == nil {
		p.cmds = map[string]*exec.Cmd{}
	}
	p.cmds[name] = cmd
	p.mu.Unlock()
	return nil
}

func (p *processes) kill9AndRestart(name string) error {
	p.mu.Lock()
	cmd := p.cmds[name]
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return errors.New("not running")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond) // the process is gone; Wait runs in its goroutine
	return p.start(name)
}

func (p *processes) stopAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cmd := range p.cmds {
		if cmd.Process != nil {
			cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, cmd := range p.cmds {
		for cmd.Process != nil && cmd.Process.Signal(syscall.Signal(0)) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if cmd.Process != nil {
			cmd.Process.Kill() //nolint:errcheck
		}
	}
}

// sampleRSS keeps the largest resident set (KiB) of any Baton process.
func (p *processes) sampleRSS(ctx context.Context, max *atomic.Uint64) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		for _, cmd := range p.cmds {
			if cmd.Process == nil {
				continue
			}
			if kb := rssKiB(cmd.Process.Pid); kb > max.Load() {
				max.Store(kb)
			}
		}
		p.mu.Unlock()
	}
}

func rssKiB(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseUint(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// --- the private Redis --------------------------------------------------------------------

type redisServer struct {
	port int
	dir  string
	cmd  *exec.Cmd
}

func startRedis(ctx context.Context, dir string) (*redisServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	r := &redisServer{port: n, dir: dir}
	return r, r.start(ctx)
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start(ctx context.Context) error {
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server (is it installed?): %w", err)
	}
	go r.cmd.Wait() //nolint:errcheck
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("private redis-server did not start")
}

func (r *redisServer) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		for i := 0; i < 100 && r.cmd.Process.Signal(syscall.Signal(0)) == nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		r.cmd.Process.Kill() //nolint:errcheck
	}
}

// restart stops the server for a second; without keep, its data is gone when it returns
// (as with a server that runs without persistence).
func (r *redisServer) restart(keep bool) error {
	r.stop()
	if !keep {
		if err := os.RemoveAll(filepath.Join(r.dir, "appendonlydir")); err != nil {
			return err
		}
		os.Remove(filepath.Join(r.dir, "dump.rdb"))
	}
	time.Sleep(time.Second) // an outage
	return r.start(context.Background())
}

// --- helpers ------------------------------------------------------------------------------

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("baton serve not ready at %s after %s", url, timeout)
}

// handedOff returns the customer messages a turn processed in conversations that are now with
// people (queued or agent): the bot stays quiet there by design.
func handedOff(ctx context.Context, dbURL string) (map[int64]bool, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("connect to the soak database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.author = 'customer' AND m.processed_at IS NOT NULL AND c.status IN ('queued', 'agent')`)
	if err != nil {
		return nil, fmt.Errorf("list handed-off messages: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list handed-off messages: %w", err)
	}
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// storedNotReceived counts the public replies stored for a customer that the receiver never
// took: a reply Baton wrote and then lost.
func storedNotReceived(ctx context.Context, dbURL string, got map[int64][]delivery) (int, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, fmt.Errorf("connect to the soak database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT id FROM messages WHERE author IN ('bot', 'agent') AND visibility = 'public' AND delivery_state IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("list stored replies: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("list stored replies: %w", err)
	}
	received := map[int64]bool{}
	for _, ds := range got {
		for _, d := range ds {
			received[d.messageID] = true
		}
	}
	n := 0
	for _, id := range ids {
		if !received[id] {
			n++
		}
	}
	return n, nil
}
