package widget_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/widget"
)

func TestServesCompressedWithETagAndCSP(t *testing.T) {
	t.Parallel()
	h, err := widget.New([]string{"https://shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, contentType string
	}{
		{"/chat", "text/html"}, {"/chat/widget.js", "text/javascript"}, {"/chat/widget.css", "text/css"}, {"/chat/embed.js", "text/javascript"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.path, nil)
			req.Header.Set("Accept-Encoding", "gzip, br")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.contentType) || rec.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("%d %v", rec.Code, rec.Header())
			}
			again := httptest.NewRequest("GET", tc.path, nil)
			again.Header.Set("If-None-Match", rec.Header().Get("ETag"))
			rec2 := httptest.NewRecorder()
			h.ServeHTTP(rec2, again)
			if rec2.Code != http.StatusNotModified {
				t.Fatalf("revalidation: %d, want 304", rec2.Code)
			}
		})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/chat", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' https://shop.example") || rec.Header().Get("Content-Encoding") != "" {
		t.Fatalf("uncompressed page headers %v", rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/chat/nope.js", nil))
	if rec.Code != 404 {
		t.Fatalf("unknown file: %d", rec.Code)
	}
}

// The budget: the first load of /chat is at most 100 KB transferred, compressed.
// Headers add well under 2 KB for the three responses.
func TestFirstLoadWeight(t *testing.T) {
	t.Parallel()
	h, err := widget.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, gz := h.Size()
	t.Logf("first load of /chat: %d bytes, %d gzipped (page, script, style)", raw, gz)
	if gz+2048 > 100_000 {
		t.Fatalf("first load is %d bytes gzipped, over the 100 KB budget", gz)
	}
}
