package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/internal/postgres"
)

// migrateStatus prints `baton migrate --status`: every migration, applied or pending.
func migrateStatus(ctx context.Context, conn *pgx.Conn, stdout io.Writer, asJSON bool) error {
	states, err := postgres.MigrationStatus(ctx, conn)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"migrations": states})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tAPPLIED AT\tMIGRATION")
	pending, unknown := 0, 0
	for _, s := range states {
		state, at := "applied", ""
		if s.AppliedAt != nil {
			at = s.AppliedAt.UTC().Format(time.RFC3339)
		}
		switch {
		case s.Unknown:
			state = "unknown"
			unknown++
		case s.AppliedAt == nil:
			state = "pending"
			pending++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", state, at, s.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d applied, %d pending", len(states)-pending-unknown, pending)
	if unknown > 0 {
		fmt.Fprintf(stdout, ", %d applied by a newer build", unknown)
	}
	fmt.Fprintln(stdout)
	return nil
}
