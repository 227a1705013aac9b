package knowledge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// Import formats.
const (
	FormatMarkdown = "markdown" // a folder of .md files, or one file; YAML front matter optional
	FormatCSV      = "csv"      // question,answer[,tags] with an optional header row
	FormatJSONL    = "jsonl"    // one article (or FAQ) per line
	FormatURL      = "url"      // one HTML page, or a sitemap.xml (index) of pages
)

// Import limits: a source beyond them is refused before anything is written.
const (
	MaxImportBytes = 32 << 20
	MaxImportItems = 50_000
	DefaultPages   = 200
	MaxPages       = 5000
)

// ImportOptions tune an import.
type ImportOptions struct {
	Format      string   `json:"format,omitempty"`      // "" = from the URL, extension or folder
	PageLimit   int      `json:"page_limit,omitempty"`  // URL imports: at most this many pages (default 200)
	Concurrency int      `json:"concurrency,omitempty"` // URL imports: parallel fetches (default 2)
	Status      string   `json:"status,omitempty"`      // status of imported articles without one (default published)
	Language    string   `json:"language,omitempty"`    // language of articles without one (default en)
	Tags        []string `json:"tags,omitempty"`        // added to every imported article
}

// ImportFailure is one item that could not be imported.
type ImportFailure struct {
	Item   string `json:"item"`
	Reason string `json:"reason"`
}

// ImportSummary counts an import's outcome.
type ImportSummary struct {
	Added     int             `json:"added"`
	Updated   int             `json:"updated"`
	Unchanged int             `json:"unchanged"`
	Failed    int             `json:"failed"`
	Failures  []ImportFailure `json:"failures"`
	Embedded  int             `json:"embedded"` // vectors computed (changed chunks only)
}

// Total is the number of items seen.
func (s ImportSummary) Total() int { return s.Added + s.Updated + s.Unchanged + s.Failed }

// Item is one article read from a source, or why it could not be read.
type Item struct {
	Source string // file, line or URL, for messages
	Input  ArticleInput
	Err    error
}

// Progress reports how many of total items are done.
type Progress func(done, total int)

// Import reads a source (a local path or an http(s) URL) and imports it: see ReadSource and
// ImportItems. An unreadable source fails before anything is written.
func (s *Service) Import(ctx context.Context, actorID int64, source string, o ImportOptions, progress Progress) (ImportSummary, error) {
	items, err := s.ReadSource(ctx, source, o)
	if err != nil {
		return ImportSummary{}, err
	}
	return s.ImportItems(ctx, actorID, "import "+source, items, o, progress)
}

// ReadSource parses a source into items. Whole-source problems (unknown format, unreadable,
// empty or too large, malformed CSV or JSON) are errors matching baton.ErrInvalid; problems of
// single items are in their Err.
func (s *Service) ReadSource(ctx context.Context, source string, o ImportOptions) ([]Item, error) {
	source = strings.TrimSpace(source)
	if source == "" {
		return nil, baton.Invalid("no import source given")
	}
	if isURL(source) || o.Format == FormatURL {
		return s.fetchURL(ctx, source, o)
	}
	if strings.Contains(source, "://") {
		return nil, baton.Invalid("cannot import %q: only http and https URLs are supported", source)
	}
	st, err := os.Stat(source)
	if err != nil {
		return nil, baton.Invalid("cannot read %s: %v", source, errors.Unwrap(err))
	}
	if st.IsDir() {
		if o.Format != "" && o.Format != FormatMarkdown {
			return nil, baton.Invalid("%s is a folder: only the markdown format imports folders", source)
		}
		// os.Root, not os.DirFS: DirFS follows symbolic links wherever they point, so a link in
		// the folder could publish any file the server can read (a key, /etc/passwd) to customers.
		root, err := os.OpenRoot(source)
		if err != nil {
			return nil, baton.Invalid("cannot read %s: %v", source, errors.Unwrap(err))
		}
		defer root.Close()
		return readMarkdownDir(root.FS(), source)
	}
	format := o.Format
	if format == "" {
		format = formatOf(source)
	}
	if format == "" {
		return nil, baton.Invalid("unknown format of %s: use .md, .csv, .jsonl, a folder or a URL, or give --format", source)
	}
	if st.Size() > MaxImportBytes {
		return nil, baton.Invalid("%s is %d bytes; the limit is %d", source, st.Size(), MaxImportBytes)
	}
	data, err := os.ReadFile(source)
	if err != nil {
		return nil, baton.Invalid("cannot read %s: %v", source, errors.Unwrap(err))
	}
	return ParseContent(filepath.Base(source), format, data)
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// formatOf guesses a file's format from its extension.
func formatOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown", ".mdown":
		return FormatMarkdown
	case ".csv":
		return FormatCSV
	case ".jsonl", ".ndjson":
		return FormatJSONL
	}
	return ""
}

