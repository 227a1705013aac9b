package main

import (
	"context"
	"io"
)

const evalHelp = `Usage: baton eval SUBCOMMAND [flags]   (--json for machine-readable output)

  intents    --train FILE [--dev FILE] --test FILE   intent accuracy, out-of-scope, calibration
  sentiment  --data FILE                             sentiment accuracy / macro-F1 / Pearson r
  details    --data FILE                             detail extraction span P/R/F1
  retrieval  --faqs FILE --queries FILE              FAQ retrieval Recall@1/5, MRR@10 (fts, vector, hybrid)
  answers    --kb DIR --questions FILE [--verbose]   answers of the real pipeline in a sandbox: right, cited,
                                                     no answer, asked for a detail, latency
`

func cmdEval(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommands(ctx, "eval", args, stdout, map[string]func(context.Context, []string, io.Writer) error{
		"intents":   evalIntents,
		"sentiment": evalSentiment,
		"details":   evalDetails,
		"retrieval": evalRetrieval,
		"answers":   evalAnswers,
	}, evalHelp)
}
