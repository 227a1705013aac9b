package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
	"github.com/batonhq/baton/internal/queue"
)

const opsHelp = `Usage: baton ops SUBCOMMAND [flags]

  failed  [--json] [--limit N]   lists dead letters: archived tasks, failed deliveries and
                                 turns that failed their last allowed attempt, with the error
  retry   --all | ID...          runs dead letters again (ids as failed lists them)
  discard --all | ID...          takes dead letters off the list
`

func cmdOps(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommands(ctx, "ops", args, stdout, map[string]func(context.Context, []string, io.Writer) error{
		"failed": opsFailed, "retry": opsRetry, "discard": opsDiscard,
	}, opsHelp)
}

// openDeadLetters parses a command's flags and connects to the database and Redis.
func openDeadLetters(ctx context.Context, name string, args []string, stdout io.Writer, extra func(*flag.FlagSet)) (*queue.DeadLetters, func(), []string, error) {
	cfg, rest, err := loadConfig(name, args, stdout, extra)
	if err != nil {
		return nil, nil, nil, err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	opt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		pool.Close()
		return nil, nil, nil, fmt.Errorf("BATON_REDIS_URL: %w", err)
	}
	rc := opt.MakeRedisClient().(redis.UniversalClient)
	if err := rc.Ping(ctx).Err(); err != nil {
		rc.Close()
		pool.Close()
		return nil, nil, nil, fmt.Errorf("connect to BATON_REDIS_URL: %w", err)
	}
	dl := &queue.DeadLetters{DB: postgres.New(pool, baton.SystemClock{}), Inspector: asynq.NewInspectorFromRedisClient(rc),
		Queues: queue.NewQueues(cfg.QueuePrefix), MaxAttempts: cfg.TurnMaxAttempts}
	return dl, func() { rc.Close(); pool.Close() }, rest, nil
}

func opsFailed(ctx context.Context, args []string, stdout io.Writer) error {
	var asJSON bool
	var limit int
	dl, closeFn, rest, err := openDeadLetters(ctx, "ops failed", args, stdout, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.IntVar(&limit, "limit", 100, "list at most this many (1..1000)")
	})
	if err != nil {
		return err
	}
	defer closeFn()
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("baton ops failed: unexpected argument %q", rest[0])}
	}
	if limit < 1 || limit > 1000 {
		return usageError{"baton ops failed: --limit must be 1..1000"}
	}
	list, err := dl.List(ctx, limit)
	if err != nil {
		return err
	}
	if asJSON {
		if list == nil {
			list = []baton.DeadLetter{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"failed": list})
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no dead letters")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tCONVERSATION\tATTEMPTS\tFAILED AT\tERROR")
	for _, d := range list {
		kind := d.Kind
		if d.HandedOff {
			kind += " (handed off)"
		} else if d.TaskType != "" {
			kind += " " + d.TaskType
		}
		conv := "-"
		if d.ConversationID != 0 {
			conv = fmt.Sprint(d.ConversationID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, kind, conv, d.Attempts, d.FailedAt.UTC().Format(time.RFC3339),
			oneLine(d.Error, 100))
	}
	return tw.Flush()
}

func opsRetry(ctx context.Context, args []string, stdout io.Writer) error {
	return opsBulk(ctx, "retry", args, stdout)
}

func opsDiscard(ctx context.Context, args []string, stdout io.Writer) error {
	return opsBulk(ctx, "discard", args, stdout)
}

func opsBulk(ctx context.Context, op string, args []string, stdout io.Writer) error {
	var all bool
	dl, closeFn, ids, err := openDeadLetters(ctx, "ops "+op, args, stdout, func(fs *flag.FlagSet) {
		fs.BoolVar(&all, "all", false, "every dead letter (retry skips turns handed to people)")
	})
	if err != nil {
		return err
	}
	defer closeFn()
	if all == (len(ids) > 0) {
		return usageError{fmt.Sprintf("baton ops %s: give the ids or --all", op)}
	}
	do := dl.DiscardMany
	if op == "retry" {
		do = dl.RetryMany
	}
	res, err := do(ctx, ids, all)
	if err != nil {
		return err
	}
	for _, id := range res.Done {
		fmt.Fprintf(stdout, "%s: %s\n", op, id)
	}
	bad := make([]string, 0, len(res.Failed))
	for id := range res.Failed {
		bad = append(bad, id)
	}
	sort.Strings(bad)
	past := map[string]string{"retry": "retried", "discard": "discarded"}[op]
	for _, id := range bad {
		fmt.Fprintf(stdout, "not %s: %s: %s\n", past, id, res.Failed[id])
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d dead letters not %s", len(bad), len(bad)+len(res.Done), past)
	}
	if len(res.Done) == 0 {
		fmt.Fprintln(stdout, "no dead letters")
	}
	return nil
}

// oneLine keeps a table cell on one line and short.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
