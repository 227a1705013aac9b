package knowledge

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/batonhq/baton"
)

// Fetch limits and manners.
const (
	maxPageBytes    = 5 << 20
	maxSitemapDepth = 3
	userAgent       = "BatonKnowledgeImport/1.0 (+https://github.com/batonhq/baton)"
	// politeDelay spaces requests of one worker to the same site.
	politeDelay = 100 * time.Millisecond
)

// fetchURL imports one page or a sitemap: a URL whose response is XML with <urlset> or
// <sitemapindex> is a sitemap, whose pages (up to the page limit) are fetched with a small
// number of workers. A failing page is an item failure; a failing first URL is an error.
func (s *Service) fetchURL(ctx context.Context, raw string, o ImportOptions) ([]Item, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, baton.Invalid("%q is not an http(s) URL", raw)
	}
	limit := o.PageLimit
	if limit <= 0 {
		limit = DefaultPages
	}
	limit = min(limit, MaxPages)
	body, ctype, err := s.get(ctx, u.String())
	if err != nil {
		return nil, baton.Invalid("cannot fetch %s: %v", u, err)
	}
	if isSitemap(ctype, body) {
		pages, err := s.sitemapPages(ctx, u.String(), body, limit, 0)
		if err != nil {
			return nil, err
		}
		if len(pages) == 0 {
			return nil, baton.Invalid("sitemap %s lists no pages", u)
		}
		items := s.fetchPages(ctx, pages, o)
		// Only refused pages: the import as a whole fails (a job ends failed, not done),
		// naming the address.
		var be *BlockedError
		for _, it := range items {
			if !errors.As(it.Err, &be) {
				return items, nil
			}
		}
		return nil, baton.Invalid("every page of sitemap %s was refused: %v", u, be)
	}
	if !isHTML(ctype, body) {
		return nil, baton.Invalid("%s is neither an HTML page nor a sitemap (Content-Type %q)", u, ctype)
	}
	it := pageItem(u.String(), body)
	if it.Err != nil {
		return nil, baton.Invalid("%s: %v", u, reason(it.Err))
	}
	return []Item{it}, nil
}

// get fetches a URL with the import's client and limits.
func (s *Service) get(ctx context.Context, u string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "text/html, application/xhtml+xml, application/xml;q=0.9, text/xml;q=0.9")
	resp, err := s.o.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
			if be := (*BlockedError)(nil); errors.As(err, &be) && ue.URL != req.URL.Redacted() {
				return nil, "", fmt.Errorf("redirected to %s: %w", ue.URL, be)
			}
		}
		if be := (*BlockedError)(nil); errors.As(err, &be) {
			return nil, "", be
		}
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := readAllLimit(resp.Body, maxPageBytes)
	if err != nil {
		return nil, "", err
	}
	return b, resp.Header.Get("Content-Type"), nil
}

