package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton"
)

// handlingSamples is how many recently resolved handoffs an expected wait is based on.
const handlingSamples = 20

// Outlook reads, for the team a handoff goes to (team by name, else the default team), its
// hours, its queue, its online agents' free capacity and its recent handling times: one
// round trip, read before the turn commits.
func (db *DB) Outlook(ctx context.Context, team string) (baton.TeamOutlook, error) {
	var o baton.TeamOutlook
	var secs []float64
	err := db.Pool.QueryRow(ctx, `WITH t AS (
			SELECT id, name, hours FROM teams
			WHERE name = $1 OR is_default AND NOT EXISTS (SELECT 1 FROM teams WHERE name = $1)
			ORDER BY name = $1 DESC LIMIT 1)
		SELECT t.id, t.name, coalesce(t.hours, 'null'::jsonb),
			(SELECT count(*) FROM handoffs h WHERE h.resolved_at IS NULL AND h.assigned_user_id IS NULL
				AND (h.team_id = t.id OR h.team_id IS NULL AND (SELECT is_default FROM teams WHERE id = t.id))),
			(SELECT count(*) FROM users u JOIN team_members m ON m.user_id = u.id AND m.team_id = t.id WHERE u.presence = 'online'),
			(SELECT coalesce(sum(greatest(u.capacity - u.load, 0)), 0) FROM users u JOIN team_members m ON m.user_id = u.id AND m.team_id = t.id WHERE u.presence = 'online'),
			(SELECT coalesce(array_agg(s), '{}') FROM (SELECT extract(epoch FROM h.resolved_at - h.assigned_at)::float8 AS s FROM handoffs h
				WHERE h.team_id = t.id AND h.resolved_at IS NOT NULL AND h.assigned_at IS NOT NULL
				ORDER BY h.resolved_at DESC LIMIT `+fmt.Sprint(handlingSamples)+`) r)
		FROM t`, team).Scan(&o.TeamID, &o.Team, &o.Hours, &o.QueueAhead, &o.Online, &o.FreeSlots, &secs)
	if err != nil {
		return o, fmt.Errorf("read the outlook of team %q: %w", team, notFound(err, "team"))
	}
	if string(o.Hours) == "null" {
		o.Hours = nil
	}
	for _, s := range secs {
		o.Handling = append(o.Handling, time.Duration(s*float64(time.Second)))
	}
	return o, nil
}
