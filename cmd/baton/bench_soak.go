package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/soak"
)

func benchSoak(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("baton bench soak", flag.ContinueOnError)
	fs.SetOutput(stdout)
	duration := fs.Duration("duration", time.Minute, "length of the load phase (a drain of at most 60s follows)")
	rate := fs.Float64("rate", 8, "messages per second")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration < 10*time.Second || *rate <= 0 {
		return usageError{"bench soak: --duration must be at least 10s and --rate positive"}
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the baton binary: %w", err)
	}
	rep, err := soak.Run(ctx, soak.Options{Binary: bin, Duration: *duration, Rate: *rate, Getenv: config.Getenv})
	if err != nil {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "messages %d, answered %d, lost %d, duplicate replies %d, out of order %d, max lag %d ms, max RSS %.0f MB\nfaults: %v\n",
			rep.Messages, rep.Answered, rep.Lost, rep.DuplicateReplies, rep.OutOfOrder, rep.MaxLagMS, rep.RSSMBMax, rep.Faults)
	}
	if !rep.OK() {
		return fmt.Errorf("soak: targets missed (lost %d, duplicate %d, out of order %d)", rep.Lost, rep.DuplicateReplies, rep.OutOfOrder)
	}
	return nil
}
