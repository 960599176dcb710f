.PHONY: run test test-race lint build

run:
	go run ./cmd/claimsd serve

test:
	go test ./...

test-race:
	go test -race -count=1 ./...

lint:
	gofmt -l $$(git ls-files '*.go')
	go vet ./...

build:
	CGO_ENABLED=0 go build -o bin/claimsd ./cmd/claimsd
