// Package collector turns fetched feed items into classified events on the
// events topic. It owns the delivery guarantee of the collecting side: an
// item is marked seen only after Kafka acknowledged its event, so a crash
// or a broker outage never loses an item (it is produced again instead, and
// the scorer drops the duplicate by event ID).
package collector

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/seen"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// failpoint lets tests kill the process at a chosen point.
var failpoint = os.Getenv("TENSIONWATCH_FAILPOINT")

// Publisher writes events and returns once they are acknowledged.
type Publisher interface {
	Publish(ctx context.Context, evs []events.Event) error
}

// Collector classifies and publishes the new items of each fetch.
type Collector struct {
	clf   *classify.Classifier
	seen  *seen.Store
	pub   Publisher
	log   *slog.Logger
	now   func() time.Time
	items *prometheus.CounterVec
	prod  prometheus.Counter
	fails prometheus.Counter
	lat   prometheus.Histogram
}

// New returns a collector. reg receives its metrics.
func New(clf *classify.Classifier, store *seen.Store, pub Publisher, reg prometheus.Registerer, log *slog.Logger) *Collector {
	f := promauto.With(reg)
	c := &Collector{
		clf: clf, seen: store, pub: pub, log: log, now: time.Now,
		items: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tensionwatch_collector_items_total",
			Help: "Feed items handled, by result: duplicate (already delivered), irrelevant (classified out), event (produced).",
		}, []string{"result"}),
		prod: f.NewCounter(prometheus.CounterOpts{
			Name: "tensionwatch_collector_events_produced_total",
			Help: "Events acknowledged by Kafka.",
		}),
		fails: f.NewCounter(prometheus.CounterOpts{
			Name: "tensionwatch_collector_produce_failures_total",
			Help: "Produce calls that failed; their items are fetched and produced again on the next poll.",
		}),
		lat: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "tensionwatch_collector_produce_duration_seconds",
			Help:    "Time to produce one fetch's events and have them acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
	}
	for _, r := range []string{"duplicate", "irrelevant", "event"} {
		c.items.WithLabelValues(r)
	}
	return c
}

// Handle is the poller's callback for a successful fetch. It returns an
// error, and marks nothing seen, when Kafka did not acknowledge the events.
func (c *Collector) Handle(ctx context.Context, feed feedlist.Feed, res *fetcher.Result) error {
	if res == nil || res.NotModified {
		return nil
	}
	fetched := c.now().UTC()
	var (
		evs   []events.Event
		ids   []string
		batch = map[string]bool{}
	)
	var dups, irrelevant float64
	for _, it := range res.Items {
		id := events.ID(it.GUID, it.Link)
		if batch[id] || c.seen.Has(id) {
			dups++
			continue
		}
		batch[id] = true
		ids = append(ids, id)
		cls := c.clf.Classify(it.Title, it.Summary)
		if !cls.Relevant {
			irrelevant++
			continue
		}
		pub := it.Published.UTC()
		if it.Published.IsZero() {
			pub = fetched
		}
		lang := it.Language
		if lang == "" {
			lang = res.FeedLanguage
		}
		evs = append(evs, events.Event{
			ID:             id,
			Source:         events.Source{FeedID: feed.ID, Outlet: feed.Source, Kind: feed.Kind, Credibility: feed.Credibility},
			Link:           it.Link,
			Title:          it.Title,
			Summary:        it.Summary,
			Language:       lang,
			Published:      pub,
			Fetched:        fetched,
			Classification: cls,
		})
	}
	if len(evs) > 0 {
		start := time.Now()
		if err := c.pub.Publish(ctx, evs); err != nil {
			c.fails.Inc()
			return fmt.Errorf("collector: feed %s: %w", feed.ID, err)
		}
		c.lat.Observe(time.Since(start).Seconds())
		c.prod.Add(float64(len(evs)))
		if failpoint == "exit-after-produce" {
			// Test hook (TENSIONWATCH_FAILPOINT): die like a SIGKILL between
			// Kafka's acknowledgement and the seen-mark.
			os.Exit(137)
		}
	}
	if err := c.seen.Add(ids...); err != nil {
		// The events are in Kafka; failing here means they may be produced
		// again after a restart, which the scorer absorbs.
		return fmt.Errorf("collector: feed %s: marking seen: %w", feed.ID, err)
	}
	c.items.WithLabelValues("duplicate").Add(dups)
	c.items.WithLabelValues("irrelevant").Add(irrelevant)
	c.items.WithLabelValues("event").Add(float64(len(evs)))
	if len(ids) > 0 {
		c.log.Info("feed items handled", "feed", feed.ID, "new", len(ids), "events", len(evs), "irrelevant", int(irrelevant), "duplicates", int(dups))
	}
	return nil
}