// FetchOptions guard URL imports against server-side request forgery: an import may name any
// URL, and whatever it fetches is published to customers, so imports must not reach the
// machine, its network or a cloud metadata service unless an admin allows the host.
type FetchOptions struct {
	// AllowHosts lists "host" (any port) or "host:port" entries that may be fetched although
	// they resolve to internal addresses (BATON_FETCH_ALLOW_HOSTS), e.g. an intranet wiki.
	AllowHosts []string
	// LookupIP resolves a host name; nil = net.DefaultResolver.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
	// Dial connects; it is given an IP:port the guard has checked, or an allowed host:port.
	// nil = a net.Dialer with a 10 s timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// BlockedError is a fetch refused because the address is internal.
type BlockedError struct {
	Host   string     // as the URL names it
	Addr   netip.Addr // what it resolved to
	Reason string     // e.g. "loopback", "private", "cloud metadata"
}

func (e *BlockedError) Error() string {
	what := e.Addr.String() + " is"
	if e.Host != e.Addr.String() {
		what = e.Host + " resolves to " + e.Addr.String() + ","
	}
	return fmt.Sprintf("%s a %s address, which URL imports are not allowed to fetch (an admin can allow the host with BATON_FETCH_ALLOW_HOSTS)", what, e.Reason)
}

// fetchGuard resolves and checks every address an import dials.
type fetchGuard struct {
	allow  map[string]bool // "host" and "host:port", lower case
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newFetchGuard(o FetchOptions) *fetchGuard {
	g := &fetchGuard{allow: map[string]bool{}, lookup: o.LookupIP, dial: o.Dial}
	for _, h := range o.AllowHosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			// "[::1]:8080" and "[::1]" name the host as SplitHostPort and URL hosts do: "::1".
			if host, port, err := net.SplitHostPort(h); err == nil {
				h = net.JoinHostPort(host, port)
			} else {
				h = strings.Trim(h, "[]")
			}
			g.allow[h] = true
		}
	}
	if g.lookup == nil {
		g.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if g.dial == nil {
		g.dial = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return g
}

func (g *fetchGuard) allowed(host, port string) bool {
	host = strings.ToLower(host)
	return g.allow[host] || g.allow[net.JoinHostPort(host, port)]
}

// resolve returns a host's addresses, refusing if any of them is internal: a name that mixes
// public and internal addresses is not one to trust with either.
func (g *fetchGuard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		if addrs, err = g.lookup(ctx, host); err != nil {
			return nil, fmt.Errorf("resolve %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s: no addresses", host)
		}
	}
	for _, a := range addrs {
		if reason := blockedReason(a); reason != "" {
			return nil, &BlockedError{Host: host, Addr: a, Reason: reason}
		}
	}
	return addrs, nil
}

// dialContext is the transport's dialer: it dials the very addresses it checked, so neither a
// redirect, a sitemap entry nor a DNS answer that changes between check and use (rebinding)
// reaches an internal address.
func (g *fetchGuard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if g.allowed(host, port) {
		return g.dial(ctx, network, addr)
	}
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, a := range addrs {
		c, err := g.dial(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// Address ranges URL imports never fetch, beyond what netip classifies.
var blockedPrefixes = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // and 255.255.255.255
	{netip.MustParsePrefix("::/96"), "IPv4-compatible"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
}

var metadataAddrs = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, …
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS over IPv6
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
}

// blockedReason says why an address is internal, or "" for a public one. IPv4-mapped IPv6
// (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are judged by their IPv4 address.
func blockedReason(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if nat64 := netip.MustParsePrefix("64:ff9b::/96"); nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case metadataAddrs[a]:
		return "cloud metadata"
	case a.IsLoopback():
		return "loopback"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsPrivate():
		return "private"
	case a.IsMulticast():
		return "multicast"
	}
	for _, p := range blockedPrefixes {
		if p.prefix.Contains(a) {
			return p.reason
		}
	}
	return ""
}

// guardClient returns a copy of c whose connections go through the guard. Proxies are not
// used: the guard would check the proxy's address, and the proxy would reach internal ones.
func guardClient(c *http.Client, o FetchOptions) *http.Client {
	g := newFetchGuard(o)
	out := *c
	var tr *http.Transport
	switch t := c.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		// A transport we cannot re-dial (a test double, a tracing wrapper): check each request's
		// host by name before it goes out. Weaker than checking the dialled address.
		out.Transport = &checkedTransport{base: t, g: g}
		return &out
	}
	tr.Proxy = nil
	tr.DialContext = g.dialContext
	tr.DialTLSContext = nil
	out.Transport = tr
	return &out
}

// checkedTransport checks a request's host before a RoundTripper it cannot re-dial sends it.
type checkedTransport struct {
	base http.RoundTripper
	g    *fetchGuard
}

func (t *checkedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.g.check(r.Context(), r.URL); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(r)
}

// check refuses a URL whose host resolves to an internal address, unless it is allowed.
func (g *fetchGuard) check(ctx context.Context, u *url.URL) error {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if g.allowed(u.Hostname(), port) {
		return nil
	}
	_, err := g.resolve(ctx, u.Hostname())
	return err
}

// CheckURL refuses, before an import job is queued, a URL that is not http(s) or whose host
// resolves to an internal address (loopback, private, link-local, cloud metadata, …) and is
// not in FetchOptions.AllowHosts. The error matches baton.ErrInvalid. A name that does not
// resolve now is not refused: the job will say so. Every fetch is checked again when it dials.
func (s *Service) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return baton.Invalid("%q is not an http(s) URL", raw)
	}
	if be := (*BlockedError)(nil); errors.As(newFetchGuard(s.o.Fetch).check(ctx, u), &be) {
		return baton.Invalid("cannot fetch %s: %v", u.Redacted(), be)
	}
	return nil
}

func mediaType(ctype string) string {
	mt, _, _ := mime.ParseMediaType(ctype)
	return mt
}

func isSitemap(ctype string, body []byte) bool {
	mt := mediaType(ctype)
	if mt != "" && !strings.Contains(mt, "xml") && mt != "text/plain" {
		return false
	}
	head := body[:min(len(body), 2048)]
	return bytes.Contains(head, []byte("<urlset")) || bytes.Contains(head, []byte("<sitemapindex"))
}

