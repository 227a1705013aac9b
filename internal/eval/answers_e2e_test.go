package eval_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/dbtest"
	"github.com/batonhq/baton/internal/eval"
)

func TestAnswersThroughThePipeline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	article := "---\nexternal_key: t:gift-wrap\ntitle: Gift wrapping\n---\nWe gift wrap any order for €3. Choose gift wrapping at checkout; a handwritten card is included.\n"
	if err := os.WriteFile(filepath.Join(dir, "gift-wrap.md"), []byte(article), 0o600); err != nil {
		t.Fatal(err)
	}
	gold := "t:gift-wrap"
	getenv := func(k string) string {
		return map[string]string{"BATON_DATABASE_URL": dbtest.AdminURL(), "BATON_REDIS_URL": dbtest.RedisURL(),
			"BATON_LOG_LEVEL": "error"}[k]
	}
	as, err := eval.Answers(context.Background(), eval.AnswersOptions{KB: dir, Getenv: getenv, Questions: []eval.Question{
		{QID: "q1", Text: "do you offer gift wrapping?", Gold: &gold, MustContain: []string{"€3"}},
		{QID: "q2", Text: "Do you sponsor curling teams in Saskatchewan?"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !as[0].Replied || !as[0].Right() {
		t.Errorf("q1: %+v; want a right, cited answer", as[0])
	}
	if !as[1].Replied || len(as[1].Cites) != 0 || strings.Contains(as[1].Reply, "€3") {
		t.Errorf("q2: %+v; want an uncited reply", as[1])
	}
}
