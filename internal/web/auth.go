package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/batonhq/baton"
)

const (
	sessionCookie = "baton_session"
	csrfHeader    = "X-CSRF-Token"
)

type userKey struct{}

type csrfKey struct{}

func withUser(ctx context.Context, u baton.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the authenticated user of a request.
func UserFrom(ctx context.Context) (baton.User, bool) {
	u, ok := ctx.Value(userKey{}).(baton.User)
	return u, ok
}

// authorize is the one place where roles are checked. Bearer tokens need no CSRF token;
// cookie sessions must send the session's CSRF token on every write.
func (s *Server) authorize(r *http.Request, access Access) (context.Context, error) {
	if access == Public {
		return r.Context(), nil
	}
	ctx := r.Context()
	var u baton.User
	var err error
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, baton.Errorf(baton.ErrUnauthorized, "unauthorized", "Authorization must be a Bearer token")
		}
		if u, err = s.auth.UserByToken(ctx, strings.TrimSpace(token)); err != nil {
			return nil, err
		}
	} else if c, cerr := r.Cookie(sessionCookie); cerr == nil {
		var csrf string
		if u, csrf, err = s.auth.UserBySession(ctx, c.Value); err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, csrfKey{}, csrf)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(csrfHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(csrf)) != 1 {
				return nil, baton.Errorf(baton.ErrForbidden, "csrf", "missing or wrong %s header", csrfHeader)
			}
		}
	} else {
		return nil, baton.Errorf(baton.ErrUnauthorized, "unauthorized", "authentication required")
	}
	if access == Admin && u.Role != baton.RoleAdmin {
		return nil, baton.Errorf(baton.ErrForbidden, "forbidden", "admin role required")
	}
	return withUser(ctx, u), nil
}

// createSession exchanges an API token for an HttpOnly session cookie and returns the CSRF token.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Token == "" {
		return baton.Invalid("token is required")
	}
	u, err := s.auth.UserByToken(r.Context(), in.Token)
	if err != nil {
		return err
	}
	sid, csrf, expires, err := s.auth.CreateSession(r.Context(), u.ID, s.sessionTTL)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sid, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure,
	})
	return WriteJSON(w, http.StatusCreated, map[string]any{"user": u, "csrf_token": csrf, "expires_at": expires})
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.auth.DeleteSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// me returns the calling user; a cookie session also gets its CSRF token back, so a reloaded
// browser page can keep writing.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	csrf, _ := r.Context().Value(csrfKey{}).(string)
	return WriteJSON(w, http.StatusOK, struct {
		baton.User
		CSRFToken string `json:"csrf_token,omitempty"`
	}{u, csrf})
}

// Actor returns the id of the calling user, for the audit log.
func Actor(r *http.Request) int64 {
	u, _ := UserFrom(r.Context())
	return u.ID
}

// TeamVisible hides another team's resource as 404, never 403, so existence does not leak.
func TeamVisible(r *http.Request, team *int64, what string) error {
	u, ok := UserFrom(r.Context())
	if !ok || !u.CanSeeTeam(team) {
		return baton.Errorf(baton.ErrNotFound, "not_found", "%s not found", what)
	}
	return nil
}

// checkMetricsToken requires the metrics bearer token. The token is not a user's: a scraper
// gets read access to metrics only. Hashes are compared so the time taken says nothing about
// the token's length.
func (s *Server) checkMetricsToken(r *http.Request) error {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		got, want := sha256.Sum256([]byte(strings.TrimSpace(token))), sha256.Sum256([]byte(s.metricsKey))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return nil
		}
	}
	return baton.Errorf(baton.ErrUnauthorized, "unauthorized", "metrics require the metrics bearer token")
}
