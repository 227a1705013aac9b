package eval

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/batonhq/baton/intents"
)

// ImportCheck runs `baton intents import FILE` without writing: it parses and validates the
// file, trains a classifier on it to prove it is usable, and prints what would be imported.
func ImportCheck(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("intents import", flag.ContinueOnError)
	fs.SetOutput(stdout)
	asJSON := fs.Bool("json", false, "print the parsed intents as JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: baton intents import [--json] FILE   (YAML, JSON, or CSV name,example)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("intents import: want exactly one FILE")
	}
	name := fs.Arg(0)
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("intents import: %w", err)
	}
	defer f.Close()
	list, err := intents.ParseFile(name, f)
	if err != nil {
		return fmt.Errorf("intents import: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	clf, err := intents.Train(list, intents.Options{OutOfScope: intents.DefaultOutOfScope()})
	if err != nil {
		return fmt.Errorf("intents import: %w", err)
	}
	if *asJSON {
		return writeJSON(stdout, list)
	}
	t := newTable(stdout)
	t.row("intent", "examples", "action", "required details", "team")
	total := 0
	for _, in := range list {
		total += len(in.Examples)
		t.row(in.Name, fmt.Sprint(len(in.Examples)), string(in.Action), strings.Join(in.RequiredDetails, ","), in.Team)
	}
	if err := t.flush(); err != nil {
		return err
	}
	st := clf.Stats()
	fmt.Fprintf(stdout, "would import %d intents, %d examples (dry run: nothing written); classifier trained in %s, out-of-scope threshold %.3f\n",
		len(list), total, st.TrainTime.Round(1e6), st.Threshold)
	return nil
}
