package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

// PresenceTimeout is how long an agent counts as online after their last heartbeat.
const PresenceTimeout = 2 * time.Minute

// Lock order for the paths below, so that none can deadlock another: the conversation row,
// then its open handoff, then the agent's user row. Auto-assignment takes its rows with SKIP
// LOCKED, so it never waits at all. Whoever adds load to an agent holds the agent's row lock
// while counting it; that is what keeps assignment under capacity with any number of workers.

// conv is a conversation's row as the agent paths lock and read it.
type conv struct {
	id       int64
	status   baton.ConversationStatus
	team     *int64
	assigned *int64
	episode  int
	optedOut bool
}

// lockConversation locks a conversation's row for a change of status or owner.
func lockConversation(ctx context.Context, tx pgx.Tx, id int64) (conv, error) {
	c := conv{id: id}
	err := tx.QueryRow(ctx, `SELECT c.status, c.team_id, c.assigned_user_id, c.episode, cu.opted_out_at IS NOT NULL
		FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1 FOR UPDATE OF c`, id).
		Scan(&c.status, &c.team, &c.assigned, &c.episode, &c.optedOut)
	return c, notFound(err, "conversation")
}

// openHandoff locks the conversation's open handoff; id 0 when there is none.
func openHandoff(ctx context.Context, tx pgx.Tx, convID int64) (id int64, team *int64, err error) {
	err = tx.QueryRow(ctx, `SELECT id, team_id FROM handoffs WHERE conversation_id = $1 AND resolved_at IS NULL
		ORDER BY id DESC LIMIT 1 FOR UPDATE`, convID).Scan(&id, &team)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("lock open handoff of conversation %d: %w", convID, err)
	}
	return id, team, nil
}

// ensureHandoff returns the conversation's open handoff, opening one (reason policy: people
// decided) when a conversation reaches people without the bot's handoff.
func (db *DB) ensureHandoff(ctx context.Context, tx pgx.Tx, c conv) (int64, *int64, error) {
	id, team, err := openHandoff(ctx, tx, c.id)
	if err != nil || id != 0 {
		return id, team, err
	}
	err = tx.QueryRow(ctx, `INSERT INTO handoffs (conversation_id, episode, reason, team_id, created_at)
		VALUES ($1, $2, 'policy', $3, $4) RETURNING id`, c.id, c.episode, c.team, db.Clock.Now()).Scan(&id)
	if err != nil {
		return 0, nil, fmt.Errorf("open handoff of conversation %d: %w", c.id, err)
	}
	return id, c.team, nil
}

// defaultTeam returns the id of the default team.
func defaultTeam(ctx context.Context, q pgx.Tx) (int64, error) {
	var id int64
	if err := q.QueryRow(ctx, `SELECT id FROM teams WHERE is_default`).Scan(&id); err != nil {
		return 0, fmt.Errorf("read default team: %w", err)
	}
	return id, nil
}

// EnsureDefaultTeam makes the team called name the default, creating it if needed (`baton
// migrate` runs it with BATON_DEFAULT_TEAM).
func (db *DB) EnsureDefaultTeam(ctx context.Context, name string) (baton.Team, error) {
	return SetDefaultTeam(ctx, db.Pool, name, db.Clock.Now())
}

