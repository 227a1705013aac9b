package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/llm"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/knowledge"
)

const kbHelp = `Usage: baton kb SUBCOMMAND [flags]

  import PATH|URL [--format markdown|csv|jsonl|url] [--page-limit N] [--fetch-concurrency N]
                  [--status published|draft] [--language CODE] [--tag TAG]...
         imports a folder of Markdown (front matter optional), a .md, .csv (question,answer[,tags])
         or .jsonl file, one HTML page or a sitemap.xml; re-importing updates in place and
         re-embeds only changed chunks. Exits 1 if any item failed.
  export DIR      writes every article as Markdown with front matter (imports back unchanged)
  status          embedding models (active, building) and their progress
  reindex         builds the configured embedding model now (instead of in the workers) and
                  switches search to it when complete
`

func cmdKB(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommands(ctx, "kb", args, stdout, map[string]func(context.Context, []string, io.Writer) error{
		"import": kbImport, "export": kbExport, "status": kbStatus, "reindex": kbReindex,
	}, kbHelp)
}

// openKnowledge is the CLI's knowledge base: config, database, service, no workers.
func openKnowledge(ctx context.Context, name string, args []string, stdout io.Writer, extra func(*flag.FlagSet)) (*knowledge.Service, *postgres.DB, []string, error) {
	cfg, rest, err := loadConfig(name, args, stdout, extra)
	if err != nil {
		return nil, nil, nil, err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	db := postgres.New(pool, baton.SystemClock{})
	var client *llm.Client
	if cfg.LLMConfigured() {
		client = llm.New(llm.Config{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey, ChatModel: cfg.ChatModel,
			EmbeddingModel: cfg.EmbeddingModel, EmbeddingDim: cfg.EmbeddingDim, Timeout: cfg.LLMTimeout})
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := app.NewKnowledge(cfg, db, client, nil, nil, log)
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return svc, db, rest, nil
}

// kbArgs moves flags after positional arguments to the front, so that
// `baton kb import docs/ --format markdown` works as well as the flags-first form.
func kbArgs(args []string, boolFlags ...string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !slices.Contains(boolFlags, name) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(flags, pos...)
}

func kbImport(ctx context.Context, args []string, stdout io.Writer) error {
	var o knowledge.ImportOptions
	var tags listFlag
	svc, db, rest, err := openKnowledge(ctx, "kb import", kbArgs(args), stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&o.Format, "format", "", "markdown, csv, jsonl or url (default: from the extension, folder or URL)")
		fs.IntVar(&o.PageLimit, "page-limit", knowledge.DefaultPages, "URL imports: at most this many pages of a sitemap")
		fs.IntVar(&o.Concurrency, "fetch-concurrency", 2, "URL imports: parallel page fetches (1..8)")
		fs.StringVar(&o.Status, "status", knowledge.StatusPublished, "status of imported articles without one: published or draft")
		fs.StringVar(&o.Language, "language", "en", "language of imported articles without one")
		fs.Var(&tags, "tag", "tag added to every imported article (repeatable)")
	})
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	if len(rest) != 1 {
		return usageError{"baton kb import: give exactly one PATH or URL"}
	}
	switch {
	case o.Format != "" && o.Format != knowledge.FormatMarkdown && o.Format != knowledge.FormatCSV &&
		o.Format != knowledge.FormatJSONL && o.Format != knowledge.FormatURL:
		return usageError{fmt.Sprintf("baton kb import: unknown --format %q (want markdown, csv, jsonl or url)", o.Format)}
	case o.PageLimit < 1 || o.PageLimit > knowledge.MaxPages:
		return usageError{fmt.Sprintf("baton kb import: --page-limit must be 1..%d", knowledge.MaxPages)}
	case o.Concurrency < 1 || o.Concurrency > 8:
		return usageError{"baton kb import: --fetch-concurrency must be 1..8"}
	case o.Status != knowledge.StatusPublished && o.Status != knowledge.StatusDraft:
		return usageError{"baton kb import: --status must be published or draft"}
	}
	o.Tags = tags
	if err := kbEnsureModel(ctx, svc); err != nil {
		return err
	}
	bar := newKBProgress(stdout)
	items, err := svc.ReadSource(ctx, rest[0], o)
	if err != nil {
		if errors.Is(err, baton.ErrInvalid) {
			return errors.New(kbReason(err))
		}
		return err
	}
	sum, err := svc.ImportItems(ctx, 0, "import "+rest[0], items, o, bar.update)
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %s: %d added, %d updated, %d unchanged, %d failed; %d chunks embedded\n",
		rest[0], sum.Added, sum.Updated, sum.Unchanged, sum.Failed, sum.Embedded)
	for _, f := range sum.Failures {
		fmt.Fprintf(stdout, "  failed %s: %s\n", f.Item, f.Reason)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d items failed to import", sum.Failed, sum.Total())
	}
	return nil
}

