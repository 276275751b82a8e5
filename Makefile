# Everyday commands; the README's quick start needs none of them.
GO ?= go

.PHONY: build test lint bench run e2e-latency check-rules

build:
	$(GO) build ./...

test:
	$(GO) test -race -count=1 ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Fetch-to-/metrics latency over a few hundred items (see BENCHMARKS.md).
e2e-latency:
	$(GO) test -count=1 -run '^TestFetchToMetricsLatency$$' -v ./internal/e2e/ -latency.items=400

run:
	$(GO) run ./cmd/tensionwatch
