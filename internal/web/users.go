package web

import (
	"context"
	"net/http"

	"github.com/batonhq/baton"
)

// Users is the store behind the user and team admin API.
type Users interface {
	ListUsers(ctx context.Context) ([]baton.User, error)
	CreateUser(ctx context.Context, actorID int64, nu baton.NewUser) (baton.User, string, error)
	UpdateUser(ctx context.Context, actorID, id int64, up baton.UserUpdate) (baton.User, error)
	ListTeams(ctx context.Context) ([]baton.Team, error)
	CreateTeam(ctx context.Context, actorID int64, name string) (baton.Team, error)
}

// MountUsers registers the admin API for users and teams.
func (s *Server) MountUsers(store Users) {
	s.Handle("GET /v1/admin/users", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		us, err := store.ListUsers(r.Context())
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"users": us})
	})
	s.Handle("POST /v1/admin/users", Admin, 16<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Email    string     `json:"email"`
			Name     string     `json:"name"`
			Role     baton.Role `json:"role"`
			Capacity int        `json:"capacity"`
			Teams    []string   `json:"teams"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		u, token, err := store.CreateUser(r.Context(), Actor(r), baton.NewUser{
			Email: in.Email, Name: in.Name, Role: in.Role, Capacity: in.Capacity, Teams: in.Teams})
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, map[string]any{"user": u, "token": token})
	})
	s.Handle("PATCH /v1/admin/users/{id}", Admin, 16<<10, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		var up baton.UserUpdate
		if err := DecodeJSON(r, &up); err != nil {
			return err
		}
		u, err := store.UpdateUser(r.Context(), Actor(r), id, up)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, u)
	})
	s.Handle("GET /v1/admin/teams", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		ts, err := store.ListTeams(r.Context())
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"teams": ts})
	})
	s.Handle("POST /v1/admin/teams", Admin, 4<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Name string `json:"name"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		t, err := store.CreateTeam(r.Context(), Actor(r), in.Name)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, t)
	})
}
