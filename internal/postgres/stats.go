package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// WorkCap bounds what one agent message counts as work: the time since the conversation's
// previous message, at most this (reading and typing, not waiting).
const WorkCap = 5 * time.Minute

// statsQueries are the daily series; each returns (day, key, value) rows for days in [$1, $2).
var statsQueries = map[string]string{
	"conversations": `SELECT date_trunc('day', opened_at AT TIME ZONE 'UTC'), '', count(*)::float8 FROM episodes
		WHERE opened_at >= $1 AND opened_at < $2 GROUP BY 1`,
	"first_bot": `SELECT date_trunc('day', e.opened_at AT TIME ZONE 'UTC'), '', avg(extract(epoch FROM b.at - e.opened_at))::float8
		FROM episodes e CROSS JOIN LATERAL (SELECT min(m.received_at) AS at FROM messages m WHERE m.conversation_id = e.conversation_id
			AND m.episode = e.number AND m.author = 'bot' AND m.visibility = 'public') b
		WHERE e.opened_at >= $1 AND e.opened_at < $2 AND b.at IS NOT NULL GROUP BY 1`,
	"first_human": `SELECT date_trunc('day', created_at AT TIME ZONE 'UTC'), '', avg(extract(epoch FROM first_response_at - created_at))::float8
		FROM handoffs WHERE created_at >= $1 AND created_at < $2 AND first_response_at IS NOT NULL GROUP BY 1`,
	"bot_resolved": `SELECT date_trunc('day', e.resolved_at AT TIME ZONE 'UTC'), e.resolution, count(*)::float8 FROM episodes e
		WHERE e.resolved_at >= $1 AND e.resolved_at < $2
		  AND NOT EXISTS (SELECT FROM handoffs h WHERE h.conversation_id = e.conversation_id AND h.episode = e.number)
		  AND NOT EXISTS (SELECT FROM episodes n WHERE n.conversation_id = e.conversation_id AND n.number = e.number + 1
			AND n.opened_at < e.resolved_at + interval '24 hours')
		GROUP BY 1, 2`,
	"handoffs": `SELECT date_trunc('day', created_at AT TIME ZONE 'UTC'), reason, count(*)::float8 FROM handoffs
		WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2`,
	"queue_wait": `SELECT date_trunc('day', h.created_at AT TIME ZONE 'UTC'), '', avg(extract(epoch FROM a.at - h.created_at))::float8
		FROM handoffs h JOIN (SELECT handoff_id, min(created_at) AS at FROM assignments GROUP BY 1) a ON a.handoff_id = h.id
		WHERE h.created_at >= $1 AND h.created_at < $2 GROUP BY 1`,
	"agent_work": `SELECT date_trunc('day', at AT TIME ZONE 'UTC'), '', sum(least(coalesce(gap, $3), $3))::float8 FROM (
			SELECT m.received_at AS at, m.author, extract(epoch FROM m.received_at - lag(m.received_at) OVER w) AS gap
			FROM messages m WHERE m.conversation_id IN (SELECT DISTINCT conversation_id FROM messages
				WHERE author = 'agent' AND received_at >= $1 AND received_at < $2)
			WINDOW w AS (PARTITION BY m.conversation_id ORDER BY m.received_at, m.id)) x
		WHERE author = 'agent' AND at >= $1 AND at < $2 GROUP BY 1`,
	"resolution_elapsed": `SELECT date_trunc('day', resolved_at AT TIME ZONE 'UTC'), '', avg(extract(epoch FROM resolved_at - created_at))::float8
		FROM handoffs WHERE resolved_at >= $1 AND resolved_at < $2 GROUP BY 1`,
	// Each agent's running count of open assignments at every start and end (at an end, the count
	// just before it, so a conversation held since an earlier day counts); the day's peak per
	// agent, averaged over the agents with an assignment event that day.
	"concurrent": `SELECT d, '', avg(peak)::float8 FROM (
			SELECT date_trunc('day', t AT TIME ZONE 'UTC') AS d, user_id, max(open - least(delta, 0)) AS peak FROM (
				SELECT user_id, t, delta, sum(delta) OVER (PARTITION BY user_id ORDER BY t, delta ROWS UNBOUNDED PRECEDING) AS open FROM (
					SELECT user_id, created_at AS t, 1 AS delta FROM assignments WHERE created_at < $2
					UNION ALL SELECT user_id, ended_at, -1 FROM assignments WHERE ended_at < $2) ev) r
			WHERE t >= $1 GROUP BY 1, 2) p GROUP BY 1`,
	"csat": `SELECT date_trunc('day', e.csat_at AT TIME ZONE 'UTC'),
			CASE WHEN EXISTS (SELECT FROM handoffs h WHERE h.conversation_id = e.conversation_id AND h.episode = e.number)
				THEN 'human' ELSE 'bot' END, avg(e.csat_score)::float8
		FROM episodes e WHERE e.csat_at >= $1 AND e.csat_at < $2 AND e.csat_score IS NOT NULL GROUP BY 1, 2`,
}

