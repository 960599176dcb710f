.PHONY: run test test-race lint build bench bench-smoke bench-backtest fuzz chaos

run:
	go run ./cmd/claimsd serve

test:
	go test ./...

test-race:
	go test -race -count=1 ./...

# golangci-lint as .ci/run pins it (go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0).
lint:
	gofmt -l $$(git ls-files '*.go')
	go vet ./...
	golangci-lint run ./...

build:
	CGO_ENABLED=0 go build -o bin/claimsd ./cmd/claimsd

# The full benchmark: open loop at 50-400 claims/s, closed loop, the SQL
# floor and the database cost per claim, against the machine's PostgreSQL
# (DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres).
bench:
	go run ./cmd/claimsbench -db "$$DATABASE_URL" -warmup 30s -duration 20s -floor

# A few seconds of it, with no thresholds, to keep it working.
bench-smoke:
	go run ./cmd/claimsbench -db "$$DATABASE_URL" -warmup 0s -duration 2s -rates 20 -concurrency 4 -check

# Policy backtests over a year of a million decided claims, and the open
# loop without and during one (docs/benchmarks.md, "Policy backtests").
bench-backtest:
	go run ./cmd/claimsbench -db "$$DATABASE_URL" -warmup 0s -duration 10s -rates 50,100 -backtest 1000000 -check

# Each fuzz target for FUZZTIME (default 30s, or a count such as 500000x);
# needs DATABASE_URL as TEST_DATABASE_URL for the API's. On Go 1.26 a
# duration can end in a spurious "context deadline exceeded" with no
# failing input (go.dev/issue/75804); a count cannot.
FUZZTIME ?= 30s
fuzz:
	go test -run '^$$' -fuzz '^FuzzMoneyArithmetic$$' -fuzztime $(FUZZTIME) ./domain/money/
	go test -run '^$$' -fuzz '^FuzzParseCurrency$$' -fuzztime $(FUZZTIME) ./domain/money/
	go test -run '^$$' -fuzz '^FuzzDecide$$' -fuzztime $(FUZZTIME) ./domain/decision/
	TEST_DATABASE_URL="$$DATABASE_URL" go test -run '^$$' -fuzz '^FuzzWriteEndpoints$$' -fuzztime $(FUZZTIME) ./adapters/httpapi/
	TEST_DATABASE_URL="$$DATABASE_URL" go test -run '^$$' -fuzz '^FuzzDecodeFacts$$' -fuzztime $(FUZZTIME) ./adapters/pgstore/

# The fault suite: real processes killed, the database cut off and
# restarted, the payment provider failing; then the money is checked.
# Needs DATABASE_URL (as TEST_DATABASE_URL); CHAOS_SEED repeats a run.
chaos:
	TEST_DATABASE_URL="$$DATABASE_URL" go test -tags chaos -run '^TestChaos' -count=1 -v -timeout 30m ./cmd/claimsd/
