package web

import (
	"context"
	"net/http"

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
		limit, err := limitParam(r, 100, 1000)
		if err != nil {
			return err
		}
		list, err := l.ListLoops(r.Context(), limit)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"loops": list})
	})
}
