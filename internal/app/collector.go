package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/collector"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/poller"
	"github.com/tensionwatch/tensionwatch/internal/seen"
)

// SeenRetention is how long the collector remembers a delivered item. Feeds
// rarely keep an item longer than a few weeks.
const SeenRetention = 90 * 24 * time.Hour

// CollectorOptions is what RunCollector needs.
type CollectorOptions struct {
	Feeds      *feedlist.List
	Classifier *classify.Classifier
	Bus        bus.Config
	DataDir    string // holds collector-seen.log
	Fetch      fetcher.Config
	Poll       poller.Config
	Registry   prometheus.Registerer
	Log        *slog.Logger
}

// RunCollector polls the feeds and produces their relevant items until ctx
// is done, then stops polling, waits for in-flight work and closes the
// producer and the seen store, in that order.
func RunCollector(ctx context.Context, o CollectorOptions) error {
	store, err := seen.Open(filepath.Join(o.DataDir, "collector-seen.log"), SeenRetention)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := waitForTopic(ctx, o.Bus, o.Log); err != nil {
		return err
	}
	prod := bus.NewProducer(o.Bus)
	defer prod.Close()

	col := collector.New(o.Classifier, store, prod, o.Registry, o.Log)
	fc := o.Fetch
	fc.AllowPrivate = o.Feeds.AllowPrivateAddresses
	p := poller.New(o.Poll, fetcher.New(fc), o.Feeds.Feeds, col.Handle, o.Log, poller.NewMetrics(o.Registry))
	model := "none (rules only)"
	if m := o.Classifier.Model(); m != nil {
		model = m.Meta.Version
	}
	o.Log.Info("collector started", "feeds", len(o.Feeds.Feeds), "seen_items", store.Len(), "topic", o.Bus.Topic, "brokers", o.Bus.Brokers,
		"taxonomy", o.Classifier.Taxonomy().Version, "model", model)
	return p.Run(ctx)
}

// waitForTopic creates the events topic, retrying while the brokers are
// unreachable, so that the collector and the brokers can start in any order.
func waitForTopic(ctx context.Context, c bus.Config, log *slog.Logger) error {
	delay := 500 * time.Millisecond
	for {
		err := bus.EnsureTopic(ctx, c)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for Kafka: %w", err)
		}
		log.Warn("Kafka not reachable yet; retrying", "err", err, "retry_in", delay.String())
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("waiting for Kafka: %w", err)
		}
		delay = min(2*delay, 30*time.Second)
	}
}
