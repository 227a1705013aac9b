package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/convtest"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/sandbox"
	"github.com/batonhq/baton/pii"
	"github.com/batonhq/baton/prompts"
)

const testHelp = `Usage: baton test SUBCOMMAND [flags]

  conversations DIR [--json] [--parallel N] [--llm] [--prompt-version NAME=N ...]
      plays every DIR/*.yaml conversation script through the real pipeline and bot, in a
      sandbox: scratch databases and queues on BATON_DATABASE_URL's server and BATON_REDIS_URL,
      replies captured in process (never sent to BATON_OUTBOUND_URL), all dropped at the end.
      --prompt-version (repeatable) plays them with version N of template NAME as saved in
      BATON_DATABASE_URL (0: the default), active or not: try a draft before activating it.
      Exits 1 if any script fails.
`

func cmdTest(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommands(ctx, "test", args, stdout, map[string]func(context.Context, []string, io.Writer) error{
		"conversations": testConversations,
	}, testHelp)
}

func testConversations(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("baton test conversations", flag.ContinueOnError)
	fs.SetOutput(stdout)
	asJSON := fs.Bool("json", false, `print {"scripts","passed","failed","failures"} as JSON`)
	parallel := fs.Int("parallel", 4, "scripts run at once, each on its own database clone")
	useLLM := fs.Bool("llm", false, "keep the configured LLM settings (default: the offline engine)")
	verbose := fs.Bool("verbose", false, "log Baton's warnings to stderr")
	pins := convtest.PromptPins{}
	fs.Var(pins, "prompt-version", "NAME=N: play the scripts with version N of prompt template NAME (repeatable)")
	if err := fs.Parse(kbArgs(args, "json", "llm", "verbose")); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"baton test conversations: give the folder of *.yaml scripts"}
	}
	if *parallel < 1 || *parallel > 32 {
		return usageError{"baton test conversations: --parallel must be 1..32"}
	}
	scripts, err := convtest.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	level := slog.LevelError + 4
	if *verbose {
		level = slog.LevelWarn
	}
	log := slog.New(pii.LogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	o := sandbox.Options{Getenv: config.Getenv, KeepLLM: *useLLM, Seed: true, Log: log}
	if len(pins) > 0 {
		bodies, err := pinnedPrompts(ctx, pins)
		if err != nil {
			return err
		}
		o.Prepare = func(ctx context.Context, a *app.App) error { return convtest.Activate(ctx, a.Prompts, bodies) }
	}
	sb, err := sandbox.New(ctx, o)
	if err != nil {
		return err
	}
	defer sb.Close()
	results := convtest.RunAll(ctx, scripts, *parallel, func(ctx context.Context, s *convtest.Script) (*sandbox.Baton, func(), error) {
		b, err := sb.Start(ctx, sandbox.StartOptions{Env: convtest.Env(s)})
		if err != nil {
			return nil, nil, err
		}
		return b, func() { b.Stop(); b.Sink.Close() }, nil
	})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return convtest.Write(stdout, results, *asJSON)
}

// pinnedPrompts reads the pinned prompt versions from the configured database.
func pinnedPrompts(ctx context.Context, pins convtest.PromptPins) (map[prompts.Name]string, error) {
	cfg, _, err := config.Load(flag.NewFlagSet("baton test conversations", flag.ContinueOnError), nil, config.Getenv)
	if err != nil {
		return nil, err
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL, nil)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	return pins.Bodies(ctx, postgres.New(pool, nil))
}
