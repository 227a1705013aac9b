package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batonhq/baton"
)

// teamScopeSQL limits rows to the teams of the caller ($n = their team ids) unless $m (all
// teams, for admins); team is the SQL of the row's team, NULL meaning the default team's.
func teamScopeSQL(team string, all, teams int) string {
	return fmt.Sprintf(`($%d OR coalesce(%s, (SELECT id FROM teams WHERE is_default)) = ANY($%d))`, all, team, teams)
}

// AgentQueue lists conversations waiting for a person in the caller's teams (f.Teams, or every
// team with f.AllTeams), highest priority first, then longest waiting.
func (db *DB) AgentQueue(ctx context.Context, f baton.ConversationFilter) ([]baton.QueueItem, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	teams := f.Teams
	if teams == nil {
		teams = []int64{}
	}
	rows, err := db.Pool.Query(ctx, `SELECT c.id, h.id, h.priority, h.created_at, coalesce(t.name, ''), h.reason,
			coalesce(h.summary->>'issue', h.summary->>'summary', nullif(c.summary, ''), ''), h.sla_due_at, c.channel, cu.name
		FROM conversations c JOIN customers cu ON cu.id = c.customer_id
		CROSS JOIN LATERAL (SELECT * FROM handoffs WHERE conversation_id = c.id AND resolved_at IS NULL
			ORDER BY id DESC LIMIT 1) h
		LEFT JOIN teams t ON t.id = coalesce(h.team_id, c.team_id, (SELECT id FROM teams WHERE is_default))
		WHERE c.status = 'queued' AND `+teamScopeSQL("coalesce(h.team_id, c.team_id)", 1, 2)+`
		ORDER BY h.priority DESC, h.created_at, h.id LIMIT $3`, f.AllTeams, teams, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list agent queue: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.QueueItem, error) {
		var q baton.QueueItem
		return q, r.Scan(&q.ID, &q.HandoffID, &q.Priority, &q.WaitingSince, &q.Team, &q.Reason, &q.Summary, &q.SLADueAt,
			&q.Channel, &q.CustomerName)
	})
	if err != nil {
		return nil, fmt.Errorf("list agent queue: %w", err)
	}
	return items, nil
}

// HandoffOf returns the handoff package of a conversation's latest handoff, or nil if it was
// never handed off. Fields the package leaves out come from the conversation.
func (db *DB) HandoffOf(ctx context.Context, convID int64) (*baton.HandoffView, error) {
	var h baton.HandoffView
	var pkg, details []byte
	var sentiment float64
	err := db.Pool.QueryRow(ctx, `SELECT h.id, h.reason, h.summary, h.priority, coalesce(t.name, ''), h.sla_due_at, h.created_at,
			h.assigned_user_id, h.assigned_at, c.details, c.sentiment_trend, c.summary
		FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
		LEFT JOIN teams t ON t.id = coalesce(h.team_id, c.team_id)
		WHERE h.conversation_id = $1 ORDER BY h.id DESC LIMIT 1`, convID).
		Scan(&h.ID, &h.Reason, &pkg, &h.Priority, &h.Team, &h.SLADueAt, &h.WaitingSince, &h.AssignedUserID, &h.AssignedAt,
			&details, &sentiment, &h.Summary)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read handoff of conversation %d: %w", convID, err)
	}
	if err := json.Unmarshal(details, &h.Details); err != nil {
		return nil, fmt.Errorf("decode details: %w", err)
	}
	h.Sentiment = map[string]any{"trend": sentiment}
	if len(pkg) > 2 {
		h.Package = pkg
		applyPackage(&h, pkg)
	}
	return &h, nil
}

// applyPackage lifts the fields the API promises out of a stored handoff package. The package
// is the handoff package's JSON (issue, details, sentiment, next_step, …); unknown shapes are
// left to Package.
func applyPackage(h *baton.HandoffView, pkg []byte) {
	var p map[string]json.RawMessage
	if json.Unmarshal(pkg, &p) != nil {
		return
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			var s string
			if json.Unmarshal(p[k], &s) == nil && s != "" {
				return s
			}
		}
		return ""
	}
	if s := str("issue", "summary"); s != "" {
		h.Summary = s
	}
	h.NextStep = str("next_step", "nextStep")
	if raw, ok := p["sentiment"]; ok {
		var v any
		if json.Unmarshal(raw, &v) == nil && v != nil {
			h.Sentiment = v
		}
	}
	if raw, ok := p["details"]; ok {
		var m map[string]string
		if json.Unmarshal(raw, &m) == nil && len(m) > 0 {
			h.Details = m
			return
		}
		// A list of {"type"/"name", "value"} entries.
		var list []map[string]any
		if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
			m = map[string]string{}
			for _, d := range list {
				name, _ := d["type"].(string)
				if name == "" {
					name, _ = d["name"].(string)
				}
				if v, ok := d["value"].(string); ok && name != "" {
					m[name] = v
				}
			}
			if len(m) > 0 {
				h.Details = m
			}
		}
	}
}

// Team returns a team by id.
func (db *DB) Team(ctx context.Context, id int64) (baton.Team, error) {
	var t baton.Team
	err := db.Pool.QueryRow(ctx, `SELECT id, name, created_at FROM teams WHERE id = $1`, id).Scan(&t.ID, &t.Name, &t.CreatedAt)
	return t, notFound(err, "team")
}

