package knowledge_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/knowledge"
)

// fakeNet is the network as URL-import tests see it: names resolve from a table, public
// addresses reach the test site, and every other address reaches the "internal" server, a
// local page with a secret, as an unguarded fetch would. Every dial lands on this machine.
type fakeNet struct {
	public   *httptest.Server // the site behind the public addresses
	internal *httptest.Server // what internal addresses (and allowed names) reach
	secret   atomic.Int64     // requests the internal server answered

	mu      sync.Mutex
	hosts   map[string][]netip.Addr
	lookups map[string]int
	dialled []string
}

// Fake public addresses: never dialled for real, the dialer routes them to the local site.
var (
	helpAddr   = netip.MustParseAddr("93.184.215.14")
	mixedAddr  = netip.MustParseAddr("93.184.215.15")
	rebindAddr = netip.MustParseAddr("93.184.215.16")
)

func newFakeNet(t testing.TB, public *httptest.Server) *fakeNet {
	t.Helper()
	n := &fakeNet{public: public, lookups: map[string]int{}, hosts: map[string][]netip.Addr{
		"help.test":     {helpAddr},
		"localhost":     {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"intranet.test": {netip.MustParseAddr("10.0.0.8")},
		"metadata.test": {netip.MustParseAddr("169.254.169.254")},
		"mixed.test":    {mixedAddr, netip.MustParseAddr("192.168.0.2")},
		"mapped.test":   {netip.MustParseAddr("::ffff:10.0.0.1")},
	}}
	n.internal = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.secret.Add(1)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body><main><h1>Admin</h1><p>The internal password is hunter2.</p></main></body></html>`)
	}))
	t.Cleanup(n.internal.Close)
	return n
}

func (n *fakeNet) install(o *knowledge.Options) {
	o.Fetch.LookupIP = n.lookup
	o.Fetch.Dial = n.dial
}

func (n *fakeNet) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lookups[host]++
	// DNS rebinding: public for the first answers (one, or two for rebind2.test), internal
	// ever after.
	if public := map[string]int{"rebind.test": 1, "rebind2.test": 2}[host]; public > 0 {
		if n.lookups[host] <= public {
			return []netip.Addr{rebindAddr}, nil
		}
		return []netip.Addr{netip.MustParseAddr("10.0.0.9")}, nil
	}
	addrs, ok := n.hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

func (n *fakeNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dialled = append(n.dialled, addr)
	n.mu.Unlock()
	to := n.internal.Listener.Addr().String()
	if host, _, _ := net.SplitHostPort(addr); slices.Contains([]string{helpAddr.String(), mixedAddr.String(), rebindAddr.String()}, host) {
		to = n.public.Listener.Addr().String()
	}
	var d net.Dialer
	return d.DialContext(ctx, network, to)
}

// internalDials lists the dialled addresses that are not the fake public ones.
func (n *fakeNet) internalDials() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, a := range n.dialled {
		if host, _, _ := net.SplitHostPort(a); !strings.HasPrefix(host, "93.184.215.") {
			out = append(out, a)
		}
	}
	return out
}

// newGuardSite is the test site plus redirects and a sitemap whose pages live on rebind.test.
func newGuardSite(t testing.TB) *site {
	t.Helper()
	st := newSite(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/go-internal", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:"+port(st.net.internal)+"/secret", http.StatusFound)
	})
	mux.HandleFunc("/go-intranet", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://intranet.test/secret", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/rebind-sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://%[1]s/help/shipping</loc></url><url><loc>http://%[1]s/help/returns</loc></url>
<url><loc>http://10.0.0.5/help/admin</loc></url></urlset>`, r.Host)
	})
	mux.Handle("/", st.Config.Handler)
	st.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "rebind") {
			// No kept-alive connection: each page dials (and resolves) afresh.
			w.Header().Set("Connection", "close")
		}
		mux.ServeHTTP(w, r)
	})
	return st
}

func port(s *httptest.Server) string {
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	return p
}

