# confab — common tasks. The README's two commands are `make run` and `make test`.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run build web web-force generate test test-go test-node test-web test-amplify lint bench bench-check clean

## run: build the web client if it is missing, then serve on embedded defaults (http://localhost:8080)
run: web
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/confab serve --demo

## build: the confab binary (with the web client if built)
build: web
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/confab ./cmd/confab

## web: build web/dist unless it is already built
web:
	@if [ ! -f web/dist/index.html ]; then $(MAKE) web-force; fi

web-force:
	cd web && npm ci && npm run build

## generate: regenerate gqlgen code (graph/generated, graph/model)
generate:
	$(GO) generate ./...

## test: the whole suite: Go tests with -race, the graphql-ws client test, the browser tests, the AWS clients' test
test: test-go test-node test-web test-amplify

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

test-node:
	cd test/graphql-ws && npm ci --no-audit --no-fund && npm test

test-web: web
	cd web && npm test

## test-amplify: aws-amplify v6, the AWS SDK v3 and the AWS CLI against the built binary over HTTPS
test-amplify:
	cd test/amplify && npm ci --no-audit --no-fund && npm test

## lint: gofmt, go vet and staticcheck (pinned in go.mod as a tool, like gqlgen)
lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

## bench: Go benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-check: issue #19's shapes, short, each with its ratio to the ceiling and its target (about 3 min)
bench-check:
	bench/check.sh

clean:
	rm -rf bin web/dist/assets web/dist/index.html
