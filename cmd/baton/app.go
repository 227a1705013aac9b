package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/batonhq/baton/pii"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/internal/app"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/postgres"
)

// loadConfig parses a command's flags over the environment.
func loadConfig(name string, args []string, stdout io.Writer, extra func(fs *flag.FlagSet)) (*config.Config, []string, error) {
	fs := flag.NewFlagSet("baton "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: baton %s [flags]\n\nFlags (each overrides its environment variable):\n", name)
		fs.PrintDefaults()
	}
	cfg, rest, err := config.Load(fs, args, config.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("configuration: %w", err)
	}
	return cfg, rest, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level, _ := config.ParseLevel(cfg.LogLevel)
	// Customer PII (emails, phone and card numbers) is masked in every log line.
	return slog.New(pii.LogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

func startCommon(ctx context.Context, name string, args []string, stdout io.Writer) (*app.App, error) {
	cfg, _, err := loadConfig(name, args, stdout, nil)
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg, os.Stderr)
	log.Info("starting", "command", name, "config", cfg)
	if !cfg.LLMConfigured() {
		log.Info("no LLM configured: using the offline engine")
	}
	return app.New(ctx, cfg, log, app.Options{})
}

func cmdServe(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := startCommon(ctx, "serve", args, stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", a.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on BATON_HTTP_ADDR %s: %w", a.Config.HTTPAddr, err)
	}
	return a.Serve(ctx, ln)
}

func cmdWork(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := startCommon(ctx, "work", args, stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Work(ctx)
}

func cmdRun(ctx context.Context, args []string, stdout io.Writer) error {
	a, err := startCommon(ctx, "run", args, stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", a.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on BATON_HTTP_ADDR %s: %w", a.Config.HTTPAddr, err)
	}
	return a.Run(ctx, ln)
}

func cmdMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	var status, asJSON bool
	cfg, _, err := loadConfig("migrate", args, stdout, func(fs *flag.FlagSet) {
		fs.BoolVar(&status, "status", false, "list applied and pending migrations; apply nothing")
		fs.BoolVar(&asJSON, "json", false, "with --status: print JSON")
	})
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connect to BATON_DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	if status {
		return migrateStatus(ctx, conn, stdout, asJSON)
	}
	applied, err := postgres.Migrate(ctx, conn, nil)
	for _, name := range applied {
		fmt.Fprintln(stdout, "applied", name)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	if _, err := postgres.SetDefaultTeam(ctx, conn, cfg.DefaultTeam, time.Now()); err != nil {
		return err
	}
	return nil
}
