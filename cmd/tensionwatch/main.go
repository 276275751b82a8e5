// Command tensionwatch runs the whole pipeline in one process: an embedded
// Kafka-protocol broker (unless --kafka.brokers names a real cluster), the
// collector polling the feeds, and the scorer serving the gauge.
//
//	go run ./cmd/tensionwatch
//
// With --replay it sends dated items of the past through the same pipeline,
// re-timed to now, instead of polling the feeds:
//
//	go run ./cmd/tensionwatch --replay testdata/replay --replay.speed 600
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
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/deploy"
	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/collector"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/replay"
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
			"the gauge at --web.listen-address: the watch page, /metrics, /api/v1/index, /api/v1/events,\n"+
			"/api/v1/chains (action and reaction), /healthz, /readyz.\n"+
			"With no flags it polls the curated East Asia feed list built in from deploy/feeds.yaml.\n"+
			"Give --kafka.brokers to use a real Kafka cluster instead of the embedded broker.\n\n"+
			"With --replay PATH it replays a real crisis instead, without the Internet: the dated items of\n"+
			"PATH (JSON lines such as ../shared/data/windows/pelosi-2022.jsonl, or RSS-Link-Database\n"+
			"captures; a file or a folder) are classified and published as events, re-timed so that the\n"+
			"first is sent at once and the rest at --replay.speed times real time, each dated the moment\n"+
			"it is sent. The log reports progress every few seconds and a summary; the page then keeps\n"+
			"serving. With --replay the feeds are not polled unless --feeds.file is given, and the\n"+
			"embedded broker's data go to a temporary directory unless --data.dir is given.")
	var (
		listen      = fs.String("web.listen-address", ":8080", "address for the gauge's HTTP endpoints")
		dataDir     = fs.String("data.dir", "./data", "directory for the embedded broker's log and the collector's state (with --replay: a temporary directory, removed at exit, unless given)")
		feedsFile   = fs.String("feeds.file", "", "feeds file (YAML); empty uses the built-in deploy/feeds.yaml (with --replay: no feed is polled unless given)")
		replayPaths []string
		replaySpeed = fs.Float64("replay.speed", replay.DefaultSpeed, "with --replay: how many times faster than real time the items arrive (60: an hour of the crisis a minute); 0 keeps their original dates and sends them at once, and items older than the scoring window are then counted, not scored")
		kafkaListen = fs.Int("kafka.embedded-port", 0, "port of the embedded broker on 127.0.0.1 (0 picks a free one); ignored with --kafka.brokers")
		lc          app.LogConfig
		kc          app.KafkaConfig
		tc          app.TaxonomyConfig
		fc          app.FetchConfig
		wc          app.WebConfig
	)
	fs.Func("replay", "replay the dated items of this file or folder (JSON lines or RSS-Link-Database captures) re-timed to now, instead of polling the feeds; repeat to merge several", func(v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("empty path")
		}
		replayPaths = append(replayPaths, v)
		return nil
	})
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	rp := replayConfig{paths: replayPaths, speed: *replaySpeed, dataDirGiven: set["data.dir"]}
	if err := rp.validate(set["replay.speed"], kc); err != nil {
		fmt.Fprintf(stderr, "tensionwatch: %v (see \"tensionwatch --help\")\n", err)
		return 2
	}
	if err := runE(ctx, *feedsFile, *listen, *dataDir, *kafkaListen, lc, kc, tc, fc, &wc, rp, stderr, started); err != nil {
		fmt.Fprintf(stderr, "tensionwatch: %v\n", err)
		return 1
	}
	return 0
}

func runE(ctx context.Context, feedsFile, listen, dataDir string, kafkaPort int,
	lc app.LogConfig, kc app.KafkaConfig, tc app.TaxonomyConfig, fc app.FetchConfig, wc *app.WebConfig,
	rp replayConfig, stderr io.Writer, started func(string)) error {
	log, err := lc.Logger(stderr)
	if err != nil {
		return err
	}
	// Read the replay first: a wrong path fails before anything starts.
	var items *replay.Set
	if rp.on() {
		if items, err = replay.Load(rp.paths...); err != nil {
			return err
		}
	}
	var feeds *feedlist.List
	switch {
	case feedsFile != "":
		feeds, err = feedlist.Load(feedsFile)
	case items != nil:
		feedsFile = "none (--replay without --feeds.file polls no feed)"
	default:
		feeds, err = feedlist.Parse(deploy.DefaultFeeds, "deploy/feeds.yaml (built in)")
		feedsFile = "deploy/feeds.yaml (built in)"
	}
	if err != nil {
		return err
	}
	if items != nil && !rp.dataDirGiven && len(kc.BrokerList()) == 0 {
		// A replay's events are re-timed to now: kept in ./data, a later
		// live run would score them as this month's news.
		tmp, err := os.MkdirTemp("", "tensionwatch-replay-")
		if err != nil {
			return fmt.Errorf("creating the replay's data directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
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
	nFeeds := 0
	if feeds != nil {
		nFeeds = len(feeds.Feeds)
	}
	startArgs := []any{"watch_page", base + "/", "version", version.String(), "methodology_version", tx.Version,
		"feeds_file", feedsFile, "feeds", nFeeds, "gauge", base + "/api/v1/index", "events", base + "/api/v1/events", "metrics", base + "/metrics"}
	if items != nil {
		startArgs = append(startArgs, "replay", strings.Join(rp.paths, ","), "replay_speed", rp.speed, "data_dir", dataDir)
	}
	log.Info("tensionwatch starting", startArgs...)

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
	var also func(context.Context, *scorer.Scorer, prometheus.Registerer) error
	if items != nil {
		also = func(ctx context.Context, sc *scorer.Scorer, reg prometheus.Registerer) error {
			return runReplay(ctx, replayRun{set: items, speed: rp.speed, bus: bc, tx: tx, clf: clf, dataDir: dataDir, sc: sc, reg: reg, log: log})
		}
	}
	err = app.RunScorerService(ctx, app.ScorerServiceOptions{
		Bus: bc, Taxonomy: tx, Listener: ln, Log: log, Web: wc,
		Feeds: feeds, Classifier: clf, DataDir: dataDir, DataDirLocked: locked, Fetch: fc.Fetcher(), Poll: fc.Poller(),
		Also: also,
		Started: func(*scorer.Scorer) {
			if started != nil {
				started(ln.Addr().String())
			}
		},
	})
	log.Info("tensionwatch stopped")
	return err
}
