// Package browsertest drives Baton's pages in a real headless Chromium from `go test`.
//
// One browser runs per test binary; each test gets its own tab in its own browser context
// (fresh cookies and localStorage), closed when the test ends. Waits poll a condition in the
// page with a deadline, never sleep. When a test fails, a screenshot of its tab goes to the
// artifacts folder (artifacts/browser at the module root, ignored by git) and the page's
// console errors go to the test log. A missing Chromium fails the test: browser tests are
// never skipped.
//
//	func TestMain(m *testing.M) { browsertest.Main(m) } // stops the browser after the tests
//
//	func TestWidget(t *testing.T) {
//		p := browsertest.New(t)
//		p.Do(chromedp.Navigate(srv.URL + "/chat"))
//		p.WaitFor(`document.querySelectorAll(".msg").length > 0`, "a message")
//		got := browsertest.Run(p, chromedp.Text(chromedp.CSS(".msg")))
//	}
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds one action or wait (a loaded two-core machine starts pages slowly).
const Timeout = 20 * time.Second

// ExecPathEnv names the variable that overrides where Chromium is.
const ExecPathEnv = "BATON_CHROMIUM"

var shared struct {
	once    sync.Once
	ctx     context.Context // the browser's context: its first tab, never used for tests
	cancel  func()
	err     error
	started bool
	mu      sync.Mutex
}

// Main runs the tests of a package and then stops the browser (and removes its profile).
// Call it from TestMain; without it the browser dies with the test binary anyway.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop closes the shared browser if one was started.
func Stop() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.started && shared.cancel != nil {
		shared.cancel()
	}
}

// ExecPath finds Chromium: $BATON_CHROMIUM, /usr/bin/chromium, then chromium or
// google-chrome on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv(ExecPathEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", ExecPathEnv, p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found: install it (scripts/setup.sh installs Debian's chromium) or set " + ExecPathEnv)
}

func browser() (context.Context, error) {
	shared.once.Do(func() {
		path, err := ExecPath()
		if err != nil {
			shared.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-domain-reliability", true),
			chromedp.WindowSize(1280, 900),
		)
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		// The first Run starts the browser; it must have no deadline (the deadline would stop
		// the browser), so a hung start is bounded by a watchdog instead.
		done := make(chan error, 1)
		go func() { done <- chromedp.Do(bctx) }()
		select {
		case err = <-done:
		case <-time.After(2 * Timeout):
			err = errors.New("chromium did not start within " + (2 * Timeout).String())
		}
		if err != nil {
			bcancel()
			acancel()
			shared.err = fmt.Errorf("start chromium %s: %w", path, err)
			return
		}
		shared.mu.Lock()
		shared.ctx, shared.started = bctx, true
		shared.cancel = func() { bcancel(); acancel() }
		shared.mu.Unlock()
	})
	return shared.ctx, shared.err
}

// Page is one test's browser tab.
type Page struct {
	t   testing.TB
	ctx context.Context

	mu      sync.Mutex
	console []string
}

// New opens a tab for the test in a fresh browser context, closed at the end of the test.
// It fails the test (never skips) when Chromium is missing or does not start.
func New(t testing.TB) *Page {
	t.Helper()
	bctx, err := browser()
	if err != nil {
		t.Fatalf("browser test needs Chromium: %v", err)
	}
	tctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	p := &Page{t: t, ctx: tctx}
	if err := chromedp.Do(tctx); err != nil {
		cancel()
		t.Fatalf("open a tab: %v", err)
	}
	go p.collectConsole()
	t.Cleanup(func() {
		if t.Failed() {
			p.saveFailure()
		}
		cancel()
	})
	return p
}

// Context is the tab's chromedp context, for actions this package does not wrap. Derive a
// timeout from it for each call; never cancel it.
func (p *Page) Context() context.Context { return p.ctx }

func (p *Page) collectConsole() {
	for m, err := range chromedp.Console(p.ctx) {
		if err != nil {
			return
		}
		if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
			p.mu.Lock()
			if len(p.console) < 200 {
				p.console = append(p.console, m.String())
			}
			p.mu.Unlock()
		}
	}
}

// ConsoleErrors returns the page's console errors, warnings and uncaught exceptions so far.
func (p *Page) ConsoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// Do runs actions in order, failing the test on the first error or after Timeout.
func (p *Page) Do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// Run runs one action that returns a value, failing the test on error or after Timeout.
func Run[T any](p *Page, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("browser: %v", err)
	}
	return v
}

// Eval evaluates a JavaScript expression in the page and decodes its JSON value.
func Eval[T any](p *Page, expr string) T {
	p.t.Helper()
	return Run(p, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// WaitFor polls a JavaScript expression in the page until it is truthy; after Timeout the
// test fails naming what it waited for.
func (p *Page) WaitFor(expr, what string) {
	p.t.Helper()
	p.WaitForWithin(Timeout, expr, what)
}

// WaitForWithin is WaitFor with its own deadline.
func (p *Page) WaitForWithin(d time.Duration, expr, what string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(d)))
	if err != nil {
		p.t.Fatalf("browser: timed out after %s waiting for %s (%s): %v", d, what, expr, err)
	}
}

// Text returns the visible text of the first element matching a CSS selector, waiting for
// it to be present.
func (p *Page) Text(css string) string {
	p.t.Helper()
	return Run(p, chromedp.Text(chromedp.CSS(css)))
}

// Screenshot saves the visible viewport as PNG under the artifacts folder and returns the
// path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	path, err := p.screenshot(name)
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	return path
}

func (p *Page) screenshot(name string) (string, error) {
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return "", fmt.Errorf("capture: %w", err)
	}
	dir := ArtifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("artifacts folder: %w", err)
	}
	path := filepath.Join(dir, fileName(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

func (p *Page) saveFailure() {
	if msgs := p.ConsoleErrors(); len(msgs) > 0 {
		p.t.Logf("browser console:\n  %s", strings.Join(msgs, "\n  "))
	}
	path, err := p.screenshot(p.t.Name())
	if err != nil {
		p.t.Logf("no failure screenshot: %v", err)
		return
	}
	p.t.Logf("failure screenshot: %s", path)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileName(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// ArtifactsDir is where screenshots go: $BATON_TEST_ARTIFACTS, else artifacts/browser at the
// module root (ignored by git).
func ArtifactsDir() string {
	if d := os.Getenv("BATON_TEST_ARTIFACTS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join(os.TempDir(), "baton-artifacts", "browser")
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "artifacts", "browser")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "artifacts", "browser")
		}
	}
}
