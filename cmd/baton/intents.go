package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/intents/eval"
)

const intentsHelp = `Usage: baton intents SUBCOMMAND [flags]

  import [--dry-run] FILE   create or update intents from YAML, JSON or CSV (name,example), and
                            custom detail types under a detail_types key; the classifier is
                            retrained first, so a file that cannot train is refused. The built-in
                            intents (greeting, thanks, goodbye, are_you_a_bot, talk_to_human,
                            complaint) stay, whatever the file holds
  list                      list the intents the classifier knows, with their example counts,
                            and the custom detail types
`

func cmdIntents(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommands(ctx, "intents", args, stdout, map[string]func(context.Context, []string, io.Writer) error{
		"import": intentsImport, "list": intentsList,
	}, intentsHelp)
}

func intentsImport(ctx context.Context, args []string, stdout io.Writer) error {
	var dry bool
	db, rest, err := openDB(ctx, "intents import", args, stdout, func(fs *flag.FlagSet) {
		fs.BoolVar(&dry, "dry-run", false, "parse, validate and train, but write nothing")
	})
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	if len(rest) != 1 {
		return usageError{"baton intents import: want exactly one FILE"}
	}
	if dry {
		return eval.ImportCheck(ctx, rest, stdout)
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return fmt.Errorf("open %s: %w", rest[0], err)
	}
	defer f.Close()
	cat, err := intents.NewCatalog(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	// The file's intents may require detail types stored earlier as well as its own.
	stored := func(name string) bool { _, ok := cat.Model().DetailType(name); return ok }
	imp, err := intents.ParseImport(filepath.Base(rest[0]), f, stored)
	if err != nil {
		return err
	}
	res, err := cat.Import(ctx, 0, imp)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d intents: %d added, %d updated; the classifier now knows %d intents\n",
		len(imp.Intents), res.Added, res.Updated, res.Known)
	if res.DetailTypes > 0 {
		fmt.Fprintf(stdout, "imported %d detail types\n", res.DetailTypes)
	}
	fmt.Fprintf(stdout, "the classifier knows %d intents (%d built-in)\n", res.Known, res.Builtins)
	return nil
}

func intentsList(ctx context.Context, args []string, stdout io.Writer) error {
	db, _, err := openDB(ctx, "intents list", args, stdout, nil)
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	stored, err := db.ListIntents(ctx)
	if err != nil {
		return err
	}
	cat, err := intents.NewCatalog(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	if len(stored) == 0 {
		fmt.Fprintln(stdout, "no intents stored: Baton uses its web-shop defaults (baton intents import FILE to set your own)")
	}
	// What the classifier knows: the stored intents, then the built-ins the admins did not define.
	list := cat.List()
	for _, in := range list {
		fmt.Fprintf(stdout, "%-20s %-20s %3d examples  needs %v\n", in.Name, in.Action, len(in.Examples), in.RequiredDetails)
	}
	fmt.Fprintf(stdout, "the classifier knows %d intents (%d built-in)\n", len(list), cat.Builtins())
	for _, d := range cat.Model().CustomDetailTypes() {
		how := "pattern " + d.Pattern
		if len(d.Values) > 0 {
			how = "values " + strings.Join(d.Values, ", ")
		}
		fmt.Fprintf(stdout, "detail type %-20s %s\n", d.Name, how)
	}
	return nil
}
