package knowledge

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// frontMatter is the YAML header of an exported or imported Markdown file. Aliases are read,
// never written.
type frontMatter struct {
	Title       string `yaml:"title,omitempty"`
	ExternalKey string `yaml:"external_key,omitempty"`
	Key         string `yaml:"key,omitempty"`
	ID          string `yaml:"id,omitempty"`
	Kind        string `yaml:"kind,omitempty"`
	Tags        any    `yaml:"tags,omitempty"`
	Language    string `yaml:"language,omitempty"`
	Lang        string `yaml:"lang,omitempty"`
	SourceURL   string `yaml:"source_url,omitempty"`
	URL         string `yaml:"url,omitempty"`
	Status      string `yaml:"status,omitempty"`
}

// SplitFrontMatter separates a YAML front matter block ("---" lines around it, at the very
// start) from a Markdown document. A document without one has an empty header.
func SplitFrontMatter(doc string) (ArticleInput, string, error) {
	doc = strings.ReplaceAll(doc, "\r\n", "\n")
	if !strings.HasPrefix(doc, "---\n") {
		return ArticleInput{}, doc, nil
	}
	rest := doc[4:]
	end := strings.Index(rest, "\n---\n")
	var header, body string
	switch {
	case end >= 0:
		header, body = rest[:end], rest[end+5:]
	case strings.HasSuffix(rest, "\n---"):
		header = strings.TrimSuffix(rest, "\n---")
	case strings.HasPrefix(rest, "---\n") || rest == "---":
		body = strings.TrimPrefix(strings.TrimPrefix(rest, "---"), "\n")
	default:
		return ArticleInput{}, "", fmt.Errorf("no closing --- line")
	}
	var fm frontMatter
	if err := yaml.Unmarshal([]byte(header), &fm); err != nil {
		return ArticleInput{}, "", fmt.Errorf("invalid YAML: %v", err)
	}
	in := ArticleInput{
		Title:       fm.Title,
		ExternalKey: first(fm.ExternalKey, fm.Key, fm.ID),
		Kind:        fm.Kind,
		Language:    first(fm.Language, fm.Lang),
		SourceURL:   first(fm.SourceURL, fm.URL),
		Status:      fm.Status,
	}
	switch t := fm.Tags.(type) {
	case nil:
	case string:
		in.Tags = splitTags(t)
	case []any:
		for _, x := range t {
			in.Tags = append(in.Tags, fmt.Sprint(x))
		}
	default:
		return ArticleInput{}, "", fmt.Errorf("tags must be a list or a comma-separated string")
	}
	return in, body, nil
}

// RenderMarkdown writes an article as Markdown with YAML front matter; importing the result
// yields the same article.
func RenderMarkdown(in ArticleInput) ([]byte, error) {
	fm := struct {
		Title       string   `yaml:"title"`
		ExternalKey string   `yaml:"external_key"`
		Kind        string   `yaml:"kind"`
		Tags        []string `yaml:"tags,flow"`
		Language    string   `yaml:"language"`
		SourceURL   string   `yaml:"source_url,omitempty"`
		Status      string   `yaml:"status"`
	}{in.Title, in.ExternalKey, in.Kind, in.Tags, in.Language, in.SourceURL, in.Status}
	if fm.Tags == nil {
		fm.Tags = []string{}
	}
	var b bytes.Buffer
	b.WriteString("---\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(fm); err != nil {
		return nil, fmt.Errorf("encode front matter: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode front matter: %w", err)
	}
	b.WriteString("---\n\n")
	b.WriteString(in.Body)
	b.WriteString("\n")
	return b.Bytes(), nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// fileName derives a file name from an external key: lower-case letters, digits and dashes.
func fileName(key string) string {
	n := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(key), "-"), "-")
	if len(n) > 80 {
		n = n[:80]
	}
	if n == "" {
		n = "article"
	}
	return n
}

// Export writes every article (drafts too) into dir as Markdown with front matter, one file
// per article, and returns how many it wrote. The folder imports back to the same articles.
func (s *Service) Export(ctx context.Context, dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("create export folder: %w", err)
	}
	used := map[string]bool{}
	n := 0
	err := s.store.AllArticles(ctx, func(a Article) error {
		b, err := RenderMarkdown(inputOf(a))
		if err != nil {
			return err
		}
		name := fileName(a.ExternalKey)
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s-%d", fileName(a.ExternalKey), i)
		}
		used[name] = true
		if err := os.WriteFile(filepath.Join(dir, name+".md"), b, 0o644); err != nil {
			return fmt.Errorf("write article %d: %w", a.ID, err)
		}
		n++
		return nil
	})
	return n, err
}
