package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/postgres"
)

const customersHelp = `Usage: baton customers SUBCOMMAND ID

  export ID   prints everything held about customer ID as JSON
  erase ID    deletes customer ID and everything held about them, keeping anonymous counters;
              prints what was erased
`

func cmdCustomers(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommands(ctx, "customers", args, stdout, map[string]func(context.Context, []string, io.Writer) error{
		"export": customersExport, "erase": customersErase,
	}, customersHelp)
}

// openCustomer parses a customers command's flags and its one ID argument.
func openCustomer(ctx context.Context, name string, args []string, stdout io.Writer) (*postgres.DB, int64, func(), error) {
	cfg, rest, err := loadConfig(name, args, stdout, nil)
	if err != nil {
		return nil, 0, nil, err
	}
	if len(rest) != 1 {
		return nil, 0, nil, usageError{fmt.Sprintf("baton %s: want one customer id", name)}
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id <= 0 {
		return nil, 0, nil, usageError{fmt.Sprintf("baton %s: %q is not a customer id", name, rest[0])}
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, 0, nil, err
	}
	return postgres.New(pool, baton.SystemClock{}), id, pool.Close, nil
}

func customersExport(ctx context.Context, args []string, stdout io.Writer) error {
	db, id, closeFn, err := openCustomer(ctx, "customers export", args, stdout)
	if err != nil {
		return err
	}
	defer closeFn()
	doc, err := db.ExportCustomer(ctx, id)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return fmt.Errorf("decode export: %w", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func customersErase(ctx context.Context, args []string, stdout io.Writer) error {
	db, id, closeFn, err := openCustomer(ctx, "customers erase", args, stdout)
	if err != nil {
		return err
	}
	defer closeFn()
	e, err := db.EraseCustomer(ctx, 0, id)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(e)
}