func TestURLImportsRefuseInternalAddresses(t *testing.T) {
	t.Parallel()
	st := newGuardSite(t)
	b := setup(t, st.options)
	internalPort := port(st.net.internal)
	tests := []struct {
		name, url string
		addr      string // the refused address, named in the error
		reason    string
		redirect  bool // only the dial after a redirect can refuse it
	}{
		{name: "loopback", url: "http://127.0.0.1:" + internalPort + "/", addr: "127.0.0.1", reason: "loopback"},
		{name: "all of 127/8", url: "http://127.8.9.10:" + internalPort + "/", addr: "127.8.9.10", reason: "loopback"},
		{name: "localhost", url: "http://localhost:" + internalPort + "/", addr: "127.0.0.1", reason: "loopback"},
		{name: "ipv6 loopback", url: "http://[::1]:" + internalPort + "/", addr: "::1", reason: "loopback"},
		{name: "unspecified", url: "http://0.0.0.0:" + internalPort + "/", addr: "0.0.0.0", reason: "unspecified"},
		{name: "ipv6 unspecified", url: "http://[::]/", addr: "::", reason: "unspecified"},
		{name: "ipv4-mapped loopback", url: "http://[::ffff:127.0.0.1]:" + internalPort + "/", addr: "::ffff:127.0.0.1", reason: "loopback"},
		{name: "ipv4-mapped private", url: "http://[::ffff:10.0.0.1]/", addr: "::ffff:10.0.0.1", reason: "private"},
		{name: "ipv4-mapped metadata", url: "http://[::ffff:169.254.169.254]/", addr: "::ffff:169.254.169.254", reason: "cloud metadata"},
		{name: "ipv4-mapped by name", url: "http://mapped.test/", addr: "::ffff:10.0.0.1", reason: "private"},
		{name: "nat64 loopback", url: "http://[64:ff9b::7f00:1]/", addr: "64:ff9b::7f00:1", reason: "loopback"},
		{name: "private 10/8", url: "http://10.1.2.3/", addr: "10.1.2.3", reason: "private"},
		{name: "private 172.16/12", url: "http://172.31.0.1/", addr: "172.31.0.1", reason: "private"},
		{name: "private 192.168/16", url: "http://192.168.1.1/", addr: "192.168.1.1", reason: "private"},
		{name: "private fc00::/7", url: "http://[fd12::1]/", addr: "fd12::1", reason: "private"},
		{name: "cgnat 100.64/10", url: "http://100.64.0.1/", addr: "100.64.0.1", reason: "CGNAT"},
		{name: "private by name", url: "http://intranet.test/", addr: "10.0.0.8", reason: "private"},
		{name: "public and private answers", url: "http://mixed.test/", addr: "192.168.0.2", reason: "private"},
		{name: "link-local", url: "http://169.254.1.1/", addr: "169.254.1.1", reason: "link-local"},
		{name: "ipv6 link-local", url: "http://[fe80::1%25eth0]/", addr: "fe80::1", reason: "link-local"},
		{name: "metadata", url: "http://169.254.169.254/latest/meta-data/", addr: "169.254.169.254", reason: "cloud metadata"},
		{name: "ipv6 metadata", url: "http://[fd00:ec2::254]/latest/meta-data/", addr: "fd00:ec2::254", reason: "cloud metadata"},
		{name: "metadata by name", url: "http://metadata.test/", addr: "169.254.169.254", reason: "cloud metadata"},
		{name: "redirect to loopback", url: st.URL + "/go-internal", addr: "127.0.0.1", reason: "loopback", redirect: true},
		{name: "redirect to a private name", url: st.URL + "/go-intranet", addr: "10.0.0.8", reason: "private", redirect: true},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := b.svc.Import(t.Context(), 0, tt.url, knowledge.ImportOptions{}, nil)
				if !errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), tt.addr) ||
					!strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), "not allowed") {
					t.Fatalf("import %s: %v; want an invalid-input error naming %s as %s and not allowed", tt.url, err, tt.addr, tt.reason)
				}
				if tt.redirect && !strings.Contains(err.Error(), "redirected to") {
					t.Errorf("error %q does not say the redirect was refused", err)
				}
				err = b.svc.CheckURL(t.Context(), tt.url)
				if tt.redirect {
					if err != nil {
						t.Errorf("CheckURL(%s) = %v; a public URL passes the up-front check", tt.url, err)
					}
					return
				}
				if !errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), tt.addr) {
					t.Errorf("CheckURL(%s) = %v; want an invalid-input error naming %s", tt.url, err, tt.addr)
				}
			})
		}
	})
	if d := st.net.internalDials(); len(d) > 0 {
		t.Errorf("dialled internal addresses %q", d)
	}
	if n := st.net.secret.Load(); n > 0 {
		t.Errorf("the internal server answered %d requests", n)
	}
	if n := b.count(t, `SELECT count(*) FROM kb_articles`); n != 0 {
		t.Errorf("refused imports stored %d articles", n)
	}
}

