package events

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/batonhq/baton/internal/postgres"
)

// Notifier sends NOTIFY payloads in one statement (postgres.DB).
type Notifier interface {
	Notify(ctx context.Context, channel string, payloads []string) error
}

// Publisher sends the events no trigger sees (processing start/end of a turn). Sends are
// grouped, so under load many share one asynchronous commit, and dropped past a bound (a
// processing indicator is advisory; the widget also ends it when the reply arrives or after
// a timeout). A start waits (briefly) for its NOTIFY to commit, so that it reaches streams
// before the turn's reply does; an end never waits.
type Publisher struct {
	DB  Notifier
	Log *slog.Logger

	mu      sync.Mutex
	pending []processing
	running bool
	dropped int
}

// maxPending bounds the events waiting for their NOTIFY.
const maxPending = 10_000

// startWait bounds how long a turn waits for its start event to be published.
const startWait = 250 * time.Millisecond

// Processing publishes that a turn of conversation convID started (start) or ended.
func (p *Publisher) Processing(convID int64, start bool) {
	if p == nil || convID <= 0 {
		return
	}
	e := processing{conv: convID, start: start}
	if start {
		e.done = make(chan struct{})
	}
	p.mu.Lock()
	if len(p.pending) >= maxPending {
		p.dropped++
		p.mu.Unlock()
		return
	}
	p.pending = append(p.pending, e)
	if !p.running {
		p.running = true
		go p.flush()
	}
	p.mu.Unlock()
	if start {
		select {
		case <-e.done:
		case <-time.After(startWait):
		}
	}
}

// Idle reports whether every event sent so far has been published (or failed to be).
func (p *Publisher) Idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.running
}

// Dropped counts the events dropped because too many were waiting.
func (p *Publisher) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

func (p *Publisher) flush() {
	for {
		p.mu.Lock()
		batch := p.pending
		p.pending = nil
		if len(batch) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		payloads := coalesce(batch)
		// NOTIFY bodies are limited to 8000 bytes each, not in number; one statement takes all.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := p.DB.Notify(ctx, postgres.EventsChannel, payloads)
		cancel()
		if err != nil && p.Log != nil {
			p.Log.Warn("publish events", "events", len(payloads), "err", fmt.Errorf("notify: %w", err))
		}
		for _, e := range batch {
			if e.done != nil {
				close(e.done)
			}
		}
	}
}

type processing struct {
	conv  int64
	start bool
	done  chan struct{} // closed once published (starts only)
}

// coalesce keeps each conversation's last state of a batch, in the order of those last
// states. PostgreSQL folds identical payloads of one transaction into one, which would turn
// start, end, start into start, end; only the latest state matters to an indicator.
func coalesce(batch []processing) []string {
	last := make(map[int64]int, len(batch))
	for i, e := range batch {
		last[e.conv] = i
	}
	out := make([]string, 0, len(last))
	for i, e := range batch {
		if last[e.conv] != i {
			continue
		}
		state := ProcessingEnd
		if e.start {
			state = ProcessingStart
		}
		out = append(out, `{"k":"processing","c":`+strconv.FormatInt(e.conv, 10)+`,"st":"`+state+`"}`)
	}
	return out
}
