package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton"
)

const benchAssignHelp = `Usage: baton bench assign --handoffs N --agents A --workers W [--json] [--database-url URL]

Loads N waiting handoffs (priorities 0–100, spread over teams of 50 agents) and A online agents
of capacity 5 into a scratch database on the server of BATON_DATABASE_URL, then runs W
concurrent assigners while simulated agents resolve what they get at once, until every handoff
was assigned. A decision is one committed assignment transaction, timed from begin to commit.
over_capacity counts agents found holding more conversations than their capacity, by SQL over
the conversations in consistent snapshots taken every 20 ms during the run and once after it;
double_assigned counts handoffs assigned more than once, by SQL afterwards.
`

// AssignReport is the result of baton bench assign.
type AssignReport struct {
	Handoffs       int     `json:"handoffs"`
	Agents         int     `json:"agents"`
	Teams          int     `json:"teams"`
	Workers        int     `json:"workers"`
	Decisions      int     `json:"decisions"`
	P50ms          float64 `json:"p50_ms"`
	P99ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	Seconds        float64 `json:"seconds"`
	OverCapacity   int     `json:"over_capacity"`
	DoubleAssigned int     `json:"double_assigned"`
}

func benchAssign(ctx context.Context, args []string, stdout io.Writer) error {
	var handoffs, agents, workers int
	var asJSON bool
	var flags *flag.FlagSet
	cfg, _, err := loadConfig("bench assign", args, stdout, func(fs *flag.FlagSet) {
		flags = fs
		fs.IntVar(&handoffs, "handoffs", 10000, "waiting handoffs to assign")
		fs.IntVar(&agents, "agents", 200, "online agents (capacity 5 each)")
		fs.IntVar(&workers, "workers", 4, "concurrent assigners")
		fs.BoolVar(&asJSON, "json", false, "print a JSON report")
	})
	if err != nil {
		return err
	}
	if handoffs < 1 || handoffs > 1_000_000 || agents < 1 || agents > 10_000 || workers < 1 || workers > 64 {
		fmt.Fprint(stdout, benchAssignHelp)
		return usageError{"baton bench assign: --handoffs must be 1..1000000, --agents 1..10000, --workers 1..64"}
	}
	sdb, err := openScratchDB(ctx, cfg.DatabaseURL, givenDatabase(flags, cfg.DatabaseURL))
	if err != nil {
		return err
	}
	defer sdb.Close()
	db := sdb.DB
	rep := AssignReport{Handoffs: handoffs, Agents: agents, Workers: workers, Teams: max(1, agents/50)}
	teams, err := loadAssignBench(ctx, db.Pool, rep)
	if err != nil {
		return fmt.Errorf("load the benchmark: %w", err)
	}
	if !asJSON {
		fmt.Fprintf(stdout, "loaded %d handoffs, %d agents in %d teams; assigning with %d workers…\n", handoffs, agents, len(teams), workers)
	}

	runCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var assigned atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	done := func() bool { return assigned.Load() >= int64(handoffs) || runCtx.Err() != nil }
	start := time.Now()
	var wg sync.WaitGroup
	// Agents keep their heartbeat while the benchmark runs.
	wg.Go(func() {
		for !done() {
			if _, err := db.Pool.Exec(runCtx, `UPDATE users SET presence_at = $1 WHERE presence = 'online'`, db.Clock.Now()); err != nil && runCtx.Err() == nil {
				fail(fmt.Errorf("heartbeat: %w", err))
				return
			}
			select {
			case <-runCtx.Done():
			case <-time.After(20 * time.Second):
			}
		}
	})
	// Simulated agents resolve what they were given at once, through the lifecycle.
	for r := range 2 {
		wg.Go(func() {
			for !done() {
				rows, err := db.Pool.Query(runCtx, `SELECT id FROM conversations WHERE status = 'agent' AND id % 2 = $1 LIMIT 100`, r)
				if err != nil {
					if runCtx.Err() == nil {
						fail(fmt.Errorf("list assigned: %w", err))
					}
					return
				}
				var ids []int64
				for rows.Next() {
					var id int64
					if rows.Scan(&id) == nil {
						ids = append(ids, id)
					}
				}
				rows.Close()
				for _, id := range ids {
					if _, err := db.ResolveConversation(runCtx, 0, id, false); err != nil && !errors.Is(err, baton.ErrConflict) {
						if runCtx.Err() == nil {
							fail(fmt.Errorf("resolve: %w", err))
						}
						return
					}
				}
				if len(ids) == 0 {
					time.Sleep(time.Millisecond) // pacing, not synchronisation: nothing to resolve yet
				}
			}
		})
	}
	// Capacity is watched from outside: consistent snapshots of who holds what, taken all along.
	// (Timestamps cannot order an assignment after the resolve that freed its slot: each is
	// taken before its statement waits for the agent's row.)
	var overSeen atomic.Int64
	wg.Go(func() {
		for !done() {
			var n int64
			err := db.Pool.QueryRow(runCtx, overCapacitySQL).Scan(&n)
			if err != nil {
				if runCtx.Err() == nil {
					fail(fmt.Errorf("watch capacity: %w", err))
				}
				return
			}
			overSeen.Add(n)
			time.Sleep(20 * time.Millisecond) // a sampling period, not synchronisation
		}
	})
	for w := range workers {
		wg.Go(func() {
			var mine []time.Duration
			defer func() {
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
			for i := w; !done(); {
				progress := false
				for range teams {
					team := teams[i%len(teams)]
					i++
					t := time.Now()
					_, ok, err := db.AssignNext(runCtx, team)
					if err != nil {
						if runCtx.Err() == nil {
							fail(err)
						}
						return
					}
					if ok {
						mine = append(mine, time.Since(t))
						assigned.Add(1)
						progress = true
					}
				}
				if !progress {
					time.Sleep(time.Millisecond) // every agent is full: wait for the resolvers
				}
			}
		})
	}
	wg.Wait()
	rep.Seconds = time.Since(start).Seconds()
	if firstErr != nil {
		return firstErr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if n := assigned.Load(); n < int64(handoffs) {
		return fmt.Errorf("bench assign: only %d of %d handoffs assigned before the time limit", n, handoffs)
	}
	slices.Sort(lat)
	rep.Decisions = len(lat)
	rep.P50ms, rep.P99ms, rep.MaxMs = ms(pct(lat, 0.50)), ms(pct(lat, 0.99)), ms(lat[len(lat)-1])
	var final int64
	if err := db.Pool.QueryRow(ctx, overCapacitySQL).Scan(&final); err != nil {
		return fmt.Errorf("count over capacity: %w", err)
	}
	rep.OverCapacity = int(overSeen.Load() + final)
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT handoff_id FROM assignments GROUP BY handoff_id HAVING count(*) > 1) d`).
		Scan(&rep.DoubleAssigned); err != nil {
		return fmt.Errorf("count double assignments: %w", err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "decisions %d in %.1fs; p50 %.2f ms, p99 %.2f ms, max %.2f ms; over capacity %d; double-assigned %d\n",
		rep.Decisions, rep.Seconds, rep.P50ms, rep.P99ms, rep.MaxMs, rep.OverCapacity, rep.DoubleAssigned)
	return nil
}

// overCapacitySQL counts agents holding more active conversations than their capacity, from
// the conversations themselves (not the load counter under test).
const overCapacitySQL = `SELECT count(*) FROM users u WHERE u.capacity < (SELECT count(*) FROM conversations c
	WHERE c.assigned_user_id = u.id AND c.status = 'agent' AND c.inactive_since IS NULL)`

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// loadAssignBench writes teams, online agents and waiting handoffs in a few set-based
// statements; it returns the team ids (the default team first).
func loadAssignBench(ctx context.Context, pool *pgxpool.Pool, rep AssignReport) ([]int64, error) {
	now := time.Now()
	if _, err := pool.Exec(ctx, `INSERT INTO teams (name, created_at) SELECT 'bench-' || g, $2 FROM generate_series(2, $1) g`,
		rep.Teams, now); err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	rows, err := pool.Query(ctx, `SELECT id FROM teams ORDER BY is_default DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	teams, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	teams = teams[:rep.Teams]
	steps := []struct {
		what, sql string
		args      []any
	}{
		{"agents", `WITH u AS (INSERT INTO users (email, role, capacity, presence, presence_at, created_at, updated_at)
				SELECT 'agent' || g || '@bench.invalid', 'agent', 5, 'online', $2, $2, $2 FROM generate_series(1, $1) g RETURNING id)
			INSERT INTO team_members (team_id, user_id) SELECT ($3::bigint[])[(u.id % $4) + 1], u.id FROM u`,
			[]any{rep.Agents, now, teams, len(teams)}},
		{"handoffs", `WITH cu AS (INSERT INTO customers (channel, external_id, created_at, updated_at)
				SELECT 'webhook', 'bench-' || g, $2, $2 FROM generate_series(1, $1) g RETURNING id),
			c AS (INSERT INTO conversations (customer_id, channel, status, created_at, updated_at)
				SELECT id, 'webhook', 'queued', $2, $2 FROM cu RETURNING id),
			e AS (INSERT INTO episodes (conversation_id, number, opened_at) SELECT id, 1, $2 FROM c)
			INSERT INTO handoffs (conversation_id, episode, reason, team_id, priority, created_at)
			SELECT id, 1, 'customer_request', ($3::bigint[])[(id % $4) + 1], (random() * 100)::int,
				$2 - random() * interval '1 hour' FROM c`,
			[]any{rep.Handoffs, now, teams, len(teams)}},
		{"routing", `UPDATE conversations c SET team_id = h.team_id FROM handoffs h WHERE h.conversation_id = c.id`, nil},
		{"statistics", `ANALYZE`, nil},
	}
	for _, st := range steps {
		if _, err := pool.Exec(ctx, st.sql, st.args...); err != nil {
			return nil, fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return teams, nil
}
