# Baton — `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/baton
export BATON_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/baton?sslmode=disable
export BATON_REDIS_URL    ?= redis://127.0.0.1:6379/0

.PHONY: help setup build demo run test conversations lint fuzz bench eval answers soak

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: ## install/start PostgreSQL+pgvector, Redis, Chromium; create and migrate the baton database
	@bash scripts/setup.sh
	@$(GO) build -o $(BIN) ./cmd/baton
	@$(BIN) migrate >/dev/null

build: ## build bin/baton
	$(GO) build -o $(BIN) ./cmd/baton

demo: setup ## set up, seed demo data, run Baton and replay a scripted conversation
	$(BIN) demo

run: setup ## run Baton (HTTP + workers) with the configuration from the environment
	$(BIN) run

test: setup ## run every test against the real PostgreSQL and Redis (race detector on)
	$(GO) test -race -count=1 -timeout 30m ./...

conversations: setup ## play the conversation scripts of bot/testdata/conversations in a sandbox
	$(BIN) test conversations bot/testdata/conversations

lint: ## go vet, gofmt, staticcheck (pinned in go.mod's tool block) and go mod tidy
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) tool staticcheck ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }

fuzz: ## fuzz the webhook decoder for FUZZTIME (default 60s)
	$(GO) test ./internal/channel -run '^$$' -fuzz FuzzDecodeWebhook -fuzztime $${FUZZTIME:-60s}

bench: setup ## benchmark the pipeline (minimal bot, then the full bot) and retrieval
	BATON_BURST_WINDOW=0 $(BIN) bench pipeline --conversations 2000 --messages 5 --gap 500ms --json
	BATON_BURST_WINDOW=0 $(BIN) bench pipeline --bot full --conversations 500 --messages 3 --gap 500ms --json
	$(BIN) bench retrieval --chunks 100000 --json

eval: setup ## quality on the public datasets in ../shared/datasets
	$(BIN) eval retrieval --faqs ../shared/datasets/stackfaq/faqs.jsonl --queries ../shared/datasets/stackfaq/queries_dev.jsonl
	$(BIN) eval intents --train ../shared/datasets/clinc150/train.jsonl --test ../shared/datasets/clinc150/val.jsonl
	$(BIN) eval intents --train ../shared/datasets/banking77/train.csv --test-split 0.2
	$(BIN) eval sentiment --data ../shared/datasets/airline_sentiment/dev.csv
	$(BIN) eval sentiment --data ../shared/datasets/vader_sentiment/tweets_dev.jsonl
	$(BIN) eval details --data ../shared/datasets/restaurant8k/train.jsonl

answers: setup ## answer quality of the real pipeline on the evaluation help centre (dev questions)
	$(BIN) eval answers --kb internal/eval/testdata/helpcentre/articles --questions internal/eval/testdata/helpcentre/questions_dev.jsonl

soak: setup ## serve + two workers as processes for SOAK (default 30m) under load and faults; fails on a lost, doubled or out-of-order reply
	$(BIN) bench soak --duration $${SOAK:-30m} --json
