// Command collector polls RSS/Atom feeds, classifies their items into the
// event taxonomy and produces the relevant ones to Kafka.
//
//	collector run --feeds.file feeds.yaml --kafka.brokers host:9092
//	collector classify [--explain] < items.jsonl
//	collector check --feeds.file feeds.yaml
//	collector train [--cv 5] --out model.bin
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/classifycmd"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/poller"
)

const usage = `Usage: collector <command> [flags]

Commands:
  run        poll the feeds file and produce relevant events to Kafka
  classify   classify JSON lines from stdin (fields title, summary) to stdout
  check      validate a feeds file and a taxonomy file, then exit
  train      train the classifier's model on labelled sets; --cv measures it first

Run "collector <command> --help" for the command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return app.Dispatch("collector", usage, args, stdout, stderr, map[string]func([]string) error{
		"run":      func(a []string) error { return runCollector(ctx, a, stderr) },
		"classify": func(a []string) error { return runClassify(ctx, a, stdin, stdout, stderr) },
		"check":    func(a []string) error { return runCheck(a, stdout, stderr) },
		"train":    func(a []string) error { return runTrain(a, stdout, stderr) },
	})
}

func runCollector(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("collector run", flag.ContinueOnError)
	app.Usage(fs, stderr, "collector run --feeds.file FILE [flags]",
		"Polls every feed of FILE on its interval (conditional GET, per-host limits, backoff),\n"+
			"classifies each new item and produces the relevant ones to the events topic.\n"+
			"An item is remembered as delivered (in --data.dir) only after Kafka acknowledged it.")
	var (
		feedsFile = fs.String("feeds.file", "", "feeds file (YAML), required")
		dataDir   = fs.String("data.dir", "./data", "directory for the collector's state (delivered item IDs)")
		listen    = fs.String("web.listen-address", ":9101", "address for /metrics, /healthz and /readyz")
		shard     = fs.String("feeds.shard", "", "poll only shard i of n of the feeds, as i/n (e.g. 2/3); a feed's shard is a hash of its id")
		lc        app.LogConfig
		kc        app.KafkaConfig
		tc        app.TaxonomyConfig
		fc        app.FetchConfig
		wc        app.WebConfig
	)
	wc.RegisterFlags(fs)
	lc.RegisterFlags(fs)
	kc.RegisterFlags(fs, "localhost:9092", "comma-separated Kafka bootstrap brokers")
	tc.RegisterFlags(fs)
	fc.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := lc.Logger(stderr)
	if err != nil {
		return err
	}
	if *feedsFile == "" {
		return errors.New("--feeds.file is required")
	}
	feeds, err := feedlist.Load(*feedsFile)
	if err != nil {
		return err
	}
	si, sn, err := feedlist.ParseShard(*shard)
	if err != nil {
		return err
	}
	feeds = &feedlist.List{AllowPrivateAddresses: feeds.AllowPrivateAddresses, Feeds: feeds.Shard(si, sn)}
	_, clf, err := tc.Load()
	if err != nil {
		return err
	}
	bc, err := kc.Bus(kc.BrokerList())
	if err != nil {
		return err
	}
	if err := wc.Load(); err != nil {
		return err
	}
	ln, err := app.Listen(*listen)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewBuildInfoCollector())
	mux := app.HealthMux(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), func() bool { return true })

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srvErr := make(chan error, 1)
	go func() { srvErr <- app.Serve(ctx, ln, mux, log, &wc) }()
	err = app.RunCollector(ctx, app.CollectorOptions{
		Feeds: feeds, Classifier: clf, Bus: bc, DataDir: *dataDir,
		Fetch: fc.Fetcher(), Poll: poller.Config{}, Registry: reg, Log: log,
	})
	cancel()
	err = errors.Join(err, <-srvErr)
	log.Info("collector stopped")
	return err
}

func runClassify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("collector classify", flag.ContinueOnError)
	app.Usage(fs, stderr, "collector classify [--explain] [--rules FILE] < items.jsonl",
		"Reads JSON lines with at least \"title\" and \"summary\" from stdin and writes each line back\n"+
			"with relevant, type, region, section, also, confidence, magnitude and evidence added;\n"+
			"other fields pass through untouched. --explain prints the reasons for a person instead.")
	explain := fs.Bool("explain", false, "print a human-readable explanation of each decision")
	var tc app.TaxonomyConfig
	tc.RegisterFlags(fs)
	fs.StringVar(&tc.File, "rules", "", "the same as --taxonomy.file: a rules (taxonomy) file to try")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, clf, err := tc.Load()
	if err != nil {
		return err
	}
	return classifycmd.Run(ctx, clf, stdin, stdout, *explain)
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("collector check", flag.ContinueOnError)
	app.Usage(fs, stderr, "collector check [--feeds.file FILE] [--taxonomy.file FILE]",
		"Validates the files strictly and reports every problem with its line, then exits.")
	feedsFile := fs.String("feeds.file", "", "feeds file to check")
	var tc app.TaxonomyConfig
	tc.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *feedsFile != "" {
		l, err := feedlist.Load(*feedsFile)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d feeds OK\n", *feedsFile, len(l.Feeds))
	}
	tx, _, err := tc.Load()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "taxonomy %s: %d types, %d regions, %d sections OK\n", tx.Version, len(tx.Types), len(tx.Regions), len(tx.Sections))
	return nil
}