func TestSitemapPagesAreCheckedWhenDialled(t *testing.T) {
	t.Parallel()
	st := newGuardSite(t)
	b := setup(t, st.options)
	// The sitemap, and one page of rebind2.test, come from a public address; then the name
	// turns internal. The entry on another (internal) host is skipped, as every other host's.
	sum, err := b.svc.Import(t.Context(), 0, "http://rebind2.test/rebind-sitemap.xml", knowledge.ImportOptions{}, nil)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if sum.Added != 1 || sum.Failed != 1 {
		t.Fatalf("summary %+v; want one page added and the other refused", sum)
	}
	if f := sum.Failures[0]; !strings.Contains(f.Reason, "10.0.0.9") || !strings.Contains(f.Reason, "not allowed") {
		t.Errorf("failure %+v; want the internal address named and refused", f)
	}

	// Every page refused: the import fails as a whole, and its job ends failed.
	_, err = b.svc.Import(t.Context(), 0, "http://rebind.test/rebind-sitemap.xml", knowledge.ImportOptions{}, nil)
	if !errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), "10.0.0.9") || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("import: %v; want it refused, naming the internal address", err)
	}
	if d := st.net.internalDials(); len(d) > 0 {
		t.Errorf("dialled internal addresses %q", d)
	}
	if n := b.count(t, `SELECT count(*) FROM kb_articles`); n != 1 {
		t.Errorf("stored %d articles, want the one public page", n)
	}
}

func TestAllowedHostsMayBeInternal(t *testing.T) {
	t.Parallel()
	st := newGuardSite(t)
	internalPort := port(st.net.internal)
	b := setup(t, st.options, func(o *knowledge.Options) {
		o.Fetch.AllowHosts = []string{" Intranet.test ", "127.0.0.1:" + internalPort, "[::1]:1"}
	})
	tests := []struct {
		name, url string
		allowed   bool
	}{
		{name: "allowed host, any port", url: "http://intranet.test/", allowed: true},
		{name: "allowed host:port", url: "http://127.0.0.1:" + internalPort + "/", allowed: true},
		{name: "another port of an allowed host:port", url: "http://127.0.0.1:" + port(st.Server) + "/"},
		{name: "the allowed host's address by another name", url: "http://10.0.0.8/"},
		{name: "another name of the allowed address", url: "http://localhost:" + internalPort + "/"},
		{name: "redirect to an allowed host", url: st.URL + "/go-intranet", allowed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: allowed imports store the same page.
			_, err := b.svc.Import(t.Context(), 0, tt.url, knowledge.ImportOptions{}, nil)
			check := b.svc.CheckURL(t.Context(), tt.url)
			if tt.allowed && (err != nil || check != nil) {
				t.Fatalf("import %s: %v, CheckURL: %v; want it allowed", tt.url, err, check)
			}
			if !tt.allowed && (!errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), "not allowed") || check == nil) {
				t.Fatalf("import %s: %v, CheckURL: %v; want it refused", tt.url, err, check)
			}
		})
	}
	if st.net.secret.Load() == 0 {
		t.Error("the allowed internal server was never fetched")
	}
}

func TestImportJobOfInternalURLFails(t *testing.T) {
	t.Parallel()
	st := newGuardSite(t)
	b := setup(t, st.options)
	j, err := b.svc.StartImport(t.Context(), 0, knowledge.ImportRequest{URL: "http://169.254.169.254/latest/meta-data/"})
	if err != nil && !errors.Is(err, baton.ErrInvalid) {
		t.Fatalf("start import: %v", err)
	}
	if err == nil {
		// Accepted up front (the caller skipped CheckURL): the job itself must fail.
		if j, err = b.svc.ImportJob(t.Context(), j.ID); err != nil {
			t.Fatal(err)
		}
		if j.Status != knowledge.JobFailed || !strings.Contains(j.Error, "169.254.169.254") || !strings.Contains(j.Error, "not allowed") {
			t.Errorf("job %+v; want failed, naming the refused address", j)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM kb_articles`); n != 0 {
		t.Errorf("stored %d articles", n)
	}
}

// roundTripperFunc is an http.RoundTripper made of a function.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCustomTransportsAreCheckedByName(t *testing.T) {
	t.Parallel()
	st := newGuardSite(t)
	var sent atomic.Int64
	b := setup(t, st.options, func(o *knowledge.Options) {
		// A transport the guard cannot re-dial: requests are checked before it sends them.
		o.HTTPClient = &http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			sent.Add(1)
			return nil, errors.New("not sent in this test")
		})}
	})
	for _, u := range []string{"http://127.0.0.1/", "http://intranet.test/", "http://[::ffff:10.0.0.1]/"} {
		if _, err := b.svc.Import(t.Context(), 0, u, knowledge.ImportOptions{}, nil); !errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("import %s: %v; want it refused", u, err)
		}
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("the transport sent %d requests to internal addresses", n)
	}
	if _, err := b.svc.Import(t.Context(), 0, st.URL+"/help/shipping", knowledge.ImportOptions{}, nil); err == nil || sent.Load() != 1 {
		t.Errorf("a public URL did not reach the transport: %v", err)
	}
}
