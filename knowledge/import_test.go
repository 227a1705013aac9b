package knowledge_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/knowledge"
)

// site is a help centre with a sitemap index, a sitemap and pages, served by a local server
// that the fake network (see fakeNet) makes reachable as the public host help.test.
type site struct {
	*httptest.Server
	URL      string // http://help.test: a public name, not the local server's address
	net      *fakeNet
	requests atomic.Int64
}

// options routes the knowledge base's URL imports through the site's fake network.
func (s *site) options(o *knowledge.Options) { s.net.install(o) }

func newSite(t testing.TB) *site {
	t.Helper()
	s := &site{URL: "http://help.test"}
	page := func(title, body string) string {
		return `<!doctype html><html lang="en"><head><title>` + title + ` | Shop Help</title>
<script>var tracking = "ignore me";</script><style>body{color:red}</style></head>
<body><header><nav><a href="/">Home</a> <a href="/contact">Contact us</a></nav></header>
<main><h1>` + title + `</h1>` + body + `</main>
<aside>Popular articles: cookie settings</aside><footer>© Shop. Imprint.</footer></body></html>`
	}
	pages := map[string]string{
		"/help/shipping": page("Shipping costs", `<p>Standard delivery costs <strong>€4.95</strong>.</p>
<h2>Express</h2><p>Express arrives the next day and costs €9.95.</p><ul><li>Order before 2 pm</li><li>Weekdays only</li></ul>`),
		"/help/returns": page("Returns", `<p>Return unworn items within 30 days.</p><h2>Refunds</h2><p>Refunds take 5 working days.</p>`),
		"/help/empty":   page("Nothing here", ``),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		switch r.URL.Path {
		case "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>%s/sitemap-help.xml</loc></sitemap></sitemapindex>`, s.URL)
		case "/sitemap-help.xml":
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>%[1]s/help/shipping</loc></url><url><loc>%[1]s/help/returns</loc></url>
<url><loc>%[1]s/help/missing</loc></url><url><loc>%[1]s/help/empty</loc></url>
<url><loc>https://elsewhere.example/help/x</loc></url></urlset>`, s.URL)
		case "/broken.xml":
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprint(w, `<urlset><url><loc>unclosed`)
		case "/image.png":
			w.Header().Set("Content-Type", "image/png")
			fmt.Fprint(w, "\x89PNG")
		default:
			body, ok := pages[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		}
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	s.net = newFakeNet(t, s.Server)
	return s
}

func TestImportFormats(t *testing.T) {
	t.Parallel()
	st := newSite(t)
	folder := writeFiles(t, map[string]string{
		"shipping.md":       "---\ntitle: Shipping times\ntags: [shipping, Delivery]\nexternal_key: ship-1\n---\n\n## Standard\nTwo to four days.\n",
		"guides/returns.md": "# Returns and refunds\n\nReturn within 30 days.\n\n## Refunds\nFive working days.\n",
		"notes.txt":         "not markdown: skipped",
		".hidden/secret.md": "# Secret\n\nnot imported",
	})
	files := writeFiles(t, map[string]string{
		"faq.csv": "question,answer,tags\nHow long does shipping take?,Two to four working days.,shipping\n" +
			"\"Can I pay with PayPal?\",\"Yes, and with cards.\",payment;checkout\n",
		"noheader.csv": "Do you ship abroad?,Yes within the EU.\n",
		"faqs.jsonl": `{"faq_id": "faq001", "question": "How do I delete my account?", "answers": ["Write to us.", "Or use settings."]}` + "\n\n" +
			`{"external_key": "art-7", "title": "Gift cards", "body": "Valid for three years.", "tags": "payment, gifts", "status": "draft"}` + "\n" +
			`{"title": "No body here"}` + "\n",
		"single.md": "Plain text without a heading or front matter.",
	})
	tests := []struct {
		name       string
		source     string
		opts       knowledge.ImportOptions
		wantAdded  int
		wantFailed []string // substrings of failure reasons, in order
		wantTitles []string
		check      func(t *testing.T, b bundle)
	}{
		{
			name: "markdown folder", source: folder, wantAdded: 2,
			wantTitles: []string{"Returns and refunds", "Shipping times"},
			check: func(t *testing.T, b bundle) {
				if n := b.count(t, `SELECT count(*) FROM kb_articles WHERE external_key = 'ship-1' AND tags = '{delivery,shipping}'`); n != 1 {
					t.Error("front matter key and tags not kept (tags lower-cased and sorted)")
				}
				if n := b.count(t, `SELECT count(*) FROM kb_articles WHERE external_key = 'md:guides/returns' AND body NOT LIKE '# Returns%'`); n != 1 {
					t.Error("a folder file's key is its path; its leading H1 becomes the title")
				}
			},
		},
		{
			name: "csv with a header", source: filepath.Join(files, "faq.csv"), wantAdded: 2,
			wantTitles: []string{"Can I pay with PayPal?", "How long does shipping take?"},
			check: func(t *testing.T, b bundle) {
				if n := b.count(t, `SELECT count(*) FROM kb_articles WHERE kind = 'faq' AND tags = '{checkout,payment}'`); n != 1 {
					t.Error("CSV rows are FAQs with their tags")
				}
			},
		},
		{name: "csv without a header", source: filepath.Join(files, "noheader.csv"), wantAdded: 1, wantTitles: []string{"Do you ship abroad?"}},
		{
			name: "jsonl", source: filepath.Join(files, "faqs.jsonl"), wantAdded: 2, wantFailed: []string{"no body"},
			wantTitles: []string{"Gift cards", "How do I delete my account?"},
			check: func(t *testing.T, b bundle) {
				if n := b.count(t, `SELECT count(*) FROM kb_chunks c JOIN kb_articles a ON a.id = c.article_id WHERE a.external_key = 'faq001'`); n != 2 {
					t.Errorf("a FAQ with two answers has %d chunks, want 2 (one per answer)", n)
				}
				if n := b.count(t, `SELECT count(*) FROM kb_articles WHERE external_key = 'art-7' AND status = 'draft'`); n != 1 {
					t.Error("a row's own status wins over the import default")
				}
			},
		},
		{name: "one markdown file", source: filepath.Join(files, "single.md"), wantAdded: 1, wantTitles: []string{"single"}},
		{
			name: "one html page", source: st.URL + "/help/shipping", wantAdded: 1, wantTitles: []string{"Shipping costs"},
			check: func(t *testing.T, b bundle) {
				as, err := b.svc.ListArticles(t.Context(), knowledge.ArticleFilter{})
				if err != nil || len(as) != 1 {
					t.Fatalf("list: %v %v", as, err)
				}
				a, _ := b.svc.Article(t.Context(), as[0].ID)
				for _, want := range []string{"€4.95", "## Express", "- Order before 2 pm"} {
					if !strings.Contains(a.Body, want) {
						t.Errorf("main text %q lacks %q", a.Body, want)
					}
				}
				for _, junk := range []string{"ignore me", "Contact us", "cookie settings", "Imprint", "color:red"} {
					if strings.Contains(a.Body, junk) {
						t.Errorf("main text keeps page chrome %q: %q", junk, a.Body)
					}
				}
				if a.SourceURL != st.URL+"/help/shipping" || a.ExternalKey != "url:"+st.URL+"/help/shipping" {
					t.Errorf("source URL %q, key %q: want the page URL", a.SourceURL, a.ExternalKey)
				}
			},
		},
		{
			name: "sitemap index", source: st.URL + "/sitemap.xml", wantAdded: 2,
			wantFailed: []string{"HTTP 404", "no main text"},
			wantTitles: []string{"Returns", "Shipping costs"},
		},
		{
			name: "sitemap with a page limit", source: st.URL + "/sitemap.xml", opts: knowledge.ImportOptions{PageLimit: 1},
			wantAdded: 1, wantTitles: []string{"Shipping costs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, st.options)
			sum, err := b.svc.Import(t.Context(), 0, tt.source, tt.opts, nil)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if sum.Added != tt.wantAdded || sum.Failed != len(tt.wantFailed) {
				t.Fatalf("summary %+v, want %d added and %d failed", sum, tt.wantAdded, len(tt.wantFailed))
			}
			for i, f := range tt.wantFailed {
				if !strings.Contains(sum.Failures[i].Reason, f) {
					t.Errorf("failure %d = %+v, want a reason with %q", i, sum.Failures[i], f)
				}
			}
			as, err := b.svc.ListArticles(t.Context(), knowledge.ArticleFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, a := range as {
				titles = append(titles, a.Title)
			}
			slices.Sort(titles)
			if !slices.Equal(titles, tt.wantTitles) {
				t.Errorf("titles %q, want %q", titles, tt.wantTitles)
			}
			if sum.Embedded == 0 || b.count(t, `SELECT count(*) FROM kb_chunks`) != sum.Embedded {
				t.Errorf("embedded %d chunks of %d", sum.Embedded, b.count(t, `SELECT count(*) FROM kb_chunks`))
			}
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
}

func TestReimportUpdatesInPlaceAndReembedsOnlyChangedChunks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	files := map[string]string{
		"a.md": "# Shipping\n\n## Standard\nTwo to four days.\n\n## Express\nNext day.\n\n## Pick-up\nCollect it yourself.\n",
		"b.md": "# Returns\n\nThirty days.\n",
	}
	dir := writeFiles(t, files)
	first, err := b.svc.Import(t.Context(), 0, dir, knowledge.ImportOptions{}, nil)
	if err != nil || first.Added != 2 {
		t.Fatalf("first import: %+v, %v", first, err)
	}
	chunks := b.count(t, `SELECT count(*) FROM kb_chunks`)
	if first.Embedded != chunks || b.emb.count() != chunks {
		t.Fatalf("first import embedded %d (embedder saw %d) of %d chunks", first.Embedded, b.emb.count(), chunks)
	}
	var expressID int64
	if err := b.db.Pool.QueryRow(t.Context(), `SELECT id FROM kb_chunks WHERE text = 'Next day.'`).Scan(&expressID); err != nil {
		t.Fatal(err)
	}

	// The same source again: nothing changes, nothing is embedded.
	b.emb.reset()
	again, err := b.svc.Import(t.Context(), 0, dir, knowledge.ImportOptions{}, nil)
	if err != nil || again.Unchanged != 2 || again.Added+again.Updated+again.Failed != 0 || b.emb.count() != 0 {
		t.Fatalf("re-import: %+v (embedded %d texts), %v; want 2 unchanged, nothing embedded", again, b.emb.count(), err)
	}

	// One section edited: one article updated, one chunk embedded, the others keep their rows.
	if err := os.WriteFile(filepath.Join(dir, "a.md"), []byte(strings.Replace(files["a.md"], "Collect it yourself.", "Collect it from 4,000 points.", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	b.emb.reset()
	edit, err := b.svc.Import(t.Context(), 0, dir, knowledge.ImportOptions{}, nil)
	if err != nil || edit.Updated != 1 || edit.Unchanged != 1 {
		t.Fatalf("import after edit: %+v, %v", edit, err)
	}
	if b.emb.count() != 1 || !strings.Contains(b.emb.texts[0], "4,000 points") {
		t.Errorf("embedded %q, want only the edited chunk", b.emb.texts)
	}
	if n := b.count(t, `SELECT count(*) FROM kb_chunks WHERE id = $1`, expressID); n != 1 {
		t.Error("an unchanged chunk was rewritten (it lost its id)")
	}
	if n := b.count(t, `SELECT count(*) FROM kb_articles`); n != 2 {
		t.Errorf("%d articles after three imports, want 2", n)
	}
	if n := b.count(t, `SELECT count(*) FROM kb_article_versions`); n != 3 {
		t.Errorf("%d versions, want 3 (two created, one updated)", n)
	}
	if n := b.count(t, `SELECT count(*) FROM kb_emb_1`); n != b.count(t, `SELECT count(*) FROM kb_chunks`) {
		t.Errorf("%d vectors for %d chunks", n, b.count(t, `SELECT count(*) FROM kb_chunks`))
	}
}

func TestBadImportsFailClearlyAndWriteNothing(t *testing.T) {
	t.Parallel()
	st := newSite(t)
	files := writeFiles(t, map[string]string{
		"empty.csv":    "",
		"blank.jsonl":  "\n\n  \n",
		"broken.jsonl": `{"title": "ok", "body": "fine"}` + "\n" + `{"title": "broken"` + "\n",
		"bad.csv":      "question,answer\n\"unterminated,quote\n",
		"notes.txt":    "plain",
		"latin1.md":    "caf\xe9",
		"empty/.keep":  "",
	})
	huge := filepath.Join(t.TempDir(), "huge.jsonl")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(knowledge.MaxImportBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name, source string
		opts         knowledge.ImportOptions
		want         string
	}{
		{"missing file", filepath.Join(files, "nope.md"), knowledge.ImportOptions{}, "cannot read"},
		{"unknown extension", filepath.Join(files, "notes.txt"), knowledge.ImportOptions{}, "unknown format"},
		{"unknown format flag", filepath.Join(files, "notes.txt"), knowledge.ImportOptions{Format: "docx"}, "unknown import format"},
		{"empty file", filepath.Join(files, "empty.csv"), knowledge.ImportOptions{}, "is empty"},
		{"only blank lines", filepath.Join(files, "blank.jsonl"), knowledge.ImportOptions{}, "is empty"},
		{"malformed json line", filepath.Join(files, "broken.jsonl"), knowledge.ImportOptions{}, "broken.jsonl:2"},
		{"malformed csv", filepath.Join(files, "bad.csv"), knowledge.ImportOptions{}, "not valid CSV"},
		{"not utf-8", filepath.Join(files, "latin1.md"), knowledge.ImportOptions{}, "not valid UTF-8"},
		{"huge file", huge, knowledge.ImportOptions{}, "the limit is"},
		{"folder without markdown", filepath.Join(files, "empty"), knowledge.ImportOptions{}, "no Markdown files"},
		{"unsupported scheme", "ftp://example.com/kb", knowledge.ImportOptions{}, "only http and https"},
		{"unknown host", "http://unknown.test/help", knowledge.ImportOptions{}, "cannot fetch"},
		{"url not found", st.URL + "/nope", knowledge.ImportOptions{}, "HTTP 404"},
		{"url not html", st.URL + "/image.png", knowledge.ImportOptions{}, "neither an HTML page nor a sitemap"},
		{"broken sitemap", st.URL + "/broken.xml", knowledge.ImportOptions{}, "not valid XML"},
	}
	b := setup(t, st.options)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.svc.Import(t.Context(), 0, tt.source, tt.opts, nil)
			if err == nil || !errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("import %s: error %v, want an invalid-input error mentioning %q", tt.source, err, tt.want)
			}
		})
	}
	if n := b.count(t, `SELECT count(*) FROM kb_articles`) + b.count(t, `SELECT count(*) FROM kb_chunks`); n != 0 {
		t.Errorf("failed imports wrote %d rows", n)
	}
}

func TestInvalidArticlesAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name string
		in   knowledge.ArticleInput
		want string
	}{
		{"no title", knowledge.ArticleInput{Body: "text"}, "title is required"},
		{"bad status", knowledge.ArticleInput{Title: "T", Status: "live"}, "status must be"},
		{"bad kind", knowledge.ArticleInput{Title: "T", Kind: "video"}, "kind must be"},
		{"bad language", knowledge.ArticleInput{Title: "T", Language: "English!"}, "language must be"},
		{"bad url", knowledge.ArticleInput{Title: "T", SourceURL: "javascript:alert(1)"}, "source_url"},
		{"huge body", knowledge.ArticleInput{Title: "T", Body: strings.Repeat("x", knowledge.MaxBody+1)}, "body is longer"},
		{"too many tags", knowledge.ArticleInput{Title: "T", Tags: strings.Fields(strings.Repeat("t ", 0) + "a b c d e f g h i j k l m n o p q r s t u v")}, "at most 20 tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.svc.CreateArticle(t.Context(), 0, tt.in)
			if !errors.Is(err, baton.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want invalid with %q", err, tt.want)
			}
		})
	}
	if n := b.count(t, `SELECT count(*) FROM kb_articles`); n != 0 {
		t.Errorf("%d invalid articles stored", n)
	}
}

func TestExportImportsBackUnchanged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	faq, err := b.svc.CreateArticle(t.Context(), 0, knowledge.ArticleInput{Title: "Is it safe?", Kind: knowledge.KindFAQ,
		Body: "Yes.\n\n---\n\nVery: \"quoted\" and: colons.", Tags: []string{"x"}, SourceURL: "https://help.example/safe"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	n, err := b.svc.Export(t.Context(), dir)
	if err != nil || n != len(knowledge.DemoArticles())+1 {
		t.Fatalf("export: %d, %v", n, err)
	}
	// Into the same knowledge base: every article is unchanged.
	sum, err := b.svc.Import(t.Context(), 0, dir, knowledge.ImportOptions{}, nil)
	if err != nil || sum.Unchanged != n || sum.Added+sum.Updated+sum.Failed != 0 {
		t.Fatalf("re-import of the export: %+v, %v", sum, err)
	}
	// Into a new one, then exported again: the same files.
	other := setup(t)
	if sum, err := other.svc.Import(t.Context(), 0, dir, knowledge.ImportOptions{}, nil); err != nil || sum.Added != n {
		t.Fatalf("import into a new knowledge base: %+v, %v", sum, err)
	}
	dir2 := t.TempDir()
	if _, err := other.svc.Export(t.Context(), dir2); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		a, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		c, err := os.ReadFile(filepath.Join(dir2, e.Name()))
		if err != nil || string(a) != string(c) {
			t.Errorf("%s differs after a round trip:\n%s\n---\n%s", e.Name(), a, c)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "kb-"+fmt.Sprint(faq.ID)+".md"))
	if !strings.Contains(string(got), "kind: faq") || !strings.Contains(string(got), "source_url: https://help.example/safe") {
		t.Errorf("exported FAQ lacks its front matter:\n%s", got)
	}
}

func TestFolderImportDoesNotFollowLinksOutOfTheFolder(t *testing.T) {
	t.Parallel()
	outside := writeFiles(t, map[string]string{
		"secret.md":     "# Internal\n\nThe root password is hunter2.\n",
		"dir/other.md":  "# Other\n\nAlso outside.\n",
		"dir/nested.md": "# Nested\n\nOutside too.\n",
	})
	folder := writeFiles(t, map[string]string{
		"inside.md":      "# Inside\n\nPublic text.\n",
		"guides/deep.md": "# Deep\n\nMore public text.\n",
	})
	links := map[string]string{
		"leak.md":        filepath.Join(outside, "secret.md"),              // absolute, out
		"guides/up.md":   "../../" + filepath.Base(outside) + "/secret.md", // relative, out
		"alias.md":       "inside.md",                                      // within: followed
		"guides/back.md": "../inside.md",                                   // within: followed
		"linked-dir":     filepath.Join(outside, "dir"),                    // a folder out: not descended
		"dangling.md":    "missing.md",
	}
	// The relative link climbs from folder/guides to the temp dirs' common parent.
	if filepath.Dir(folder) != filepath.Dir(outside) {
		links["guides/up.md"] = filepath.Join(outside, "secret.md")
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(folder, name)); err != nil {
			t.Fatal(err)
		}
	}
	b := setup(t)
	sum, err := b.svc.Import(t.Context(), 0, folder, knowledge.ImportOptions{}, nil)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if sum.Added != 4 || sum.Failed != 3 {
		t.Fatalf("summary %+v; want 4 added (two files, two links within) and 3 links failed", sum)
	}
	var failed []string
	for _, f := range sum.Failures {
		failed = append(failed, f.Item)
		if !strings.Contains(f.Reason, "symbolic link") {
			t.Errorf("failure %+v; want it to name the symbolic link", f)
		}
	}
	slices.Sort(failed)
	if want := []string{"dangling.md", "guides/up.md", "leak.md"}; !slices.Equal(failed, want) {
		t.Errorf("failed items %q; want %q", failed, want)
	}
	if n := b.count(t, `SELECT count(*) FROM kb_articles WHERE body LIKE '%hunter2%' OR body LIKE '%outside%' OR body LIKE '%Outside%'`); n != 0 {
		t.Errorf("%d articles hold text from outside the folder", n)
	}
}