// SetDefaultTeam is EnsureDefaultTeam on any connection (migrate has no pool).
func SetDefaultTeam(ctx context.Context, conn interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, name string, now time.Time) (baton.Team, error) {
	if err := validTeamName(name); err != nil {
		return baton.Team{}, err
	}
	name = strings.TrimSpace(name)
	var t baton.Team
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE teams SET is_default = false WHERE is_default AND name <> $1`, name); err != nil {
			return fmt.Errorf("unset default team: %w", err)
		}
		return tx.QueryRow(ctx, `INSERT INTO teams (name, created_at, is_default) VALUES ($1, $2, true)
			ON CONFLICT (name) DO UPDATE SET is_default = true RETURNING id, name, created_at`, name, now).
			Scan(&t.ID, &t.Name, &t.CreatedAt)
	})
	if err != nil {
		return t, fmt.Errorf("set default team %s: %w", name, err)
	}
	return t, nil
}

// transition checks a move against the lifecycle; a refused one is a conflict for the caller.
func transition(c conv, e baton.Event) (baton.ConversationStatus, error) {
	to, err := baton.Transition(c.status, e)
	if err != nil {
		return to, fmt.Errorf("conversation %d: %w", c.id, err)
	}
	return to, nil
}

// giveSQL hands conversation $1 (and its open handoff $2) to agent $3 of team $4, only if the
// conversation's status still allows the move ($7) and the agent has a free slot. The caller
// holds the agent's row lock, so the load read here is the agent's load.
const giveSQL = `WITH room AS (SELECT load < capacity AS ok FROM users WHERE id = $3),
	c AS (
		UPDATE conversations SET status = 'agent', assigned_user_id = $3, team_id = $4, inactive_since = NULL,
			bot_paused_until = 'infinity', pause_reason = 'agent', updated_at = $5
		WHERE id = $1 AND status = ANY($7) AND (SELECT ok FROM room) RETURNING id),
	h AS (
		UPDATE handoffs SET assigned_user_id = $3, assigned_at = $5, team_id = $4
		WHERE id = $2 AND EXISTS (SELECT FROM c) RETURNING id),
	l AS (UPDATE users SET load = load + 1 WHERE id = $3 AND EXISTS (SELECT FROM c)),
	ended AS (
		UPDATE assignments SET ended_at = $5 WHERE conversation_id = $1 AND ended_at IS NULL AND EXISTS (SELECT FROM c)),
	a AS (
		INSERT INTO assignments (conversation_id, handoff_id, user_id, kind, created_at)
		SELECT $1, $2, $3, $6, $5 FROM c)
	SELECT EXISTS (SELECT FROM c), coalesce((SELECT ok FROM room), false)`

// give runs giveSQL; it reports whether the agent had room.
func (db *DB) give(ctx context.Context, tx pgx.Tx, convID, handoffID, userID, teamID int64, kind string, from []baton.ConversationStatus) (bool, error) {
	var done, room bool
	err := tx.QueryRow(ctx, giveSQL, convID, handoffID, userID, teamID, db.Clock.Now(), kind, statusNames(from)).Scan(&done, &room)
	if err != nil {
		return false, fmt.Errorf("give conversation %d to user %d: %w", convID, userID, err)
	}
	if !room {
		return false, nil
	}
	if !done {
		return false, baton.Errorf(baton.ErrConflict, "conflict", "conversation %d is no longer waiting", convID)
	}
	return true, nil
}

func statusNames(ss []baton.ConversationStatus) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// lockAgent locks an active agent's row; it returns ErrNotFound for an unknown or disabled user.
func lockAgent(ctx context.Context, tx pgx.Tx, userID int64) error {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1 AND status = 'active' FOR UPDATE`, userID).Scan(&id)
	return notFound(err, "user")
}

