package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// NewToken returns a random API token ("btn_" + 43 base64url characters) and its stored hash.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token = "btn_" + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is how tokens and session ids are stored: SHA-256 (they are random, so no salt is needed).
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

const userColumns = `u.id, u.email, u.name, u.role, u.status, u.capacity, u.created_at,
	coalesce((SELECT array_agg(team_id ORDER BY team_id) FROM team_members m WHERE m.user_id = u.id), '{}'),
	EXISTS (SELECT FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = u.id AND t.is_default)`

func scanUser(r pgx.Row) (baton.User, error) {
	var u baton.User
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Status, &u.Capacity, &u.CreatedAt, &u.TeamIDs, &u.InDefaultTeam)
	return u, err
}

// CreateUser creates a user with a first API token and returns both. actorID 0 means the CLI.
func (db *DB) CreateUser(ctx context.Context, actorID int64, nu baton.NewUser) (baton.User, string, error) {
	nu.Email = strings.ToLower(strings.TrimSpace(nu.Email))
	if !strings.Contains(nu.Email, "@") {
		return baton.User{}, "", baton.Invalid("email %q is not an email address", nu.Email)
	}
	if !nu.Role.Valid() {
		return baton.User{}, "", baton.Invalid("role must be admin or agent, got %q", nu.Role)
	}
	if nu.Capacity == 0 {
		nu.Capacity = 5
	}
	if nu.Capacity < 0 || nu.Capacity > 100 {
		return baton.User{}, "", baton.Invalid("capacity must be 1..100")
	}
	for _, t := range nu.Teams {
		if err := validTeamName(t); err != nil {
			return baton.User{}, "", err
		}
	}
	now := db.Clock.Now()
	token, hash := NewToken()
	var u baton.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO users (email, name, role, capacity, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, nu.Email, nu.Name, nu.Role, nu.Capacity, now).Scan(&id)
		if isUniqueViolation(err, "") {
			return baton.Errorf(baton.ErrConflict, "conflict", "a user with email %s already exists", nu.Email)
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		for _, team := range nu.Teams {
			if err := joinTeam(ctx, tx, db, actorID, id, team, now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)`, id, hash, now); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
		if err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "create", "user", fmt.Sprint(id), nil, u)
	})
	if err != nil {
		return baton.User{}, "", err
	}
	return u, token, nil
}

func validTeamName(name string) error {
	if n := len(strings.TrimSpace(name)); n == 0 || n > 100 {
		return baton.Invalid("team name must be 1..100 characters")
	}
	return nil
}

// joinTeam adds a user to a team, creating (and auditing) the team if it is new.
func joinTeam(ctx context.Context, tx pgx.Tx, db *DB, actorID, userID int64, team string, now time.Time) error {
	team = strings.TrimSpace(team)
	if err := validTeamName(team); err != nil {
		return err
	}
	var teamID int64
	var created bool
	err := tx.QueryRow(ctx, `INSERT INTO teams (name, created_at) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id, xmax = 0`, team, now).Scan(&teamID, &created)
	if err != nil {
		return fmt.Errorf("upsert team %s: %w", team, err)
	}
	if created {
		if err := Audit(ctx, tx, db, actorID, "create", "team", fmt.Sprint(teamID), nil, map[string]any{"id": teamID, "name": team}); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, teamID, userID); err != nil {
		return fmt.Errorf("join team %s: %w", team, err)
	}
	return nil
}

// IssueToken adds a new API token for the user with this email.
func (db *DB) IssueToken(ctx context.Context, email string) (string, error) {
	token, hash := NewToken()
	tag, err := db.Pool.Exec(ctx, `INSERT INTO api_tokens (user_id, token_hash, created_at)
		SELECT id, $2, $3 FROM users WHERE email = $1`, strings.ToLower(email), hash, db.Clock.Now())
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return "", baton.Errorf(baton.ErrNotFound, "not_found", "no user with email %s", email)
	}
	return token, nil
}

// RevokeTokens revokes every token and session of the user with this email.
func (db *DB) RevokeTokens(ctx context.Context, actorID int64, email string) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, strings.ToLower(email)).Scan(&id); err != nil {
			return notFound(err, "user "+email)
		}
		tag, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, id, db.Clock.Now())
		if err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "revoke_tokens", "user", fmt.Sprint(id), nil, map[string]int64{"revoked": n})
	})
	return n, err
}

// UserByToken returns the active user holding a non-revoked token.
func (db *DB) UserByToken(ctx context.Context, token string) (baton.User, error) {
	u, err := scanUser(db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.status = 'active'`, HashToken(token)))
	if errors.Is(err, pgx.ErrNoRows) {
		return baton.User{}, baton.Errorf(baton.ErrUnauthorized, "unauthorized", "invalid or revoked token")
	}
	return u, err
}

