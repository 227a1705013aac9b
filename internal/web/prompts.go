package web

import (
	"net/http"
	"strconv"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/prompts"
)

// templateErrorBody is the error shape with the line of a refused template.
type templateErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Line    int    `json:"line,omitempty"`
	} `json:"error"`
}

// promptError answers a refused template with 400 invalid_template and its line; any other
// error goes to the central mapping.
func promptError(w http.ResponseWriter, err error) error {
	te, ok := prompts.IsTemplateError(err)
	if !ok {
		return err
	}
	var body templateErrorBody
	body.Error.Code, body.Error.Message, body.Error.Line = "invalid_template", te.Reason, te.Line
	return WriteJSON(w, http.StatusBadRequest, body)
}

// MountPrompts registers the admin API for the prompt templates: versions, diff, activation
// (and roll back) and preview. live is the holder the bot renders with.
func (s *Server) MountPrompts(live *prompts.Live) {
	name := func(r *http.Request) prompts.Name { return prompts.Name(r.PathValue("name")) }
	s.Handle("GET /v1/prompts", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		list, err := live.List(r.Context())
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"prompts": list})
	})
	s.Handle("GET /v1/prompts/{name}", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		p, err := live.Get(r.Context(), name(r))
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, p)
	})
	s.Handle("PUT /v1/prompts/{name}", Admin, 64<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Body string `json:"body"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		v, err := live.Save(r.Context(), Actor(r), name(r), in.Body)
		if err != nil {
			return promptError(w, err)
		}
		return WriteJSON(w, http.StatusCreated, v)
	})
	s.Handle("GET /v1/prompts/{name}/versions", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		list, err := live.Versions(r.Context(), name(r))
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"versions": list})
	})
	s.Handle("GET /v1/prompts/{name}/diff", Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		version := func(param string) (int, error) {
			v, err := strconv.Atoi(r.URL.Query().Get(param))
			if err != nil || v < 0 {
				return 0, baton.Invalid("%s must be a version number (0 = the default)", param)
			}
			return v, nil
		}
		from, err := version("from")
		if err != nil {
			return err
		}
		to, err := version("to")
		if err != nil {
			return err
		}
		d, err := live.Diff(r.Context(), name(r), from, to)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, d)
	})
	s.Handle("POST /v1/prompts/{name}/activate", Admin, 4<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Version *int `json:"version"`
		}
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		if in.Version == nil {
			return baton.Invalid("version is required (0 = the default)")
		}
		st, err := live.Activate(r.Context(), Actor(r), name(r), *in.Version)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusOK, st)
	})
	s.Handle("POST /v1/prompts/{name}/preview", Admin, 128<<10, func(w http.ResponseWriter, r *http.Request) error {
		var in prompts.PreviewRequest
		if err := DecodeJSON(r, &in); err != nil {
			return err
		}
		p, err := live.Preview(r.Context(), name(r), in)
		if err != nil {
			return promptError(w, err)
		}
		return WriteJSON(w, http.StatusOK, p)
	})
}