// unload frees the slot an agent's conversation held. It is the last lock a path takes (after
// the conversation's and any agent it gives the conversation to), so it cannot close a cycle
// with assignment, which never waits.
func unload(ctx context.Context, tx pgx.Tx, userID *int64) error {
	if userID == nil {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE users SET load = greatest(load - 1, 0) WHERE id = $1`, *userID); err != nil {
		return fmt.Errorf("free a slot of user %d: %w", *userID, err)
	}
	return nil
}

// atCapacity is the refusal of a manual claim or transfer to an agent with no free slot.
func atCapacity(userID int64) error {
	return baton.Errorf(baton.ErrConflict, "at_capacity", "user %d has no free slot", userID)
}

// Claim gives a waiting conversation to the agent who asks. Claiming one's own conversation
// again is a no-op; one another agent holds, or an agent at capacity, is a conflict.
func (db *DB) Claim(ctx context.Context, userID, convID int64) (baton.Assignment, error) {
	a := baton.Assignment{ConversationID: convID, UserID: userID}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		c, err := lockConversation(ctx, tx, convID)
		if err != nil {
			return err
		}
		if c.status == baton.StatusAgent && c.assigned != nil {
			if *c.assigned == userID {
				a.HandoffID, _, err = openHandoff(ctx, tx, convID)
				a.TeamID = deref(c.team)
				return err
			}
			return baton.Errorf(baton.ErrConflict, "claimed", "another agent holds conversation %d", convID)
		}
		if _, err := transition(c, baton.EventClaim); err != nil {
			return err
		}
		hid, team, err := db.ensureHandoff(ctx, tx, c)
		if err != nil {
			return err
		}
		if a.TeamID, err = teamOf(ctx, tx, team, c.team); err != nil {
			return err
		}
		if err := lockAgent(ctx, tx, userID); err != nil {
			return err
		}
		a.HandoffID = hid
		ok, err := db.give(ctx, tx, convID, hid, userID, a.TeamID, "claim", baton.From(baton.EventClaim))
		if err != nil {
			return err
		}
		if !ok {
			return atCapacity(userID)
		}
		return Audit(ctx, tx, db, userID, "claim", "conversation", fmt.Sprint(convID), nil, nil)
	})
	if err != nil {
		return baton.Assignment{}, fmt.Errorf("claim conversation %d: %w", convID, err)
	}
	return a, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// teamOf is the team a handoff routes to: its own, else the conversation's, else the default.
func teamOf(ctx context.Context, tx pgx.Tx, handoffTeam, convTeam *int64) (int64, error) {
	if handoffTeam != nil {
		return *handoffTeam, nil
	}
	if convTeam != nil {
		return *convTeam, nil
	}
	return defaultTeam(ctx, tx)
}

// Transfer passes a conversation to one agent (who must have a free slot; the conversation
// stays with people) or to a team's queue (an agent's conversation goes back to waiting, with
// its original wait time).
func (db *DB) Transfer(ctx context.Context, actorID, convID int64, to baton.Transfer) error {
	if (to.UserID == 0) == (strings.TrimSpace(to.Team) == "") {
		return baton.Invalid("transfer needs exactly one of user_id and team")
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		c, err := lockConversation(ctx, tx, convID)
		if err != nil {
			return err
		}
		if c.status != baton.StatusQueued && c.status != baton.StatusAgent {
			return baton.Errorf(baton.ErrConflict, "conflict", "a %s conversation cannot be transferred", c.status)
		}
		hid, hteam, err := db.ensureHandoff(ctx, tx, c)
		if err != nil {
			return err
		}
		if to.UserID != 0 {
			return db.transferToAgent(ctx, tx, actorID, c, hid, hteam, to.UserID)
		}
		return db.transferToTeam(ctx, tx, actorID, c, hid, strings.TrimSpace(to.Team))
	})
	if err != nil {
		return fmt.Errorf("transfer conversation %d: %w", convID, err)
	}
	return nil
}

func (db *DB) transferToAgent(ctx context.Context, tx pgx.Tx, actorID int64, c conv, hid int64, hteam *int64, userID int64) error {
	if c.assigned != nil && *c.assigned == userID {
		return nil
	}
	from := []baton.ConversationStatus{baton.StatusAgent} // agent → agent: the owner changes, not the status
	if c.status == baton.StatusQueued {
		if _, err := transition(c, baton.EventAssign); err != nil {
			return err
		}
		from = baton.From(baton.EventAssign)
	}
	// The receiving agent's team, if the conversation's is not one of theirs.
	team, err := teamOf(ctx, tx, hteam, c.team)
	if err != nil {
		return err
	}
	var member bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM team_members WHERE user_id = $1 AND team_id = $2)`, userID, team).Scan(&member); err != nil {
		return fmt.Errorf("check team membership: %w", err)
	}
	if !member {
		if err := tx.QueryRow(ctx, `SELECT coalesce(min(team_id), $2) FROM team_members WHERE user_id = $1`, userID, team).Scan(&team); err != nil {
			return fmt.Errorf("find the agent's team: %w", err)
		}
	}
	if c.assigned != nil {
		// Both agents' rows, in id order: two transfers the opposite way cannot deadlock.
		if _, err := tx.Exec(ctx, `SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE`, []int64{*c.assigned, userID}); err != nil {
			return fmt.Errorf("lock agents: %w", err)
		}
	}
	if err := lockAgent(ctx, tx, userID); err != nil {
		return err
	}
	ok, err := db.give(ctx, tx, c.id, hid, userID, team, "transfer", from)
	if err != nil {
		return err
	}
	if !ok {
		return atCapacity(userID)
	}
	if err := unload(ctx, tx, c.assigned); err != nil {
		return err
	}
	return Audit(ctx, tx, db, actorID, "transfer", "conversation", fmt.Sprint(c.id), nil, map[string]int64{"user_id": userID})
}

