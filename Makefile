# Everyday commands; the README's quick start needs none of them.
GO ?= go

.PHONY: build test lint bench run demo e2e-latency load backtest check-rules dashboards

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
	$(GO) test -count=1 -run '^$$' -bench BenchmarkFetchToMetrics -benchtime=1x ./internal/e2e/ -latency.items=400

# 2,000 feeds every 5 minutes for 6 minutes (see BENCHMARKS.md).
load:
	$(GO) test -count=1 -run TestLoad -v ./internal/e2e/ -load.interval 5m -load.duration 6m -timeout 20m

# The calibration windows, their targets, invariance and plots (METHODOLOGY.md §7).
backtest:
	$(GO) run ./cmd/backtest --windows testdata/windows.yaml --plot.dir docs

check-rules:
	promtool check config deploy/prometheus/prometheus.yml
	promtool test rules deploy/prometheus/tests/tensionwatch.rules_test.yml
	amtool check-config deploy/alertmanager/alertmanager.yml

dashboards:
	$(GO) run ./grafana/gen

run:
	$(GO) run ./cmd/tensionwatch

# A real crisis on the page without the Internet: the first 13 hours of the
# PLA drills after the Pelosi visit (testdata/replay), at 600x.
demo:
	$(GO) run ./cmd/tensionwatch --replay testdata/replay --replay.speed 600
