package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

const usersHelp = `Usage: baton users SUBCOMMAND [flags]

  create --role admin|agent --email EMAIL [--name NAME] [--team TEAM]... [--capacity N]
         creates a user and prints their API token once
  token  --email EMAIL      issues an additional API token
  revoke --email EMAIL      revokes every token and session of the user
  list                      lists users
`

// openDB parses a tool command's flags and connects to the database.
func openDB(ctx context.Context, name string, args []string, stdout io.Writer, extra func(*flag.FlagSet)) (*postgres.DB, []string, error) {
	cfg, rest, err := loadConfig(name, args, stdout, extra)
	if err != nil {
		return nil, nil, err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	return postgres.New(pool, baton.SystemClock{}), rest, nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func cmdUsers(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommands(ctx, "users", args, stdout, map[string]func(context.Context, []string, io.Writer) error{
		"create": usersCreate, "token": usersToken, "revoke": usersRevoke, "list": usersList,
	}, usersHelp)
}

func usersCreate(ctx context.Context, args []string, stdout io.Writer) error {
	var role, email, name string
	var capacity int
	var teams listFlag
	db, _, err := openDB(ctx, "users create", args, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "admin or agent (required)")
		fs.StringVar(&email, "email", "", "the user's email (required)")
		fs.StringVar(&name, "name", "", "display name")
		fs.Var(&teams, "team", "team name (repeatable); created if missing")
		fs.IntVar(&capacity, "capacity", 5, "conversations an agent works at once")
	})
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	if role == "" || email == "" {
		return usageError{"baton users create: --role and --email are required"}
	}
	u, token, err := db.CreateUser(ctx, 0, baton.NewUser{Email: email, Name: name, Role: baton.Role(role), Capacity: capacity, Teams: teams})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s %s (id %d)\ntoken: %s\n(store it now: it is shown only once)\n", u.Role, u.Email, u.ID, token)
	return nil
}

func usersToken(ctx context.Context, args []string, stdout io.Writer) error {
	var email string
	db, _, err := openDB(ctx, "users token", args, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
	})
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	if email == "" {
		return usageError{"baton users token: --email is required"}
	}
	token, err := db.IssueToken(ctx, email)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token: %s\n", token)
	return nil
}

func usersRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	var email string
	db, _, err := openDB(ctx, "users revoke", args, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
	})
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	if email == "" {
		return usageError{"baton users revoke: --email is required"}
	}
	n, err := db.RevokeTokens(ctx, 0, email)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked %d token(s) and all sessions of %s\n", n, email)
	return nil
}

func usersList(ctx context.Context, args []string, stdout io.Writer) error {
	db, _, err := openDB(ctx, "users list", args, stdout, nil)
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	us, err := db.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tSTATUS\tCAPACITY\tTEAMS")
	for _, u := range us {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%v\n", u.ID, u.Email, u.Role, u.Status, u.Capacity, u.TeamIDs)
	}
	return tw.Flush()
}

// openPool connects to the database and checks it answers, for the CLI's one-shot commands.
func openPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := postgres.Open(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to BATON_DATABASE_URL: %w", err)
	}
	return pool, nil
}
