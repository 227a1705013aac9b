package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/batonhq/baton/intents"
	"github.com/batonhq/baton/intents/eval"
)

const intentsHelp = `Usage: baton intents SUBCOMMAND [flags]

  import [--dry-run] FILE   create or update intents from YAML, JSON or CSV (name,example);
                            the classifier is retrained first, so a file that cannot train is refused
  list                      list the intents and their example counts
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
	list, err := intents.ParseFile(filepath.Base(rest[0]), f)
	if err != nil {
		return err
	}
	cat, err := intents.NewCatalog(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	added, updated, err := cat.Save(ctx, 0, list, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d intents: %d added, %d updated; the classifier now knows %d intents\n",
		len(list), added, updated, len(cat.List()))
	return nil
}

func intentsList(ctx context.Context, args []string, stdout io.Writer) error {
	db, _, err := openDB(ctx, "intents list", args, stdout, nil)
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	list, err := db.ListIntents(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no intents stored: Baton uses its web-shop defaults (baton intents import FILE to set your own)")
		list = intents.DefaultIntents()
	}
	for _, in := range list {
		fmt.Fprintf(stdout, "%-20s %-20s %3d examples  needs %v\n", in.Name, in.Action, len(in.Examples), in.RequiredDetails)
	}
	return nil
}
