// Command scorer reads every partition of the events topic, keeps the decaying
// tension index and serves it as Prometheus metrics and a JSON API.
//
//	scorer run --kafka.brokers host:9092 [--web.listen-address :8080]
package main

import (
	"context"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/version"
)

const usage = `Usage: scorer <command> [flags]

Commands:
  run        consume the events topic and serve the index (/metrics, /api/v1/index, /api/v1/events, /api/v1/chains)

Backtests (replaying dated news items on simulated time) are the command
"backtest" (go run ./cmd/backtest --help).

Run "scorer <command> --help" for the command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return app.Dispatch("scorer", usage, args, stdout, stderr, map[string]func([]string) error{
		"run": func(a []string) error { return runScorer(ctx, a, stderr) },
	})
}

func runScorer(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("scorer run", flag.ContinueOnError)
	app.Usage(fs, stderr, "scorer run --kafka.brokers HOST:PORT[,...] [flags]",
		"Reads every partition of the events topic (each replica computes the whole gauge),\n"+
			"replaying on start the window the index needs (index.window of the taxonomy),\n"+
			"drops duplicate event IDs, and serves the index.")
	listen := fs.String("web.listen-address", ":8080", "address for /metrics, /api/v1/*, /healthz and /readyz")
	var (
		lc app.LogConfig
		kc app.KafkaConfig
		tc app.TaxonomyConfig
		wc app.WebConfig
	)
	wc.RegisterFlags(fs)
	lc.RegisterFlags(fs)
	kc.RegisterFlags(fs, "localhost:9092", "comma-separated Kafka bootstrap brokers")
	tc.RegisterFlags(fs)
	if err := app.ParseFlags(fs, args); err != nil {
		return err
	}
	log, err := lc.Logger(stderr)
	if err != nil {
		return err
	}
	tx, _, err := tc.Load()
	if err != nil {
		return err
	}
	bc, err := kc.Bus(kc.BrokerList())
	if err != nil {
		return err
	}
	bc.Retention = index.Retention(tx)
	if err := wc.Load(); err != nil {
		return err
	}
	ln, err := app.Listen(*listen)
	if err != nil {
		return err
	}
	base := app.BaseURL(ln, &wc)
	log.Info("scorer starting", "watch_page", base+"/", "version", version.String(), "methodology_version", tx.Version,
		"gauge", base+"/api/v1/index", "metrics", base+"/metrics", "brokers", bc.Brokers, "topic", bc.Topic)
	return app.RunScorerService(ctx, app.ScorerServiceOptions{Bus: bc, Taxonomy: tx, Listener: ln, Log: log, Web: &wc})
}