// TeamHours returns a team's business-hours schedule as stored (handoff.Calendar's JSON); nil
// when the team has none (always open).
func (db *DB) TeamHours(ctx context.Context, teamID int64) (json.RawMessage, error) {
	var raw []byte
	err := db.Pool.QueryRow(ctx, `SELECT hours FROM teams WHERE id = $1`, teamID).Scan(&raw)
	if err != nil {
		return nil, notFound(err, "team")
	}
	return raw, nil
}

// SetTeamHours replaces a team's schedule; the caller has validated it. nil removes it.
func (db *DB) SetTeamHours(ctx context.Context, actorID, teamID int64, hours json.RawMessage) error {
	var h any
	if hours != nil {
		h = string(hours)
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var before []byte
		if err := tx.QueryRow(ctx, `SELECT hours FROM teams WHERE id = $1 FOR UPDATE`, teamID).Scan(&before); err != nil {
			return notFound(err, "team")
		}
		if _, err := tx.Exec(ctx, `UPDATE teams SET hours = $2::jsonb WHERE id = $1`, teamID, h); err != nil {
			return fmt.Errorf("set hours of team %d: %w", teamID, err)
		}
		return Audit(ctx, tx, db, actorID, "update_hours", "team", fmt.Sprint(teamID), json.RawMessage(before), hours)
	})
}

const cannedColumns = `id, shortcut, title, body, team_id, created_at, updated_at`

func scanCanned(r pgx.Row) (baton.CannedReply, error) {
	var c baton.CannedReply
	err := r.Scan(&c.ID, &c.Shortcut, &c.Title, &c.Body, &c.TeamID, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

func validCanned(c baton.CannedReply) error {
	switch {
	case !cannedShortcut(c.Shortcut):
		return baton.Invalid("shortcut must be 1..50 characters of a-z, 0-9, _ and -, starting with a letter or digit")
	case strings.TrimSpace(c.Body) == "" || len(c.Body) > 4000:
		return baton.Invalid("body must be 1..4000 bytes")
	case len(c.Title) > 200:
		return baton.Invalid("title must be at most 200 bytes")
	}
	return nil
}

func cannedShortcut(s string) bool {
	if len(s) == 0 || len(s) > 50 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '_' || r == '-')
		if !ok {
			return false
		}
	}
	return true
}

// CannedReplies lists canned replies usable by the given teams (all with allTeams).
func (db *DB) CannedReplies(ctx context.Context, teams []int64, allTeams bool) ([]baton.CannedReply, error) {
	if teams == nil {
		teams = []int64{}
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+cannedColumns+` FROM canned_replies
		WHERE $1 OR team_id IS NULL OR team_id = ANY($2) ORDER BY shortcut`, allTeams, teams)
	if err != nil {
		return nil, fmt.Errorf("list canned replies: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.CannedReply, error) { return scanCanned(r) })
}

// SaveCannedReply creates (ID 0) or replaces a canned reply.
func (db *DB) SaveCannedReply(ctx context.Context, actorID int64, c baton.CannedReply) (baton.CannedReply, error) {
	c.Shortcut = strings.TrimSpace(c.Shortcut)
	if err := validCanned(c); err != nil {
		return c, err
	}
	var out baton.CannedReply
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		now := db.Clock.Now()
		var err error
		if c.ID == 0 {
			out, err = scanCanned(tx.QueryRow(ctx, `INSERT INTO canned_replies (shortcut, title, body, team_id, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+cannedColumns, c.Shortcut, c.Title, c.Body, c.TeamID, now))
		} else {
			out, err = scanCanned(tx.QueryRow(ctx, `UPDATE canned_replies SET shortcut = $2, title = $3, body = $4, team_id = $5,
				updated_at = $6 WHERE id = $1 RETURNING `+cannedColumns, c.ID, c.Shortcut, c.Title, c.Body, c.TeamID, now))
			err = notFound(err, "canned reply")
		}
		if isUniqueViolation(err, "") {
			return baton.Errorf(baton.ErrConflict, "conflict", "a canned reply with shortcut %s exists", c.Shortcut)
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			return baton.Invalid("team %d does not exist", deref(c.TeamID))
		}
		if err != nil {
			return fmt.Errorf("save canned reply: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "save", "canned_reply", fmt.Sprint(out.ID), nil, out)
	})
	return out, err
}

// DeleteCannedReply deletes a canned reply.
func (db *DB) DeleteCannedReply(ctx context.Context, actorID, id int64) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanCanned(tx.QueryRow(ctx, `DELETE FROM canned_replies WHERE id = $1 RETURNING `+cannedColumns, id))
		if err != nil {
			return notFound(err, "canned reply")
		}
		return Audit(ctx, tx, db, actorID, "delete", "canned_reply", fmt.Sprint(id), before, nil)
	})
}

// ConversationTeam returns the team a conversation belongs to: its own, else its open
// handoff's; nil when neither has one (the default team's until routed).
func (db *DB) ConversationTeam(ctx context.Context, id int64) (*int64, error) {
	var team *int64
	err := db.Pool.QueryRow(ctx, `SELECT coalesce(c.team_id, (SELECT team_id FROM handoffs h WHERE h.conversation_id = c.id
		AND h.resolved_at IS NULL ORDER BY id DESC LIMIT 1)) FROM conversations c WHERE c.id = $1`, id).Scan(&team)
	return team, notFound(err, "conversation")
}
