// Package widget serves the customer chat widget: the /chat page, its script and style, and
// embed.js, which puts the chat on any website in an iframe. Plain HTML and a little vanilla
// JavaScript embedded in the binary; each file is gzipped once at start and served with an
// ETag. It also holds the web channel: the widget's replies need no send, since the customer
// sees them on the chat's event stream.
package widget

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/channel"
)

//go:embed assets
var assets embed.FS

type file struct {
	name, contentType string
	raw, gz           []byte
	etag              string
}

// Handler serves GET /chat and GET /chat/{file}.
type Handler struct {
	files map[string]*file // by URL path
	csp   string
}

// New builds the handler. origins may frame the /chat page (BATON_CHAT_ORIGINS), besides
// Baton's own.
func New(origins []string) (*Handler, error) {
	h := &Handler{files: map[string]*file{}}
	for path, spec := range map[string][2]string{
		"/chat":            {"chat.html", "text/html; charset=utf-8"},
		"/chat/widget.js":  {"widget.js", "text/javascript; charset=utf-8"},
		"/chat/widget.css": {"widget.css", "text/css; charset=utf-8"},
		"/chat/embed.js":   {"embed.js", "text/javascript; charset=utf-8"},
	} {
		raw, err := assets.ReadFile("assets/" + spec[0])
		if err != nil {
			return nil, fmt.Errorf("read widget asset %s: %w", spec[0], err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(raw) //nolint:errcheck // writes to memory
		zw.Close()    //nolint:errcheck
		sum := sha256.Sum256(raw)
		h.files[path] = &file{name: spec[0], contentType: spec[1], raw: raw, gz: buf.Bytes(),
			etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	ancestors := append([]string{"'self'"}, origins...)
	h.csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors " + strings.Join(ancestors, " ")
	return h, nil
}

// Paths lists what the handler serves.
func (h *Handler) Paths() []string {
	out := make([]string, 0, len(h.files))
	for p := range h.files {
		out = append(out, p)
	}
	return out
}

// Size is the gzipped size of the files a first visit of /chat loads (page, script, style).
func (h *Handler) Size() (raw, gz int) {
	for _, p := range []string{"/chat", "/chat/widget.js", "/chat/widget.css"} {
		raw += len(h.files[p].raw)
		gz += len(h.files[p].gz)
	}
	return raw, gz
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := h.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("ETag", f.etag)
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if f.name == "chat.html" {
		hd.Set("Content-Security-Policy", h.csp)
		hd.Set("Cache-Control", "no-cache")
	} else {
		// Revalidated with the ETag; a deploy changes it.
		hd.Set("Cache-Control", "public, max-age=300")
	}
	if f.name == "embed.js" {
		hd.Set("Cross-Origin-Resource-Policy", "cross-origin") // loaded by other sites
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.raw
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	hd.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body) //nolint:errcheck // the client went away
	}
}

func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// Channel is the web chat as a delivery channel: a reply is on the customer's event stream
// as soon as it is stored, so sending it is a no-op that records it as sent. Its inbound API
// is /v1/chat/*, not a channel route.
type Channel struct{}

// Name is the channel of the widget's customers and messages.
func (Channel) Name() string { return "web" }

// Routes: none; the widget has its own API.
func (Channel) Routes() []channel.Route { return nil }

// Inbound is never called: the channel has no routes.
func (Channel) Inbound(*http.Request, []byte) ([]baton.ChannelEvent, error) {
	return nil, baton.Errorf(baton.ErrNotFound, "unknown_channel", "the web chat posts to /v1/chat/messages")
}

// Send has nothing to do: the reply reached the customer's stream when it was stored.
func (Channel) Send(context.Context, baton.Outbound) (baton.Receipt, error) {
	return baton.Receipt{}, nil
}

// Caps: a stream can be re-read, so repeating a send is harmless.
func (Channel) Caps() channel.Caps { return channel.Caps{Idempotent: true} }
