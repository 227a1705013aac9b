// Command baton is Baton's one binary: the HTTP server, the workers, and the admin, evaluation
// and benchmark tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/batonhq/baton/internal/config"
)

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "serve HTTP and run the workers in one process (the default for one machine)", cmdRun},
		{"serve", "serve HTTP: webhooks, agent and admin API, /livez, /readyz, /metrics", cmdServe},
		{"work", "run the workers: outbox relay, turns, deliveries, sweeper", cmdWork},
		{"migrate", "apply the embedded database migrations", cmdMigrate},
		{"users", "manage admins and agents: create, token, revoke, list", cmdUsers},
		{"demo", "migrate, seed demo data, run Baton, replay a scripted conversation", cmdDemo},
		{"intents", "intents: import, list", cmdIntents},
		{"kb", "knowledge base: import, export, status", cmdKB},
		{"ops", "failure handling: list, retry and discard dead letters", cmdOps},
		{"customers", "privacy: export or erase everything held about a customer", cmdCustomers},
		{"eval", "measure quality on datasets: intents, sentiment, details, retrieval", cmdEval},
		{"bench", "measure performance: pipeline, retrieval", cmdBench},
		{"test", "run conversation scripts end to end in a sandbox", cmdTest},
	}
}

const usageHead = `Baton — an AI assistant for asynchronous customer messaging.

Usage: baton COMMAND [flags]   (baton COMMAND --help for a command's flags)

Commands:
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nConfiguration (environment variables; each also a --flag of run, serve, work, demo):\n%s", config.Usage())
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "baton:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for usage errors, 1 otherwise.
func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main runs one command; tests drive it end to end.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout)
		}
	}
	usage(stderr)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// subcommands dispatches `baton NAME SUB ...`.
func subcommands(ctx context.Context, name string, args []string, stdout io.Writer, subs map[string]func(context.Context, []string, io.Writer) error, help string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, help)
		if len(args) == 0 {
			return usageError{fmt.Sprintf("baton %s: missing subcommand", name)}
		}
		return nil
	}
	fn, ok := subs[args[0]]
	if !ok {
		fmt.Fprint(stdout, help)
		return usageError{fmt.Sprintf("baton %s: unknown subcommand %q", name, args[0])}
	}
	return fn(ctx, args[1:], stdout)
}