func isHTML(ctype string, body []byte) bool {
	switch mediaType(ctype) {
	case "text/html", "application/xhtml+xml":
		return true
	case "":
		head := bytes.ToLower(body[:min(len(body), 1024)])
		return bytes.Contains(head, []byte("<html")) || bytes.Contains(head, []byte("<!doctype html"))
	}
	return false
}

type sitemapDoc struct {
	URLs []struct {
		Loc string `xml:"loc"`
	} `xml:"url"`
	Sitemaps []struct {
		Loc string `xml:"loc"`
	} `xml:"sitemap"`
}

// sitemapPages lists page URLs of a sitemap or sitemap index, up to limit, same site only.
func (s *Service) sitemapPages(ctx context.Context, base string, body []byte, limit, depth int) ([]string, error) {
	var doc sitemapDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, baton.Invalid("sitemap %s is not valid XML: %v", base, err)
	}
	baseURL, _ := url.Parse(base)
	var pages []string
	seen := map[string]bool{}
	add := func(loc string) {
		u, err := baseURL.Parse(strings.TrimSpace(loc))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host != baseURL.Host {
			return // other sites are not this import's to crawl
		}
		u.Fragment = ""
		if !seen[u.String()] && len(pages) < limit {
			seen[u.String()] = true
			pages = append(pages, u.String())
		}
	}
	for _, e := range doc.URLs {
		add(e.Loc)
	}
	for _, sm := range doc.Sitemaps {
		if len(pages) >= limit || depth >= maxSitemapDepth {
			break
		}
		u, err := baseURL.Parse(strings.TrimSpace(sm.Loc))
		if err != nil || u.Host != baseURL.Host {
			continue
		}
		b, _, err := s.get(ctx, u.String())
		if err != nil {
			return nil, baton.Invalid("cannot fetch sitemap %s: %v", u, err)
		}
		sub, err := s.sitemapPages(ctx, u.String(), b, limit-len(pages), depth+1)
		if err != nil {
			return nil, err
		}
		for _, p := range sub {
			add(p)
		}
	}
	return pages, nil
}

// fetchPages fetches pages with a few workers, each pausing between requests; results keep the
// sitemap's order.
func (s *Service) fetchPages(ctx context.Context, pages []string, o ImportOptions) []Item {
	workers := o.Concurrency
	if workers <= 0 {
		workers = 2
	}
	workers = min(workers, 8)
	items := make([]Item, len(pages))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body, ctype, err := s.get(ctx, pages[i])
				switch {
				case errors.As(err, new(*BlockedError)):
					items[i] = Item{Source: pages[i], Err: fmt.Errorf("fetch: %w", err)}
				case err != nil:
					items[i] = Item{Source: pages[i], Err: baton.Invalid("fetch: %v", err)}
				case !isHTML(ctype, body):
					items[i] = Item{Source: pages[i], Err: baton.Invalid("not an HTML page (Content-Type %q)", ctype)}
				default:
					items[i] = pageItem(pages[i], body)
				}
				select {
				case <-ctx.Done():
				case <-time.After(politeDelay):
				}
			}
		}()
	}
	for i := range pages {
		if ctx.Err() != nil {
			items[i] = Item{Source: pages[i], Err: ctx.Err()}
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return items
}

// pageItem turns an HTML page into an article keyed by its URL.
func pageItem(pageURL string, body []byte) Item {
	title, text, lang, err := ExtractHTML(body)
	if err != nil {
		return Item{Source: pageURL, Err: baton.Invalid("%v", err)}
	}
	if strings.TrimSpace(text) == "" {
		return Item{Source: pageURL, Err: baton.Invalid("the page has no main text")}
	}
	if title == "" {
		title = pageURL
	}
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if !languagePattern.MatchString(primary) {
		primary = ""
	}
	return Item{Source: pageURL, Input: ArticleInput{ExternalKey: "url:" + pageURL, Title: title, Body: text,
		SourceURL: pageURL, Language: primary}}
}

// skipped elements never hold a page's main text.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Nav: true, atom.Header: true,
	atom.Footer: true, atom.Aside: true, atom.Form: true, atom.Svg: true, atom.Iframe: true,
	atom.Template: true, atom.Button: true, atom.Select: true, atom.Head: true,
}

