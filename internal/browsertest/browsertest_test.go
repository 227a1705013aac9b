package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton/internal/browsertest"
	"github.com/chromedp/chromedp"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

const page = `<!doctype html><title>t</title>
<label for=name>Name</label><input id=name>
<button id=go onclick="setTimeout(()=>{document.getElementById('out').textContent='hi '+document.getElementById('name').value},50)">Go</button>
<p id=out></p>
<script>localStorage.setItem('k', (localStorage.getItem('k')||'') + 'x')</script>`

func server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTypeClickAndWait(t *testing.T) {
	t.Parallel()
	srv := server(t)
	p := browsertest.New(t)
	p.Do(chromedp.Navigate(srv.URL),
		chromedp.SendKeys(chromedp.ID("name"), "Ana"),
		chromedp.Click(chromedp.ID("go")))
	p.WaitFor(`document.getElementById('out').textContent !== ''`, "the greeting")
	if got := p.Text("#out"); got != "hi Ana" {
		t.Fatalf("text = %q, want %q", got, "hi Ana")
	}
	if n := browsertest.Eval[int](p, `document.querySelectorAll('input').length`); n != 1 {
		t.Fatalf("inputs = %d, want 1", n)
	}
}

// Each test's tab has its own browser context: storage set by one is not seen by another.
func TestTabsAreIsolated(t *testing.T) {
	t.Parallel()
	srv := server(t)
	for i := range 2 {
		p := browsertest.New(t)
		p.Do(chromedp.Navigate(srv.URL))
		if got := browsertest.Eval[string](p, `localStorage.getItem('k')`); got != "x" {
			t.Fatalf("tab %d: localStorage k = %q, want a fresh %q", i, got, "x")
		}
	}
}

func TestScreenshot(t *testing.T) {
	t.Setenv("BATON_TEST_ARTIFACTS", t.TempDir())
	srv := server(t)
	p := browsertest.New(t)
	p.Do(chromedp.Navigate(srv.URL))
	path := p.Screenshot("shot")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 100 || string(b[1:4]) != "PNG" {
		t.Fatalf("%s is not a PNG (%d bytes)", path, len(b))
	}
	if filepath.Dir(path) != os.Getenv("BATON_TEST_ARTIFACTS") {
		t.Fatalf("screenshot at %s, want under BATON_TEST_ARTIFACTS", path)
	}
}

func TestArtifactsDirIsAtModuleRoot(t *testing.T) {
	dir := browsertest.ArtifactsDir()
	if _, err := os.Stat(filepath.Join(dir, "..", "..", "go.mod")); err != nil {
		t.Fatalf("artifacts dir %s is not <module root>/artifacts/browser: %v", dir, err)
	}
}

func TestMissingChromiumFailsLoudly(t *testing.T) {
	t.Setenv(browsertest.ExecPathEnv, "/nonexistent/chromium")
	if _, err := browsertest.ExecPath(); err == nil {
		t.Fatal("ExecPath with a missing binary returned no error")
	}
}