func (db *DB) transferToTeam(ctx context.Context, tx pgx.Tx, actorID int64, c conv, hid int64, name string) error {
	var team int64
	if err := tx.QueryRow(ctx, `SELECT id FROM teams WHERE name = $1`, name).Scan(&team); err != nil {
		return notFound(err, "team "+name)
	}
	status := c.status
	if c.status == baton.StatusAgent {
		var err error
		if status, err = transition(c, baton.EventTransferTeam); err != nil {
			return err
		}
	}
	now := db.Clock.Now()
	if _, err := tx.Exec(ctx, `UPDATE conversations SET status = $2, team_id = $3, assigned_user_id = NULL,
			bot_paused_until = NULL, pause_reason = NULL, inactive_since = NULL, updated_at = $4 WHERE id = $1`,
		c.id, string(status), team, now); err != nil {
		return fmt.Errorf("move conversation to team %s: %w", name, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE handoffs SET team_id = $2, assigned_user_id = NULL, assigned_at = NULL WHERE id = $1`, hid, team); err != nil {
		return fmt.Errorf("move handoff to team %s: %w", name, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE assignments SET ended_at = $2 WHERE conversation_id = $1 AND ended_at IS NULL`, c.id, now); err != nil {
		return fmt.Errorf("end assignment: %w", err)
	}
	if err := unload(ctx, tx, c.assigned); err != nil {
		return err
	}
	return Audit(ctx, tx, db, actorID, "transfer", "conversation", fmt.Sprint(c.id), nil, map[string]string{"team": name})
}

// releaseSQL ends people's hold on conversation $1 (its open handoff, assignment and the bot's
// pause for an agent, the slot of its agent $4) as it moves to status $2.
const releaseSQL = `WITH c AS (
		UPDATE conversations SET status = $2, assigned_user_id = NULL, inactive_since = NULL, updated_at = $3,
			bot_paused_until = CASE WHEN pause_reason = 'agent' THEN NULL ELSE bot_paused_until END,
			pause_reason = CASE WHEN pause_reason = 'agent' THEN NULL ELSE pause_reason END
		WHERE id = $1 RETURNING id),
	h AS (UPDATE handoffs SET resolved_at = $3 WHERE conversation_id = $1 AND resolved_at IS NULL),
	l AS (UPDATE users SET load = greatest(load - 1, 0) WHERE id = $4),
	a AS (UPDATE assignments SET ended_at = $3 WHERE conversation_id = $1 AND ended_at IS NULL)
	SELECT FROM c`

// Resolve closes the current episode of a conversation explicitly (see ResolveConversation).
func (db *DB) Resolve(ctx context.Context, actorID, id int64) error {
	_, err := db.ResolveConversation(ctx, actorID, id, false)
	return err
}

// CSATQuestion is what the customer is asked when an agent resolves with a satisfaction survey.
const CSATQuestion = "Thanks for contacting us. How would you rate the help you got, from 1 (poor) to 5 (excellent)? Just reply with a number."

// ResolveConversation closes the current episode. With askCSAT (and a customer who has not
// opted out) it asks for a satisfaction score in the same transaction; a score within
// baton.CSATWindow is recorded without reopening. It returns the agent who held the
// conversation (0 if none), whose slot is now free.
func (db *DB) ResolveConversation(ctx context.Context, actorID, id int64, askCSAT bool) (int64, error) {
	var freed int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		c, err := lockConversation(ctx, tx, id)
		if err != nil {
			return err
		}
		to, err := transition(c, baton.EventResolve)
		if err != nil {
			return err
		}
		freed = deref(c.assigned)
		now := db.Clock.Now()
		if _, err := tx.Exec(ctx, releaseSQL, id, string(to), now, c.assigned); err != nil {
			return fmt.Errorf("resolve: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE episodes SET resolved_at = $3, resolution = 'explicit'
			WHERE conversation_id = $1 AND number = $2 AND resolved_at IS NULL`, id, c.episode, now); err != nil {
			return fmt.Errorf("resolve episode: %w", err)
		}
		if askCSAT && !c.optedOut {
			if _, err := db.postMessage(ctx, tx, c, baton.AgentMessage{ConversationID: id, Author: baton.AuthorSystem,
				Visibility: baton.Public, Text: CSATQuestion}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE episodes SET csat_asked_at = $3 WHERE conversation_id = $1 AND number = $2`,
				id, c.episode, now); err != nil {
				return fmt.Errorf("ask csat: %w", err)
			}
		}
		return Audit(ctx, tx, db, actorID, "resolve", "conversation", fmt.Sprint(id), nil, map[string]bool{"ask_csat": askCSAT})
	})
	if err != nil {
		return 0, fmt.Errorf("resolve conversation %d: %w", id, err)
	}
	return freed, nil
}

