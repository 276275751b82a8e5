package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/collector"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/poller"
	"github.com/tensionwatch/tensionwatch/internal/seen"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// DefaultSeenTTL is how long the collector remembers an item after its feed
// last listed it (--seen.ttl). Feeds do not bring an item back after
// dropping it; a week covers a feed that fails for days and comes back.
const DefaultSeenTTL = 7 * 24 * time.Hour

// SeenExpiryEvery is how often the collector forgets expired items and
// compacts the seen store's file.
const SeenExpiryEvery = time.Hour

// finalFlushTimeout bounds the last attempt of a stopping collector to
// produce its outbox; what is left is produced on the next start.
const finalFlushTimeout = 5 * time.Second

// Files of the collector's data directory.
const (
	SeenFile   = "collector-seen.log"
	OutboxFile = "collector-outbox.log"
)

// CollectorOptions is what RunCollector needs.
type CollectorOptions struct {
	Feeds      *feedlist.List
	Classifier *classify.Classifier
	Bus        bus.Config
	// DataDir holds the lock, the seen store and the outbox; one collector
	// at a time may use it. DataDirLocked says the caller already holds
	// its lock (collector.LockDataDir), as tensionwatch does before it
	// starts the embedded broker in it.
	DataDir       string
	DataDirLocked bool
	Fetch         fetcher.Config
	Poll          poller.Config
	SeenTTL       time.Duration // 0: DefaultSeenTTL
	Registry      prometheus.Registerer
	Log           *slog.Logger
	// Started, if set, is called once the collector polls (after the
	// outbox's backlog was produced or Kafka was found unreachable).
	Started func()
}

// RunCollector polls the feeds, queues their relevant items in the outbox
// and produces the outbox to Kafka until ctx is done; then it stops polling,
// makes a last attempt to produce what the outbox holds, and closes the
// producer, the outbox, the seen store and the data directory's lock.
//
// It locks the data directory first (a second collector on it fails at
// once), produces the outbox's backlog from an earlier run before it polls,
// and polls without waiting for Kafka when Kafka is unreachable: the outbox
// holds the events until it is back.
func RunCollector(ctx context.Context, o CollectorOptions) (err error) {
	if !o.DataDirLocked {
		unlock, err := collector.LockDataDir(o.DataDir)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, unlock()) }()
	}
	ttl := o.SeenTTL
	if ttl <= 0 {
		ttl = DefaultSeenTTL
	}
	store, err := seen.Open(filepath.Join(o.DataDir, SeenFile), ttl)
	if err != nil {
		return err
	}
	defer store.Close()
	ob, err := collector.OpenOutbox(filepath.Join(o.DataDir, OutboxFile), 0)
	if err != nil {
		return err
	}
	defer ob.Close()
	prod := bus.NewProducer(o.Bus)
	defer prod.Close()

	col := collector.New(o.Classifier, store, kafkaPublisher{prod}, o.Registry, o.Log, collector.WithOutbox(ob))
	fc := o.Fetch
	fc.AllowPrivate = o.Feeds.AllowPrivateAddresses
	p := poller.New(o.Poll, fetcher.New(fc), o.Feeds.Feeds, col.Handle, o.Log, poller.NewMetrics(o.Registry))
	model := "none (rules only)"
	if m := o.Classifier.Model(); m != nil {
		model = m.Meta.Version
	}
	o.Log.Info("collector started", "feeds", len(o.Feeds.Feeds), "data_dir", o.DataDir, "seen_items", store.Len(), "seen_ttl", ttl.String(),
		"outbox_events", ob.Len(), "topic", o.Bus.Topic, "brokers", strings.Join(o.Bus.Brokers, ","),
		"taxonomy", o.Classifier.Taxonomy().Version, "model", model)

	// The drainer: the topic, then the backlog, then whatever is queued.
	mayPoll := make(chan struct{})
	signal := onceCloser(mayPoll)
	drainCtx, stopDrain := context.WithCancel(ctx)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		defer signal()
		if err := waitForTopicThen(drainCtx, o.Bus, o.Log, signal); err != nil {
			return
		}
		if n := ob.Len(); n > 0 {
			start := time.Now()
			if err := col.Flush(drainCtx); err != nil {
				o.Log.Warn("producing the outbox's backlog failed; polling meanwhile", "outbox_events", ob.Len(), "err", CleanError(err))
			} else {
				o.Log.Info("outbox backlog produced", "events", n, "took", time.Since(start).Round(time.Millisecond).String())
			}
		}
		signal()
		col.Drain(drainCtx)
	}()
	select {
	case <-mayPoll:
	case <-ctx.Done():
	}

	expiryDone := make(chan struct{})
	go func() {
		defer close(expiryDone)
		expireSeen(ctx, store, o.Log)
	}()
	// The heartbeat tells the scorers, through the topic, how many feeds
	// this collector fetches successfully: without it they read blind.
	beatDone := make(chan struct{})
	if g, ok := o.Registry.(prometheus.Gatherer); ok {
		go func() {
			defer close(beatDone)
			RunHeartbeat(ctx, HeartbeatOptions{Bus: o.Bus, Feeds: o.Feeds.Feeds, Gatherer: g, Collector: CollectorName(o.DataDir), Log: o.Log})
		}()
	} else {
		o.Log.Warn("no metrics registry to read feed health from: no heartbeat, scorers will read the watch blind")
		close(beatDone)
	}
	if o.Started != nil && ctx.Err() == nil {
		o.Started()
	}
	err = p.Run(ctx)
	stopDrain()
	<-drained
	<-expiryDone
	<-beatDone
	if n := ob.Len(); n > 0 {
		fctx, cancel := context.WithTimeout(context.Background(), finalFlushTimeout)
		ferr := col.Flush(fctx)
		cancel()
		if ferr != nil {
			o.Log.Warn("stopping with events in the outbox; they are produced on the next start", "outbox_events", ob.Len(), "err", CleanError(ferr))
		}
	}
	return err
}

