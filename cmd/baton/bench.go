package main

import (
	"context"
	"io"
)

const benchHelp = `Usage: baton bench SUBCOMMAND [flags]   (--json for machine-readable output)

  assign    --handoffs N --agents A --workers W                 auto-assignment: decision latency, capacity, double assignment
  pipeline  --conversations N --messages M --gap D --rate R   the real ingest → turn → delivery path
  retrieval --chunks N                                        hybrid retrieval latency and HNSW recall
  soak      --duration D                                      serve + two workers as processes under load and faults: lost, duplicate, out-of-order replies
`

func cmdBench(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommands(ctx, "bench", args, stdout, map[string]func(context.Context, []string, io.Writer) error{
		"assign":    benchAssign,
		"pipeline":  benchPipeline,
		"retrieval": benchRetrieval,
		"soak":      benchSoak,
	}, benchHelp)
}