// ParseContent parses uploaded or read content of a format (markdown, csv or jsonl).
func ParseContent(name, format string, data []byte) ([]Item, error) {
	if len(data) > MaxImportBytes {
		return nil, baton.Invalid("%s is %d bytes; the limit is %d", name, len(data), MaxImportBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, baton.Invalid("%s is empty", name)
	}
	if !utf8.Valid(data) {
		return nil, baton.Invalid("%s is not valid UTF-8", name)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var items []Item
	var err error
	switch format {
	case FormatMarkdown:
		items = []Item{parseMarkdownFile(name, strings.TrimSuffix(name, path.Ext(name)), data)}
	case FormatCSV:
		items, err = parseCSV(name, data)
	case FormatJSONL:
		items, err = parseJSONL(name, data)
	default:
		return nil, baton.Invalid("unknown import format %q (want markdown, csv, jsonl or url)", format)
	}
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, baton.Invalid("%s holds no articles", name)
	}
	if len(items) > MaxImportItems {
		return nil, baton.Invalid("%s holds %d articles; the limit is %d", name, len(items), MaxImportItems)
	}
	return items, nil
}

// readMarkdownDir reads every Markdown file under a folder; keys are the file paths without
// extension (unless front matter gives one), so a re-import of the folder updates in place.
// Symbolic links are followed only within the folder (fsys is an os.Root's, which refuses the
// rest): a link that leaves it, or points nowhere, is an item failure in the import report
// rather than a refusal of the whole folder, so one stray link does not block the others.
// Linked folders are not descended.
func readMarkdownDir(fsys fs.FS, root string) ([]Item, error) {
	var items []Item
	var size int64
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if formatOf(p) != FormatMarkdown {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if info, err = fs.Stat(fsys, p); err != nil {
				items = append(items, Item{Source: p, Err: baton.Invalid("a symbolic link that leaves the folder (or points nowhere) is not imported")})
				return nil
			}
			if !info.Mode().IsRegular() {
				return nil
			}
		}
		if size += info.Size(); size > MaxImportBytes {
			return baton.Invalid("%s holds more than %d bytes of Markdown", root, MaxImportBytes)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if !utf8.Valid(data) {
			items = append(items, Item{Source: p, Err: baton.Invalid("not valid UTF-8")})
			return nil
		}
		items = append(items, parseMarkdownFile(p, strings.TrimSuffix(p, path.Ext(p)), data))
		if len(items) > MaxImportItems {
			return baton.Invalid("%s holds more than %d articles", root, MaxImportItems)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, baton.ErrInvalid) {
			return nil, err
		}
		return nil, baton.Invalid("cannot read %s: %v", root, err)
	}
	if len(items) == 0 {
		return nil, baton.Invalid("%s holds no Markdown files (.md)", root)
	}
	return items, nil
}

// parseMarkdownFile reads one Markdown document: front matter, then the body. The title is
// front matter's, else the first "# " heading (removed from the body), else the file name.
func parseMarkdownFile(source, key string, data []byte) Item {
	fm, body, err := SplitFrontMatter(string(data))
	if err != nil {
		return Item{Source: source, Err: baton.Invalid("front matter: %v", err)}
	}
	in := fm
	in.Body = body
	if in.Title == "" {
		in.Title, in.Body = titleFromBody(body)
	}
	if in.Title == "" {
		base := path.Base(key)
		in.Title = strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(base))
	}
	if in.ExternalKey == "" {
		in.ExternalKey = "md:" + filepath.ToSlash(key)
	}
	return Item{Source: source, Input: in}
}