// CreateSession exchanges a valid token for a browser session; it returns the session id and CSRF token.
func (db *DB) CreateSession(ctx context.Context, userID int64, ttl time.Duration) (sid, csrf string, expires time.Time, err error) {
	sid, sidHash := NewToken()
	csrf, _ = NewToken()
	now := db.Clock.Now()
	expires = now.Add(ttl)
	_, err = db.Pool.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		sidHash, userID, csrf, now, expires)
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("create session: %w", err)
	}
	return sid, csrf, expires, nil
}

// UserBySession returns the user of a live session and the session's CSRF token.
func (db *DB) UserBySession(ctx context.Context, sid string) (baton.User, string, error) {
	var csrf string
	var u baton.User
	err := db.Pool.QueryRow(ctx, `SELECT `+userColumns+`, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.status = 'active'`, HashToken(sid), db.Clock.Now()).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Status, &u.Capacity, &u.CreatedAt, &u.TeamIDs, &u.InDefaultTeam, &csrf)
	if errors.Is(err, pgx.ErrNoRows) {
		return baton.User{}, "", baton.Errorf(baton.ErrUnauthorized, "unauthorized", "session expired or unknown")
	}
	return u, csrf, err
}

// DeleteSession logs a session out.
func (db *DB) DeleteSession(ctx context.Context, sid string) error {
	_, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, HashToken(sid))
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// ListUsers lists users, admins and agents alike.
func (db *DB) ListUsers(ctx context.Context) ([]baton.User, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.User, error) { return scanUser(r) })
}

// UpdateUser applies an update and records it in the audit log.
func (db *DB) UpdateUser(ctx context.Context, actorID, id int64, up baton.UserUpdate) (baton.User, error) {
	if up.Role != nil && !up.Role.Valid() {
		return baton.User{}, baton.Invalid("role must be admin or agent")
	}
	if up.Status != nil && *up.Status != "active" && *up.Status != "disabled" {
		return baton.User{}, baton.Invalid("status must be active or disabled")
	}
	if up.Capacity != nil && (*up.Capacity < 0 || *up.Capacity > 100) {
		return baton.User{}, baton.Invalid("capacity must be 0..100")
	}
	var after baton.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "user")
		}
		demoted := (up.Role != nil && *up.Role != baton.RoleAdmin) || (up.Status != nil && *up.Status == "disabled")
		if before.Role == baton.RoleAdmin && before.Status == "active" && demoted {
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND status = 'active' AND id <> $1`, id).Scan(&others); err != nil {
				return fmt.Errorf("count admins: %w", err)
			}
			if others == 0 {
				return baton.Errorf(baton.ErrConflict, "last_admin", "this is the last active admin; make another admin first")
			}
		}
		now := db.Clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE users SET role = coalesce($2, role), status = coalesce($3, status),
			capacity = coalesce($4, capacity), name = coalesce($5, name), updated_at = $6 WHERE id = $1`,
			id, up.Role, up.Status, up.Capacity, up.Name, now); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if up.Status != nil && *up.Status == "disabled" {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		if up.Teams != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM team_members WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("leave teams: %w", err)
			}
			for _, team := range *up.Teams {
				if err := joinTeam(ctx, tx, db, actorID, id, team, now); err != nil {
					return err
				}
			}
		}
		after, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
		if err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "update", "user", fmt.Sprint(id), before, after)
	})
	return after, err
}

// CreateTeam creates a team.
func (db *DB) CreateTeam(ctx context.Context, actorID int64, name string) (baton.Team, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return baton.Team{}, baton.Invalid("team name must be 1..100 characters")
	}
	var t baton.Team
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id, name, created_at`,
			name, db.Clock.Now()).Scan(&t.ID, &t.Name, &t.CreatedAt)
		if isUniqueViolation(err, "") {
			return baton.Errorf(baton.ErrConflict, "conflict", "team %s already exists", name)
		}
		if err != nil {
			return fmt.Errorf("insert team: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "create", "team", fmt.Sprint(t.ID), nil, t)
	})
	return t, err
}

// ListTeams lists teams.
func (db *DB) ListTeams(ctx context.Context) ([]baton.Team, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, name, created_at FROM teams ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (baton.Team, error) {
		var t baton.Team
		return t, r.Scan(&t.ID, &t.Name, &t.CreatedAt)
	})
}
