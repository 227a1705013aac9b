package main

import (
	"context"
	"io"

	"github.com/batonhq/baton/intents/eval"
)

// evalIntents runs `baton eval intents`: intent accuracy, out-of-scope recall and precision,
// calibration, training time and latency on CLINC150 JSONL or Banking77 CSV.
func evalIntents(ctx context.Context, args []string, stdout io.Writer) error {
	return eval.Intents(ctx, args, stdout)
}

// evalSentiment runs `baton eval sentiment` on airline CSV or VADER JSONL.
func evalSentiment(ctx context.Context, args []string, stdout io.Writer) error {
	return eval.Sentiment(ctx, args, stdout)
}

// evalDetails runs `baton eval details` on Restaurants-8K-style JSONL.
func evalDetails(ctx context.Context, args []string, stdout io.Writer) error {
	return eval.Details(ctx, args, stdout)
}