// ReturnToBot gives a waiting or agent-held conversation back to the bot; it returns the agent
// whose slot is now free (0 if none).
func (db *DB) ReturnToBot(ctx context.Context, actorID, id int64) (int64, error) {
	var freed int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		c, err := lockConversation(ctx, tx, id)
		if err != nil {
			return err
		}
		to, err := transition(c, baton.EventReturn)
		if err != nil {
			return err
		}
		freed = deref(c.assigned)
		if _, err := tx.Exec(ctx, releaseSQL, id, string(to), db.Clock.Now(), c.assigned); err != nil {
			return fmt.Errorf("return to bot: %w", err)
		}
		return Audit(ctx, tx, db, actorID, "return", "conversation", fmt.Sprint(id), nil, nil)
	})
	if err != nil {
		return 0, fmt.Errorf("return conversation %d to the bot: %w", id, err)
	}
	return freed, nil
}

// RecordCSAT stores a satisfaction score for the conversation's latest episode that asked for
// one within baton.CSATWindow; ErrConflict when none did.
func (db *DB) RecordCSAT(ctx context.Context, convID int64, score int) error {
	if score < 1 || score > 5 {
		return baton.Invalid("a satisfaction score is 1..5")
	}
	now := db.Clock.Now()
	tag, err := db.Pool.Exec(ctx, `UPDATE episodes SET csat_score = $2, csat_at = $3
		WHERE id = (SELECT id FROM episodes WHERE conversation_id = $1 AND csat_asked_at IS NOT NULL ORDER BY number DESC LIMIT 1)
		  AND csat_asked_at >= $4`, convID, score, now, now.Add(-baton.CSATWindow))
	if err != nil {
		return fmt.Errorf("record csat of conversation %d: %w", convID, err)
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ErrConflict, "conflict", "conversation %d has no open satisfaction question", convID)
	}
	return nil
}