// expireSeen forgets expired items every SeenExpiryEvery until ctx is done.
func expireSeen(ctx context.Context, store *seen.Store, log *slog.Logger) {
	t := time.NewTicker(SeenExpiryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before := store.Records()
		n, err := store.Expire()
		if err != nil {
			log.Error("seen store expiry failed", "err", err)
			continue
		}
		log.Info("seen store expired items", "forgotten", n, "held", store.Len(), "records_before", before, "records", store.Records())
	}
}

// onceCloser returns a function that closes ch the first time it is called.
func onceCloser(ch chan struct{}) func() {
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// kafkaPublisher produces events with errors fit for a log line.
type kafkaPublisher struct{ p *bus.Producer }

func (k kafkaPublisher) Publish(ctx context.Context, evs []events.Event) error {
	return CleanError(k.p.Publish(ctx, evs))
}

// waitForTopic creates the events topic, retrying while the brokers are
// unreachable, so that the collector and the brokers can start in any order.
func waitForTopic(ctx context.Context, c bus.Config, log *slog.Logger) error {
	return waitForTopicThen(ctx, c, log, nil)
}

// waitForTopicThen is waitForTopic calling failed (if not nil) after the
// first failed attempt.
func waitForTopicThen(ctx context.Context, c bus.Config, log *slog.Logger, failed func()) error {
	delay := 500 * time.Millisecond
	brokers := strings.Join(c.Brokers, ",")
	for {
		err := bus.EnsureTopic(ctx, c)
		if err == nil {
			return nil
		}
		err = CleanError(err)
		if len(c.Brokers) > 0 && !strings.Contains(err.Error(), c.Brokers[0]) {
			err = fmt.Errorf("Kafka at %s: %w", brokers, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for Kafka: %w", err)
		}
		if failed != nil {
			failed()
		}
		log.Warn("Kafka not reachable yet; retrying", "brokers", brokers, "err", err, "retry_in", delay.String())
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("waiting for Kafka: %w", err)
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// goTypeName matches the Go method names some libraries put in their
// errors ("kafka.(*Client).CreateTopics: ").
var goTypeName = regexp.MustCompile(`\b[a-z][a-z0-9_]*\.\(\*?[A-Za-z0-9_]+\)\.[A-Za-z0-9_]+: `)

// cleanError has the message of an error without Go type names, and
// unwraps to it.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

// CleanError returns err with Go type names removed from its message
// ("kafka.(*Client).CreateTopics: dial tcp ..." becomes "dial tcp ..."),
// still matching errors.Is and errors.As as err does.
//
// kafka-go's error for a batch lists one error per message; it is
// summarised as each distinct error once, with its count ("3 of 19
// messages: dial tcp ...: connection refused").
func CleanError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var we kafka.WriteErrors
	if errors.As(err, &we) && len(we) > 0 {
		msg = strings.Replace(msg, we.Error(), summariseWriteErrors(we), 1)
	}
	msg = goTypeName.ReplaceAllString(msg, "")
	if msg == err.Error() {
		return err
	}
	return &cleanError{msg: msg, err: err}
}

func summariseWriteErrors(we kafka.WriteErrors) string {
	counts := map[string]int{}
	var order []string
	for _, e := range we {
		if e == nil {
			continue
		}
		m := e.Error()
		if counts[m] == 0 {
			order = append(order, m)
		}
		counts[m]++
	}
	parts := make([]string, len(order))
	for i, m := range order {
		parts[i] = fmt.Sprintf("%d of %d messages: %s", counts[m], len(we), m)
	}
	return strings.Join(parts, "; ")
}

// CollectorCommand is "collector run": it parses args (flags only), loads
// the feeds, the taxonomy and the model, opens the HTTP listener (failing
// at once if it cannot), serves /metrics, /healthz and /readyz, and runs
// the collector until ctx is done or the HTTP server fails.
func CollectorCommand(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("collector run", flag.ContinueOnError)
	Usage(fs, stderr, "collector run --feeds.file FILE [flags]",
		"Polls every feed of FILE on its interval (conditional GET, per-host and global limits,\n"+
			"backoff), classifies each new item and queues the relevant ones in an outbox in --data.dir,\n"+
			"from which they are produced to the events topic. An item is remembered as delivered\n"+
			"only after Kafka acknowledged it; one --data.dir serves one collector at a time.")
	var (
		feedsFile = fs.String("feeds.file", "", "feeds file (YAML), required")
		dataDir   = fs.String("data.dir", "./data", "directory for the collector's state: the lock, the outbox and the delivered item IDs")
		listen    = fs.String("web.listen-address", ":9101", "address for /metrics, /healthz and /readyz")
		shard     = fs.String("feeds.shard", "", "poll only shard i of n of the feeds, as i/n (e.g. 2/3); a feed's shard is a hash of its id")
		seenTTL   = fs.Duration("seen.ttl", DefaultSeenTTL, "forget a delivered item this long after its feed last listed it")
		lc        LogConfig
		kc        KafkaConfig
		tc        TaxonomyConfig
		fc        FetchConfig
		wc        WebConfig
	)
	wc.RegisterFlags(fs)
	lc.RegisterFlags(fs)
	kc.RegisterFlags(fs, "localhost:9092", "comma-separated Kafka bootstrap brokers")
	tc.RegisterFlags(fs)
	fc.RegisterFlags(fs)
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if *feedsFile == "" {
		return Usagef("--feeds.file is required (see \"collector run --help\")")
	}
	if *seenTTL <= 0 {
		return Usagef("--seen.ttl must be positive")
	}
	log, err := lc.Logger(stderr)
	if err != nil {
		return &UsageError{Err: err}
	}
	feeds, err := feedlist.Load(*feedsFile)
	if err != nil {
		return err
	}
	si, sn, err := feedlist.ParseShard(*shard)
	if err != nil {
		return &UsageError{Err: err}
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
	ln, err := Listen(*listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewBuildInfoCollector())
	mux := HealthMux(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), func() bool { return true })

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srvErr := make(chan error, 1)
	go func() {
		err := Serve(ctx, ln, mux, log, &wc)
		if err != nil {
			cancel() // no collector without its metrics and probes
		}
		srvErr <- err
	}()
	err = RunCollector(ctx, CollectorOptions{
		Feeds: feeds, Classifier: clf, Bus: bc, DataDir: *dataDir,
		Fetch: fc.Fetcher(), Poll: fc.Poller(), SeenTTL: *seenTTL, Registry: reg, Log: log,
	})
	cancel()
	err = errors.Join(err, <-srvErr)
	log.Info("collector stopped")
	return err
}
