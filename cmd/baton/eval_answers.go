package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/eval"
)

// evalAnswers runs `baton eval answers`: a help centre and questions through the real pipeline
// in a sandbox; the logic is in internal/eval.
func evalAnswers(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("baton eval answers", flag.ContinueOnError)
	fs.SetOutput(stdout)
	kb := fs.String("kb", "", "folder of Markdown articles with front matter (imported as baton kb import does)")
	questions := fs.String("questions", "", `JSONL questions: {"qid","text","gold": external_key or null,"must_contain": [...]}`)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	verbose := fs.Bool("verbose", false, "list every question: qid, right/wrong, citations, reply")
	parallel := fs.Int("parallel", 8, "questions in flight")
	useLLM := fs.Bool("llm", false, "keep the configured LLM settings (default: the offline engine)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kb == "" || *questions == "" || fs.NArg() > 0 {
		return usageError{"baton eval answers: want --kb DIR --questions FILE"}
	}
	if *parallel < 1 || *parallel > 64 {
		return usageError{"baton eval answers: --parallel must be 1..64"}
	}
	qs, err := eval.ReadQuestions(*questions)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	answers, err := eval.Answers(ctx, eval.AnswersOptions{KB: *kb, Questions: qs, Parallel: *parallel,
		KeepLLM: *useLLM, Getenv: config.Getenv, Log: log})
	if err != nil {
		return fmt.Errorf("eval answers: %w", err)
	}
	return eval.Write(stdout, answers, *asJSON, *verbose)
}