// SetPresence records an agent's presence and heartbeat.
func (db *DB) SetPresence(ctx context.Context, userID int64, p baton.Presence) error {
	if !p.Valid() {
		return baton.Invalid("status must be online, away or offline")
	}
	tag, err := db.Pool.Exec(ctx, `UPDATE users SET presence = $2, presence_at = $3 WHERE id = $1`, userID, string(p), db.Clock.Now())
	if err != nil {
		return fmt.Errorf("set presence of user %d: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ErrNotFound, "not_found", "user not found")
	}
	return nil
}

// SweepPresence marks agents whose heartbeat is older than timeout offline.
func (db *DB) SweepPresence(ctx context.Context, timeout time.Duration) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE users SET presence = 'offline' WHERE presence <> 'offline'
		AND (presence_at IS NULL OR presence_at < $1)`, db.Clock.Now().Add(-timeout))
	if err != nil {
		return 0, fmt.Errorf("sweep presence: %w", err)
	}
	return tag.RowsAffected(), nil
}

// assignSQL is one assignment decision, one statement and so one implicit transaction: the
// team's most urgent waiting handoff (with its conversation) and its online agent with the most
// free slots, both taken with SKIP LOCKED so concurrent assigners take different rows and never
// wait. A row another assigner changed since this statement's snapshot is re-read when locked
// and its conditions checked again (READ COMMITTED), so a handoff is given once and an
// agent's load never passes their capacity.
const assignSQL = `WITH h AS (
		SELECT h.id, h.conversation_id FROM handoffs h JOIN conversations c ON c.id = h.conversation_id
		WHERE h.team_id = $1 AND h.resolved_at IS NULL AND h.assigned_user_id IS NULL AND c.status = 'queued'
		ORDER BY h.priority DESC, h.created_at, h.id
		LIMIT 1 FOR UPDATE OF h, c SKIP LOCKED),
	u AS (
		SELECT u.id FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = $1 AND u.status = 'active' AND u.presence = 'online' AND u.presence_at >= $2
		  AND u.load < u.capacity AND EXISTS (SELECT FROM h)
		ORDER BY u.capacity - u.load DESC, u.id
		LIMIT 1 FOR UPDATE OF u SKIP LOCKED),
	c AS (
		UPDATE conversations SET status = 'agent', assigned_user_id = (SELECT id FROM u), team_id = $1, inactive_since = NULL,
			bot_paused_until = 'infinity', pause_reason = 'agent', updated_at = $3
		WHERE id = (SELECT conversation_id FROM h) AND status = ANY($4) AND EXISTS (SELECT FROM u)
		RETURNING id, assigned_user_id),
	hu AS (
		UPDATE handoffs SET assigned_user_id = c.assigned_user_id, assigned_at = $3 FROM c WHERE handoffs.id = (SELECT id FROM h)),
	l AS (UPDATE users SET load = load + 1 FROM c WHERE users.id = c.assigned_user_id),
	a AS (
		INSERT INTO assignments (conversation_id, handoff_id, user_id, kind, created_at)
		SELECT c.id, (SELECT id FROM h), c.assigned_user_id, 'assign', $3 FROM c)
	SELECT c.id, (SELECT id FROM h), c.assigned_user_id FROM c`

// AssignNext makes one assignment decision for a team: the most urgent waiting handoff to an
// online agent of the team with a free slot. ok is false when nothing is waiting or nobody has
// room (or every candidate is being assigned by another worker right now).
func (db *DB) AssignNext(ctx context.Context, teamID int64) (a baton.Assignment, ok bool, err error) {
	now := db.Clock.Now()
	a.TeamID = teamID
	err = db.Pool.QueryRow(ctx, assignSQL, teamID, now.Add(-PresenceTimeout), now, statusNames(baton.From(baton.EventAssign))).
		Scan(&a.ConversationID, &a.HandoffID, &a.UserID)
	if errors.Is(err, pgx.ErrNoRows) {
		return baton.Assignment{}, false, nil
	}
	if err != nil {
		return baton.Assignment{}, false, fmt.Errorf("assign in team %d: %w", teamID, err)
	}
	return a, true, nil
}

// RouteWaiting gives waiting handoffs without a team their conversation's team, else the
// default team, so the queue of every team is an index scan.
func (db *DB) RouteWaiting(ctx context.Context) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `WITH d AS (SELECT id FROM teams WHERE is_default),
		h AS (UPDATE handoffs h SET team_id = coalesce(c.team_id, (SELECT id FROM d))
			FROM conversations c WHERE c.id = h.conversation_id AND h.team_id IS NULL AND h.resolved_at IS NULL
			RETURNING h.conversation_id, h.team_id)
		UPDATE conversations c SET team_id = h.team_id FROM h WHERE c.id = h.conversation_id AND c.team_id IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("route waiting handoffs: %w", err)
	}
	return tag.RowsAffected(), nil
}