// titleFromBody takes a leading "# Title" line out of body.
func titleFromBody(body string) (string, string) {
	trimmed := strings.TrimLeft(body, "\n")
	line, rest, _ := strings.Cut(trimmed, "\n")
	if m := atxHeading.FindStringSubmatch(line); m != nil && len(m[1]) == 1 && strings.TrimSpace(m[2]) != "" {
		return strings.TrimSpace(m[2]), strings.TrimSpace(rest)
	}
	return "", body
}

// FAQ answers are joined into one body with a thematic break between them.
const answerSeparator = "\n\n---\n\n"

func faqKey(prefix, question string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.Join(strings.Fields(question), " "))))
	return prefix + hex.EncodeToString(sum[:8])
}

// parseCSV reads question,answer[,tags] rows. A first row naming its columns (question, answer,
// tags, external_key, language, url, title, body) is a header and may reorder them. Keys come
// from an external_key column, else from the question, so re-importing updates in place.
func parseCSV(name string, data []byte) ([]Item, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, baton.Invalid("%s is not valid CSV: %v", name, err)
	}
	cols := map[string]int{"question": 0, "answer": 1, "tags": 2}
	start := 0
	if len(rows) > 0 {
		header := map[string]int{}
		for i, c := range rows[0] {
			c = strings.ToLower(strings.TrimSpace(c))
			switch c {
			case "title":
				c = "question"
			case "body":
				c = "answer"
			case "id", "key":
				c = "external_key"
			case "source_url":
				c = "url"
			}
			header[c] = i
		}
		_, q := header["question"]
		_, a := header["answer"]
		if q && a {
			cols, start = header, 1
		}
	}
	get := func(row []string, col string) string {
		i, ok := cols[col]
		if !ok || i >= len(row) {
			return ""
		}
		return strings.TrimSpace(row[i])
	}
	var items []Item
	for i, row := range rows[start:] {
		src := fmt.Sprintf("%s:%d", name, i+start+1)
		q, a := get(row, "question"), get(row, "answer")
		if q == "" && a == "" && len(strings.Join(row, "")) == 0 {
			continue
		}
		if len(row) < 2 {
			return nil, baton.Invalid("%s: want question,answer[,tags] columns, got %d", src, len(row))
		}
		in := ArticleInput{Kind: KindFAQ, Title: q, Body: a, Tags: splitTags(get(row, "tags")),
			ExternalKey: get(row, "external_key"), Language: get(row, "language"), SourceURL: get(row, "url")}
		if in.ExternalKey == "" && q != "" {
			in.ExternalKey = faqKey("csv:", q)
		}
		it := Item{Source: src, Input: in}
		if a == "" {
			it.Err = baton.Invalid("the answer is empty")
		}
		items = append(items, it)
	}
	return items, nil
}

func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' })
}

// jsonlRow accepts the field names of common exports: Baton's own, FAQ datasets (question,
// answer or answers, faq_id) and generic (id, content, url).
type jsonlRow struct {
	ExternalKey string          `json:"external_key"`
	Key         string          `json:"key"`
	ID          json.RawMessage `json:"id"`
	FAQID       string          `json:"faq_id"`
	Title       string          `json:"title"`
	Question    string          `json:"question"`
	Body        string          `json:"body"`
	Markdown    string          `json:"markdown"`
	Content     string          `json:"content"`
	Answer      string          `json:"answer"`
	Answers     []string        `json:"answers"`
	Tags        json.RawMessage `json:"tags"`
	Language    string          `json:"language"`
	URL         string          `json:"url"`
	SourceURL   string          `json:"source_url"`
	Status      string          `json:"status"`
	Kind        string          `json:"kind"`
}

// parseJSONL reads one JSON object per line; blank lines are skipped. A line that is not a JSON
// object fails the whole file (it is probably not JSONL), naming the line.
func parseJSONL(name string, data []byte) ([]Item, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxBody*4)
	var items []Item
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		src := fmt.Sprintf("%s:%d", name, line)
		var r jsonlRow
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, baton.Invalid("%s: not a JSON object: %v", src, err)
		}
		items = append(items, jsonlItem(src, r))
	}
	if err := sc.Err(); err != nil {
		return nil, baton.Invalid("%s: line %d: %v", name, line+1, err)
	}
	return items, nil
}

