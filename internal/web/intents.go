package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intents"
)

// MountIntents registers the admin API for intents, detail types and the classification
// playground.
func (s *Server) MountIntents(cat *intents.Catalog, clock baton.Clock) {
	s.Handle("GET /v1/intents", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		list := cat.List()
		var builtins []string
		for _, in := range list {
			if intents.IsBuiltin(in.Name) {
				builtins = append(builtins, in.Name)
			}
		}
		// count is what the classifier really knows, built-ins included.
		return WriteJSON(w, http.StatusOK, map[string]any{"intents": list, "count": len(list), "builtin_count": len(builtins), "builtins": builtins})
	})
	s.Handle("GET /v1/detail-types", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		return WriteJSON(w, http.StatusOK, map[string]any{"detail_types": cat.DetailTypes()})
	})
	s.Handle("PUT /v1/detail-types/{name}", Admin, 64<<10, func(w http.ResponseWriter, r *http.Request) error {
		var d intents.DetailType
		if err := DecodeJSON(r, &d); err != nil {
			return err
		}
		if d.Name == "" {
			d.Name = r.PathValue("name")
		}
		if d.Name != r.PathValue("name") {
			return baton.Invalid("the name in the body must match the path")
		}
		out, created, err := cat.SaveDetailType(r.Context(), Actor(r), d)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return WriteJSON(w, status, out)
	})
	s.Handle("DELETE /v1/detail-types/{name}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		if err := cat.DeleteDetailType(r.Context(), Actor(r), r.PathValue("name")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Handle("GET /v1/intents/{name}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		in, err := cat.Get(r.PathValue("name"))
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, in)
	})
	s.Handle("POST /v1/intents", Admin, 256<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in intents.Intent
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if _, _, err := cat.Save(r.Context(), Actor(r), []intents.Intent{in}, true); err != nil {
			return err
		}
		out, err := cat.Get(in.Name)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, out)
	})
	s.Handle("PUT /v1/intents/{name}", Admin, 256<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in intents.Intent
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if in.Name == "" {
			in.Name = r.PathValue("name")
		}
		if in.Name != r.PathValue("name") {
			return baton.Invalid("the name in the body must match the path")
		}
		if _, err := cat.Get(in.Name); err != nil {
			return err
		}
		if _, _, err := cat.Save(r.Context(), Actor(r), []intents.Intent{in}, false); err != nil {
			return err
		}
		out, err := cat.Get(in.Name)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, out)
	})
	s.Handle("DELETE /v1/intents/{name}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		if err := cat.Delete(r.Context(), Actor(r), r.PathValue("name")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Handle("POST /v1/intents/{name}/examples", Admin, 64<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Examples []string `json:"examples"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if len(in.Examples) == 0 {
			return baton.Invalid("examples must not be empty")
		}
		out, err := cat.AddExamples(r.Context(), Actor(r), r.PathValue("name"), in.Examples)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, out)
	})
	s.Handle("POST /v1/intents/classify", Admin, 16<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Text      string `json:"text"`
			Timezone  string `json:"timezone"`
			Requested string `json:"requested"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if strings.TrimSpace(in.Text) == "" {
			return baton.Invalid("text is required")
		}
		loc := time.UTC
		if in.Timezone != "" {
			var err error
			if loc, err = time.LoadLocation(in.Timezone); err != nil {
				return baton.Invalid("unknown timezone %q", in.Timezone)
			}
		}
		a := cat.Model().Understand(in.Text, intents.ExtractContext{Now: clock.Now(), Location: loc, Requested: in.Requested})
		return WriteJSON(w, http.StatusOK, a)
	})
}
