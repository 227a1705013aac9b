// Package console serves the browser screens for people: the agent inbox (/agent) and the
// admin console (/admin). Pages are HTML with a little JavaScript, embedded in the binary; all
// data comes from the JSON API with the browser's session cookie and CSRF token.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/web"
)

//go:embed assets
var assets embed.FS

// pageCSP allows only this server's scripts and styles: every text on the page is data from
// customers or admins, rendered as text, and no inline script may run.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Mount registers the pages and their assets. Pages answer 200 without a session: the sign-in
// form is part of each page.
func Mount(s *web.Server) {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded folder exists at build time
	}
	page := func(name string) web.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			body, err := fs.ReadFile(sub, name)
			if err != nil {
				return err
			}
			h := w.Header()
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Security-Policy", pageCSP)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer") // sign-in links carry a token in the fragment
			h.Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusOK)
			_, err = w.Write(body)
			return err
		}
	}
	mountCharts(s)
	s.Handle("GET /agent", web.Public, 0, page("agent.html"))
	s.Handle("GET /admin", web.Public, 0, page("admin.html"))
	s.Handle("GET /console/{file}", web.Public, 0, func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("file")
		if ext := path.Ext(name); ext != ".js" && ext != ".css" {
			return baton.Errorf(baton.ErrNotFound, "not_found", "no asset %s", name)
		}
		if _, err := fs.Stat(sub, name); err != nil {
			return baton.Errorf(baton.ErrNotFound, "not_found", "no asset %s", name)
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, sub, name)
		return nil
	})
}