// kbEnsureModel registers the configured embedding model when the knowledge base has none.
// It never starts a model switch: the CLI may run with another configuration than the
// server, and switching is the server's (or `baton kb reindex`'s) decision.
func kbEnsureModel(ctx context.Context, svc *knowledge.Service) error {
	ms, err := svc.Status(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Status == knowledge.ModelActive {
			return nil
		}
	}
	_, err = svc.Start(ctx)
	return err
}

func kbReason(err error) string {
	var be *baton.Error
	if errors.As(err, &be) {
		return be.Message
	}
	return err.Error()
}

// kbProgress draws import progress on a terminal and stays silent otherwise (logs, pipes).
type kbProgress struct {
	w    io.Writer
	tty  bool
	last time.Time
	drew bool
}

func newKBProgress(w io.Writer) *kbProgress {
	f, ok := w.(*os.File)
	tty := false
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &kbProgress{w: w, tty: tty}
}

func (b *kbProgress) update(done, total int) {
	if !b.tty || total == 0 || (time.Since(b.last) < 100*time.Millisecond && done < total) {
		return
	}
	b.last = time.Now()
	const width = 30
	filled := width * done / total
	fmt.Fprintf(b.w, "\r[%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
	b.drew = true
}

func (b *kbProgress) done() {
	if b.drew {
		fmt.Fprint(b.w, "\r\033[K")
	}
}

func kbExport(ctx context.Context, args []string, stdout io.Writer) error {
	svc, db, rest, err := openKnowledge(ctx, "kb export", args, stdout, nil)
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	if len(rest) != 1 {
		return usageError{"baton kb export: give the folder to write to"}
	}
	n, err := svc.Export(ctx, rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d articles to %s\n", n, rest[0])
	return nil
}

func kbStatus(ctx context.Context, args []string, stdout io.Writer) error {
	svc, db, _, err := openKnowledge(ctx, "kb status", args, stdout, nil)
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	ms, err := svc.Status(ctx)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		fmt.Fprintln(stdout, "no embedding model yet: import articles or start baton to register one")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMODEL\tDIM\tSTATUS\tEMBEDDED\tPROGRESS")
	for _, m := range ms {
		progress := "-"
		if m.Status != knowledge.ModelRetired {
			pct := 100.0
			if m.Chunks > 0 {
				pct = 100 * float64(m.Embedded) / float64(m.Chunks)
			}
			progress = fmt.Sprintf("%d/%d (%.0f%%)", m.Embedded, m.Chunks, pct)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%s\n", m.ID, m.Model, m.Dim, m.Status, m.Embedded, progress)
	}
	return tw.Flush()
}

func kbReindex(ctx context.Context, args []string, stdout io.Writer) error {
	svc, db, _, err := openKnowledge(ctx, "kb reindex", args, stdout, nil)
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	m, err := svc.Start(ctx)
	if err != nil {
		return err
	}
	if m.Status == knowledge.ModelActive {
		n, err := svc.EmbedPending(ctx, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s (%d dimensions) is active; embedded %d pending chunks\n", m.Model, m.Dim, n)
		return nil
	}
	fmt.Fprintf(stdout, "building %s (%d dimensions) beside the active model…\n", m.Model, m.Dim)
	for {
		done, err := svc.BuildModel(ctx, m.ID, 10*time.Second)
		if err != nil {
			return err
		}
		if done {
			fmt.Fprintf(stdout, "search now uses %s\n", m.Model)
			return nil
		}
		if ms, err := svc.Status(ctx); err == nil {
			for _, x := range ms {
				if x.ID == m.ID {
					fmt.Fprintf(stdout, "  %d/%d chunks\n", x.Embedded, x.Chunks)
				}
			}
		}
	}
}