// Stats returns the daily series of days [from, to) (UTC midnights), in one round trip.
func (db *DB) Stats(ctx context.Context, from, to time.Time) ([]baton.StatsDay, error) {
	var days []baton.StatsDay
	index := map[time.Time]int{}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		index[d] = len(days)
		days = append(days, baton.StatsDay{Day: d.Format(time.DateOnly), Handoffs: map[string]int{}})
	}
	b := &pgx.Batch{}
	for name, q := range statsQueries {
		args := []any{from, to}
		if name == "agent_work" {
			args = append(args, WorkCap.Seconds())
		}
		b.Queue(q, args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var day time.Time
				var key string
				var v float64
				if err := rows.Scan(&day, &key, &v); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				i, ok := index[time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)]
				if !ok {
					continue
				}
				setStat(&days[i], name, key, v)
			}
			return rows.Err()
		})
	}
	if err := db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("read stats: %w", err)
	}
	for i := range days {
		d := &days[i]
		if n := sumValues(d.Handoffs); d.Conversations > 0 {
			r := float64(n) / float64(d.Conversations)
			d.HandoffRate = &r
		}
	}
	return days, nil
}

func setStat(d *baton.StatsDay, name, key string, v float64) {
	p := &v
	switch name {
	case "conversations":
		d.Conversations = int(v)
	case "first_bot":
		d.FirstResponseBotSeconds = p
	case "first_human":
		d.FirstResponseHumanSeconds = p
	case "bot_resolved":
		if key == "explicit" {
			d.BotResolvedConfirmed = int(v)
		} else {
			d.BotResolvedAssumed = int(v)
		}
	case "handoffs":
		d.Handoffs[key] = int(v)
	case "queue_wait":
		d.QueueWaitSeconds = p
	case "agent_work":
		d.AgentWorkSeconds = v
	case "resolution_elapsed":
		d.ResolutionElapsedSeconds = p
	case "concurrent":
		d.ConcurrentPerAgent = p
	case "csat":
		if key == "human" {
			d.CSATHuman = p
		} else {
			d.CSATBot = p
		}
	}
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// QueueGauge reads the waiting queue: how many handoffs wait for a person, and how long the
// oldest has waited.
func (db *DB) QueueGauge(ctx context.Context) (depth int, oldest time.Duration, err error) {
	var since *time.Time
	err = db.Pool.QueryRow(ctx, `SELECT count(*), min(h.created_at) FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
		WHERE h.resolved_at IS NULL AND h.assigned_user_id IS NULL AND c.status = 'queued'`).Scan(&depth, &since)
	if err != nil {
		return 0, 0, fmt.Errorf("read queue gauge: %w", err)
	}
	if since != nil {
		oldest = max(0, db.Clock.Now().Sub(*since))
	}
	return depth, oldest, nil
}