// AssignBacklog assigns waiting handoffs of the given teams (all teams when nil) until nothing
// waits, nobody has room, or limit decisions were made.
func (db *DB) AssignBacklog(ctx context.Context, teams []int64, limit int) ([]baton.Assignment, error) {
	if _, err := db.RouteWaiting(ctx); err != nil {
		return nil, err
	}
	if teams == nil {
		rows, err := db.Pool.Query(ctx, `SELECT DISTINCT team_id FROM handoffs WHERE resolved_at IS NULL
			AND assigned_user_id IS NULL AND team_id IS NOT NULL ORDER BY team_id`)
		if err != nil {
			return nil, fmt.Errorf("list teams with a queue: %w", err)
		}
		if teams, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return nil, fmt.Errorf("list teams with a queue: %w", err)
		}
	}
	var out []baton.Assignment
	for _, team := range teams {
		for len(out) < limit {
			a, ok, err := db.AssignNext(ctx, team)
			if err != nil {
				return out, err
			}
			if !ok {
				break
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// TeamsOf lists the teams a user belongs to.
func (db *DB) TeamsOf(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list teams of user %d: %w", userID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// PostMessage stores a message people write into a conversation. A public one gets its
// delivery outbox row in the same transaction, as the bot's replies do, and is refused for a
// customer who opted out; an internal note is never put on the delivery path.
func (db *DB) PostMessage(ctx context.Context, m baton.AgentMessage) (baton.Message, error) {
	var out baton.Message
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		c, err := lockConversation(ctx, tx, m.ConversationID)
		if err != nil {
			return err
		}
		out, err = db.postMessage(ctx, tx, c, m)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("post message to conversation %d: %w", m.ConversationID, err)
	}
	return out, nil
}

func (db *DB) postMessage(ctx context.Context, tx pgx.Tx, c conv, m baton.AgentMessage) (baton.Message, error) {
	text := strings.TrimSpace(m.Text)
	switch {
	case text == "":
		return baton.Message{}, baton.Invalid("text is required")
	case len(text) > 4000:
		return baton.Message{}, baton.Invalid("text is longer than 4000 bytes")
	case m.Visibility != baton.Public && m.Visibility != baton.Internal:
		return baton.Message{}, baton.Invalid("visibility must be public or internal")
	case m.Author != baton.AuthorAgent && m.Author != baton.AuthorSystem:
		return baton.Message{}, baton.Invalid("author must be agent or system")
	case m.Visibility == baton.Public && c.optedOut:
		return baton.Message{}, baton.Errorf(baton.ErrConflict, "opted_out", "the customer opted out of messages")
	}
	now := db.Clock.Now()
	var state *string
	var due *time.Time // the delivery state machine claims only a reply that is due
	if m.Visibility == baton.Public {
		s := string(baton.DeliveryPending)
		state, due = &s, &now
	}
	var user *int64
	if m.UserID != 0 {
		user = &m.UserID
	}
	msg, err := scanMessage(tx.QueryRow(ctx, `INSERT INTO messages (conversation_id, episode, channel, author, author_user_id,
			visibility, body, received_at, sort_at, delivery_state, delivery_next_at)
		SELECT id, episode, channel, $2, $3, $4, $5, $6, $6, $7, $8 FROM conversations WHERE id = $1
		RETURNING `+messageColumns, c.id, string(m.Author), user, string(m.Visibility), text, now, state, due))
	if err != nil {
		return msg, fmt.Errorf("store message: %w", err)
	}
	if m.Visibility != baton.Public {
		return msg, nil
	}
	// Delivered by the relay at once: no turn worker is sending it inline. The task id is the
	// one bot replies get (TaskID), so a delivery is enqueued once whoever writes it.
	payload, _ := json.Marshal(baton.TaskPayload{ConversationID: c.id, MessageID: msg.ID})
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (kind, payload, task_id, run_at, created_at) VALUES ($1, $2, $3, $4, $4)`,
		baton.TaskDeliver, string(payload), TaskID(baton.TaskDeliver, msg.ID), now); err != nil {
		return msg, fmt.Errorf("queue delivery: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, OutboxChannel); err != nil {
		return msg, fmt.Errorf("wake relay: %w", err)
	}
	if m.Author == baton.AuthorAgent {
		if _, err := tx.Exec(ctx, `WITH c AS (UPDATE conversations SET last_reply_at = $2, inactive_since = NULL, updated_at = $2 WHERE id = $1)
			UPDATE handoffs SET first_response_at = $2 WHERE conversation_id = $1 AND resolved_at IS NULL AND first_response_at IS NULL`,
			c.id, now); err != nil {
			return msg, fmt.Errorf("note the agent's reply: %w", err)
		}
	}
	return msg, nil
}

// ClaimPeriod reports whether this process runs job name for the current period: the first
// caller after period has passed since the last run wins, every other caller of the period
// gets false.
func (db *DB) ClaimPeriod(ctx context.Context, name string, period time.Duration) (bool, error) {
	now := db.Clock.Now()
	var won bool
	err := db.Pool.QueryRow(ctx, `INSERT INTO periodic_jobs (name, ran_at) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET ran_at = excluded.ran_at WHERE periodic_jobs.ran_at <= $3
		RETURNING true`, name, now, now.Add(-period)).Scan(&won)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim period of %s: %w", name, err)
	}
	return won, nil
}

// AgentsPeriod is how often the agents job runs (across all worker processes together).
const AgentsPeriod = 5 * time.Second

// AgentsJob is the periodic agents job: agents whose heartbeat stopped go offline, waiting
// handoffs get a team, and the backlog goes to agents with free slots (conversations handed
// off while every agent was busy, or routed since).
func (db *DB) AgentsJob(ctx context.Context) error {
	won, err := db.ClaimPeriod(ctx, "agents", AgentsPeriod)
	if err != nil || !won {
		return err
	}
	if _, err := db.SweepPresence(ctx, PresenceTimeout); err != nil {
		return err
	}
	_, err = db.AssignBacklog(ctx, nil, 1000)
	return err
}
