package web

import (
	"context"
	"github.com/batonhq/baton/pii"
	"io"
	"net/http"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

// Ingester stores inbound messages (see postgres.DB.Ingest).
type Ingester interface {
	Ingest(ctx context.Context, in baton.Inbound, window, idle time.Duration) (baton.IngestResult, error)
}

// MountChannels registers the inbound webhook of every channel adapter.
func (s *Server) MountChannels(reg channel.Registry, store Ingester, window, idle time.Duration) {
	var maxBody int64
	for _, a := range reg {
		maxBody = max(maxBody, a.MaxBody())
	}
	s.Handle("POST /v1/channels/{channel}/messages", Public, maxBody, func(w http.ResponseWriter, r *http.Request) error {
		a, err := reg.Get(r.PathValue("channel"))
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, a.MaxBody()+1))
		if err != nil {
			return err
		}
		if int64(len(body)) > a.MaxBody() {
			return baton.Errorf(baton.ErrTooLarge, "too_large", "request body exceeds %d bytes", a.MaxBody())
		}
		in, err := a.Parse(r.Header, body)
		if err != nil {
			return err
		}
		// After the signature check, so nobody spends another sender's allowance.
		if err := s.LimitSender(r.Context(), a.Name(), in.Sender.ID); err != nil {
			return err
		}
		// Card numbers are never stored in full: only their last four digits are kept.
		in.Text = pii.MaskCards(in.Text)
		res, err := store.Ingest(r.Context(), in, window, idle)
		if err != nil {
			return err
		}
		status := http.StatusAccepted
		if res.Duplicate {
			status = http.StatusOK
		}
		return WriteJSON(w, status, res)
	})
}
