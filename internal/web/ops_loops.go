package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/batonhq/baton"
)

// Loops lists the conversations the bot stopped answering as bot loops (see postgres.DB.ListLoops).
type Loops interface {
	ListLoops(ctx context.Context, limit int) ([]baton.LoopFlag, error)
}

// MountLoops registers GET /v1/admin/loops: conversations flagged as bot loops, latest first.
// They are muted; PUT /v1/conversations/{id}/mute with {"muted": false} lets the bot answer again.
func (s *Server) MountLoops(l Loops) {
	s.Handle("GET /v1/admin/loops", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		limit := 100
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return baton.Invalid("limit must be 1..1000")
			}
			limit = n
		}
		list, err := l.ListLoops(r.Context(), limit)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"loops": list})
	})
}
