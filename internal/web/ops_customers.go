package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/batonhq/baton"
)

// Customers is the privacy lifecycle of customers (see postgres.DB.ExportCustomer and
// EraseCustomer). Both return baton.ErrNotFound for an unknown customer.
type Customers interface {
	ExportCustomer(ctx context.Context, customerID int64) (json.RawMessage, error)
	EraseCustomer(ctx context.Context, actorID, customerID int64) (baton.Erasure, error)
}

// MountCustomers registers the admin's export and erase of a customer's data.
func (s *Server) MountCustomers(c Customers) {
	s.Handle("GET /v1/customers/{id}/export", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		doc, err := c.ExportCustomer(r.Context(), id)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, err = w.Write(doc)
		return err
	})
	s.Handle("DELETE /v1/customers/{id}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		u, _ := UserFrom(r.Context())
		e, err := c.EraseCustomer(r.Context(), u.ID, id)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, e)
	})
}
