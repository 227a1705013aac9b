package baton

import "time"

// Role is what a user may do.
type Role string

const (
	RoleAdmin Role = "admin" // edits knowledge, intents, prompts, users; sees everything
	RoleAgent Role = "agent" // works conversations of their teams
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleAgent }

// User is an admin or an agent.
type User struct {
	ID       int64   `json:"id"`
	Email    string  `json:"email"`
	Name     string  `json:"name"`
	Role     Role    `json:"role"`
	Status   string  `json:"status"` // active | disabled
	Capacity int     `json:"capacity"`
	TeamIDs  []int64 `json:"team_ids"`
	// InDefaultTeam is true for members of the default team, who see conversations without a team.
	InDefaultTeam bool      `json:"in_default_team"`
	CreatedAt     time.Time `json:"created_at"`
}

// Team groups agents; conversations and intents can belong to one.
type Team struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// CanSeeTeam reports whether u may see a resource owned by team. A resource without a team
// (nil) is the default team's until routing gives it one.
func (u *User) CanSeeTeam(team *int64) bool {
	if u.Role == RoleAdmin {
		return true
	}
	if team == nil {
		return u.InDefaultTeam
	}
	for _, id := range u.TeamIDs {
		if id == *team {
			return true
		}
	}
	return false
}

// NewUser is what creating a user needs.
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	Capacity int
	Teams    []string // team names; created if missing
}

// UserUpdate changes some of a user's fields; nil fields stay.
type UserUpdate struct {
	Role     *Role     `json:"role"`
	Status   *string   `json:"status"`
	Capacity *int      `json:"capacity"`
	Name     *string   `json:"name"`
	Teams    *[]string `json:"teams"` // replaces membership
}