func jsonlItem(src string, r jsonlRow) Item {
	in := ArticleInput{
		ExternalKey: first(r.ExternalKey, r.Key, r.FAQID, rawID(r.ID)),
		Title:       first(r.Title, r.Question),
		Body:        first(r.Body, r.Markdown, r.Content, r.Answer),
		Language:    r.Language,
		SourceURL:   first(r.SourceURL, r.URL),
		Status:      r.Status,
		Kind:        r.Kind,
	}
	if in.Body == "" && len(r.Answers) > 0 {
		var parts []string
		for _, a := range r.Answers {
			if a = strings.TrimSpace(a); a != "" {
				parts = append(parts, a)
			}
		}
		in.Body = strings.Join(parts, answerSeparator)
	}
	if in.Kind == "" && r.Question != "" && (r.Answer != "" || len(r.Answers) > 0) {
		in.Kind = KindFAQ
	}
	var tags []string
	if len(r.Tags) > 0 && json.Unmarshal(r.Tags, &tags) != nil {
		var s string
		if json.Unmarshal(r.Tags, &s) != nil {
			return Item{Source: src, Err: baton.Invalid("tags must be a list of strings or a comma-separated string")}
		}
		tags = splitTags(s)
	}
	in.Tags = tags
	if in.ExternalKey == "" && in.Title != "" {
		in.ExternalKey = faqKey("jsonl:", in.Title)
	}
	it := Item{Source: src, Input: in}
	if strings.TrimSpace(in.Body) == "" {
		it.Err = baton.Invalid("no body, content or answer")
	}
	return it
}

func rawID(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw) // a number
}

func first(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// ImportItems saves items by external key: new keys are added, changed articles updated (a
// new version), equal ones left alone; then the changed chunks are embedded. Each article is
// its own transaction, so a failure leaves no half-written article; item failures are counted
// with their reasons and the rest goes on. The error is for failures that stop the import
// (the database is gone, the context ended).
func (s *Service) ImportItems(ctx context.Context, actorID int64, note string, items []Item, o ImportOptions, progress Progress) (ImportSummary, error) {
	var sum ImportSummary
	fail := func(it Item, err error) {
		sum.Failed++
		sum.Failures = append(sum.Failures, ImportFailure{Item: it.Source, Reason: reason(err)})
	}
	seen := map[string]string{}
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if progress != nil {
			progress(i, len(items))
		}
		if it.Err != nil {
			fail(it, it.Err)
			continue
		}
		in := it.Input
		if in.Status == "" {
			in.Status = first(o.Status, StatusPublished)
		}
		if in.Language == "" {
			in.Language = o.Language
		}
		in.Tags = append(slices.Clone(in.Tags), o.Tags...)
		if prev, dup := seen[in.ExternalKey]; dup {
			fail(it, baton.Invalid("external key %q repeats %s", in.ExternalKey, prev))
			continue
		}
		seen[in.ExternalKey] = it.Source
		sv, err := s.prepare(in, actorID, note)
		if err != nil {
			fail(it, err)
			continue
		}
		_, res, err := s.store.UpsertArticle(ctx, sv)
		switch {
		case errors.Is(err, baton.ErrInvalid) || errors.Is(err, baton.ErrConflict):
			fail(it, err)
		case err != nil:
			return sum, fmt.Errorf("import %s: %w", it.Source, err)
		case res == Added:
			sum.Added++
		case res == Updated:
			sum.Updated++
		default:
			sum.Unchanged++
		}
	}
	if progress != nil {
		progress(len(items), len(items))
	}
	if sum.Added+sum.Updated > 0 {
		n, err := s.EmbedPending(ctx, nil)
		sum.Embedded = n
		if err != nil {
			return sum, fmt.Errorf("embed imported chunks: %w", err)
		}
	}
	return sum, nil
}

// reason is an error's message for an import summary.
func reason(err error) string {
	var be *baton.Error
	if errors.As(err, &be) {
		return be.Message
	}
	return err.Error()
}

// readAllLimit reads at most limit bytes from r and fails beyond that.
func readAllLimit(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}
