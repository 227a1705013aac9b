package web

import (
	"context"
	"net/http"
	"time"

	"github.com/batonhq/baton"
)

// StatsStore reads the daily metric series of days [from, to) (UTC midnights).
type StatsStore interface {
	Stats(ctx context.Context, from, to time.Time) ([]baton.StatsDay, error)
}

// maxStatsDays bounds one request's range.
const maxStatsDays = 366

// MountStats registers GET /v1/stats (admins): ?from=YYYY-MM-DD&to=YYYY-MM-DD (both days
// included; to defaults to from, from to the last 7 days) &interval=day (the only interval).
func (s *Server) MountStats(store StatsStore, clock baton.Clock) {
	s.Handle("GET /v1/stats", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		if iv := q.Get("interval"); iv != "" && iv != "day" {
			return baton.Invalid("interval must be day")
		}
		today := clock.Now().UTC().Truncate(24 * time.Hour)
		from, to := today.AddDate(0, 0, -6), today
		var err error
		if v := q.Get("from"); v != "" {
			if from, err = time.Parse(time.DateOnly, v); err != nil {
				return baton.Invalid("from must be a date YYYY-MM-DD")
			}
			to = from
		}
		if v := q.Get("to"); v != "" {
			if to, err = time.Parse(time.DateOnly, v); err != nil {
				return baton.Invalid("to must be a date YYYY-MM-DD")
			}
		}
		if to.Before(from) {
			return baton.Invalid("to is before from")
		}
		end := to.AddDate(0, 0, 1)
		if end.Sub(from) > maxStatsDays*24*time.Hour {
			return baton.Invalid("at most %d days at once", maxStatsDays)
		}
		days, err := store.Stats(r.Context(), from, end)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly),
			"interval": "day", "days": days})
	})
}
