// Command tensionwatch runs the whole pipeline in one process: an embedded
// Kafka-protocol broker (unless --kafka.brokers names a real cluster), the
// collector polling the feeds, and the scorer serving the gauge.
//
//	go run ./cmd/tensionwatch
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/tensionwatch/tensionwatch/deploy"
	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/collector"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/scorer"
	"github.com/tensionwatch/tensionwatch/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	os.Exit(code)
}

// run is main without the process: started, if not nil, receives the
// scorer's listen address once it serves (tests use it).
func run(ctx context.Context, args []string, stderr io.Writer, started func(addr string)) int {
	fs := flag.NewFlagSet("tensionwatch", flag.ContinueOnError)
	app.Usage(fs, stderr, "tensionwatch [flags]",
		"Runs the whole tension gauge in one process: the collector polls the feeds, an embedded\n"+
			"Kafka-protocol broker (kept under --data.dir) carries the events, and the scorer serves\n"+
			"the gauge at --web.listen-address: /metrics, /api/v1/index, /api/v1/events, /healthz, /readyz.\n"+
			"With no flags it polls the curated East Asia feed list built in from deploy/feeds.yaml.\n"+
			"Give --kafka.brokers to use a real Kafka cluster instead of the embedded broker.")
	var (
		feedsFile   = fs.String("feeds.file", "", "feeds file (YAML); empty uses the built-in deploy/feeds.yaml")
		listen      = fs.String("web.listen-address", ":8080", "address for the gauge's HTTP endpoints")
		dataDir     = fs.String("data.dir", "./data", "directory for the embedded broker's log and the collector's state")
		kafkaListen = fs.Int("kafka.embedded-port", 0, "port of the embedded broker on 127.0.0.1 (0 picks a free one); ignored with --kafka.brokers")
		lc          app.LogConfig
		kc          app.KafkaConfig
		tc          app.TaxonomyConfig
		fc          app.FetchConfig
		wc          app.WebConfig
	)
	wc.RegisterFlags(fs)
	kc.RegisterFlags(fs, "", "comma-separated brokers of a real Kafka cluster; empty runs the embedded broker")
	lc.RegisterFlags(fs)
	tc.RegisterFlags(fs)
	fc.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tensionwatch: unexpected argument %q (tensionwatch takes flags only; see \"tensionwatch --help\")\n", fs.Arg(0))
		return 2
	}
	if err := runE(ctx, *feedsFile, *listen, *dataDir, *kafkaListen, lc, kc, tc, fc, &wc, stderr, started); err != nil {
		fmt.Fprintf(stderr, "tensionwatch: %v\n", err)
		return 1
	}
	return 0
}

func runE(ctx context.Context, feedsFile, listen, dataDir string, kafkaPort int,
	lc app.LogConfig, kc app.KafkaConfig, tc app.TaxonomyConfig, fc app.FetchConfig, wc *app.WebConfig,
	stderr io.Writer, started func(string)) error {
	log, err := lc.Logger(stderr)
	if err != nil {
		return err
	}
	var feeds *feedlist.List
	if feedsFile == "" {
		feeds, err = feedlist.Parse(deploy.DefaultFeeds, "deploy/feeds.yaml (built in)")
		feedsFile = "deploy/feeds.yaml (built in)"
	} else {
		feeds, err = feedlist.Load(feedsFile)
	}
	if err != nil {
		return err
	}
	tx, clf, err := tc.Load()
	if err != nil {
		return err
	}
	if err := wc.Load(); err != nil {
		return err
	}
	ln, err := app.Listen(listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := app.BaseURL(ln, wc)
	log.Info("tensionwatch starting", "watch_page", base+"/", "version", version.String(), "methodology_version", tx.Version,
		"feeds_file", feedsFile, "feeds", len(feeds.Feeds), "gauge", base+"/api/v1/index", "events", base+"/api/v1/events", "metrics", base+"/metrics")

	brokers := kc.BrokerList()
	locked := false
	if len(brokers) == 0 {
		// Lock the data directory before the broker opens its log in it;
		// the in-process collector then uses the lock taken here.
		unlock, err := collector.LockDataDir(dataDir)
		if err != nil {
			return err
		}
		defer unlock()
		locked = true
		emb, err := bus.StartEmbedded(bus.EmbeddedConfig{
			DataDir: filepath.Join(dataDir, "kafka"), Port: kafkaPort,
			Topic: kc.Topic, Partitions: kc.Partitions, Retention: index.Retention(tx),
		})
		if err != nil {
			return err
		}
		defer emb.Close()
		brokers = emb.Addrs()
		log.Info("embedded Kafka broker started (for a real cluster use --kafka.brokers)", "brokers", brokers,
			"data_dir", filepath.Join(dataDir, "kafka"), "retention", index.Retention(tx).String())
	}
	bc, err := kc.Bus(brokers)
	if err != nil {
		return err
	}
	bc.Retention = index.Retention(tx)
	err = app.RunScorerService(ctx, app.ScorerServiceOptions{
		Bus: bc, Taxonomy: tx, Listener: ln, Log: log, Web: wc,
		Feeds: feeds, Classifier: clf, DataDir: dataDir, DataDirLocked: locked, Fetch: fc.Fetcher(), Poll: fc.Poller(),
		Started: func(*scorer.Scorer) {
			if started != nil {
				started(ln.Addr().String())
			}
		},
	})
	log.Info("tensionwatch stopped")
	return err
}