// ExtractHTML returns a page's title, its main text as Markdown (headings, paragraphs, lists,
// code) and its declared language. The main text is <main>, else <article>, else the element
// with role="main", else <body>, without navigation, headers, footers, scripts and forms.
func ExtractHTML(page []byte) (title, markdown, lang string, err error) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", "", "", fmt.Errorf("not valid HTML: %v", err)
	}
	var main, article, roleMain, body, h1 *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Html:
				lang = attr(n, "lang")
			case atom.Title:
				if title == "" {
					title = strings.Join(strings.Fields(textOf(n)), " ")
				}
			case atom.Main:
				if main == nil {
					main = n
				}
			case atom.Article:
				if article == nil {
					article = n
				}
			case atom.Body:
				body = n
			case atom.H1:
				if h1 == nil {
					h1 = n
				}
			}
			if roleMain == nil && attr(n, "role") == "main" {
				roleMain = n
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	root := main
	for _, n := range []*html.Node{article, roleMain, body} {
		if root == nil {
			root = n
		}
	}
	if root == nil {
		return title, "", lang, nil
	}
	if h1 != nil {
		// The page's own heading names it better than a <title> with the site name appended.
		if t := strings.Join(strings.Fields(textOf(h1)), " "); t != "" {
			title = t
		}
	}
	var w mdWriter
	w.skipHeading = title
	w.block(root)
	return title, strings.TrimSpace(w.String()), lang, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && skipped[n.DataAtom] {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// mdWriter renders the block structure of HTML as Markdown.
type mdWriter struct {
	strings.Builder
	skipHeading string // the title: not repeated as a heading
}

func (w *mdWriter) para(s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	w.WriteString(s)
	w.WriteString("\n\n")
}

func (w *mdWriter) block(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			w.para(strings.Join(strings.Fields(c.Data), " "))
			continue
		}
		if c.Type != html.ElementNode || skipped[c.DataAtom] || attr(c, "hidden") != "" || attr(c, "aria-hidden") == "true" {
			continue
		}
		switch c.DataAtom {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			text := inline(c)
			if text == "" || (c.DataAtom == atom.H1 && text == w.skipHeading) {
				continue
			}
			level := int(c.DataAtom.String()[1] - '0')
			w.para(strings.Repeat("#", level) + " " + text)
		case atom.P, atom.Blockquote, atom.Dt, atom.Dd, atom.Figcaption, atom.Summary:
			prefix := ""
			if c.DataAtom == atom.Blockquote {
				prefix = "> "
			}
			if hasBlockChildren(c) {
				w.block(c)
				continue
			}
			w.para(prefix + inline(c))
		case atom.Ul, atom.Ol:
			i := 0
			var b strings.Builder
			for li := c.FirstChild; li != nil; li = li.NextSibling {
				if li.Type != html.ElementNode || li.DataAtom != atom.Li {
					continue
				}
				i++
				marker := "- "
				if c.DataAtom == atom.Ol {
					marker = fmt.Sprintf("%d. ", i)
				}
				if t := inline(li); t != "" {
					b.WriteString(marker + t + "\n")
				}
			}
			w.para(b.String())
		case atom.Pre:
			code := strings.TrimRight(textOf(c), "\n")
			if strings.TrimSpace(code) != "" {
				w.para("```\n" + code + "\n```")
			}
		case atom.Table:
			for tr := range descendants(c, atom.Tr) {
				var cells []string
				for td := tr.FirstChild; td != nil; td = td.NextSibling {
					if td.Type == html.ElementNode && (td.DataAtom == atom.Td || td.DataAtom == atom.Th) {
						cells = append(cells, inline(td))
					}
				}
				w.para(strings.Join(cells, " | "))
			}
		case atom.Br, atom.Hr, atom.Img:
		default:
			w.block(c)
		}
	}
}

func hasBlockChildren(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			switch c.DataAtom {
			case atom.P, atom.Div, atom.Ul, atom.Ol, atom.Pre, atom.Table, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				return true
			}
		}
	}
	return false
}

func descendants(n *html.Node, a atom.Atom) func(func(*html.Node) bool) {
	return func(yield func(*html.Node) bool) {
		var walk func(*html.Node) bool
		walk = func(n *html.Node) bool {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.DataAtom == a {
					if !yield(c) {
						return false
					}
					continue
				}
				if !walk(c) {
					return false
				}
			}
			return true
		}
		walk(n)
	}
}

// inline renders an element's text on one line, with links as Markdown and code in backticks.
func inline(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
			return
		case n.Type != html.ElementNode:
		case skipped[n.DataAtom]:
			return
		case n.DataAtom == atom.Br:
			b.WriteString(" ")
			return
		case n.DataAtom == atom.Code:
			b.WriteString("`" + textOf(n) + "`")
			return
		case n.DataAtom == atom.A && strings.HasPrefix(attr(n, "href"), "http"):
			t := strings.Join(strings.Fields(textOf(n)), " ")
			if t != "" {
				b.WriteString("[" + t + "](" + attr(n, "href") + ")")
			}
			return
		case n.DataAtom == atom.Strong || n.DataAtom == atom.B:
			b.WriteString("**" + strings.TrimSpace(textOf(n)) + "**")
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
