// Package collector turns fetched feed items into classified events on the
// events topic. It owns the delivery guarantee of the collecting side:
//
//   - Handle classifies a fetch's new items and appends the relevant ones to
//     the outbox, synced to disk, before it returns; the fetch then counts
//     as a success for the poller, whatever Kafka's state.
//   - Drain, a goroutine of its own, produces the outbox to Kafka in order,
//     with backoff while Kafka fails. Only after Kafka acknowledged an event
//     (acks=all) is its item marked seen, and only then is it removed from
//     the outbox. On restart the outbox is drained before anything new.
//
// So an item is never lost between classification and acknowledgement, even
// if it has left its feed meanwhile; a crash between the acknowledgement and
// the seen-mark produces it again, and the scorer drops the duplicate by
// event ID. Without an outbox (New without WithOutbox) Handle produces
// synchronously and fails when Kafka does, as tests and tools need.
package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/seen"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Publisher writes events and returns once they are acknowledged.
type Publisher interface {
	Publish(ctx context.Context, evs []events.Event) error
}

// Drain's defaults.
const (
	// MaxBatch is the most events one produce call carries.
	MaxBatch = 500
	// DefaultRetryBase and DefaultRetryMax bound the drainer's backoff
	// after a failed produce: doubling from the base up to the max.
	DefaultRetryBase = 500 * time.Millisecond
	DefaultRetryMax  = 30 * time.Second
)

// Option configures a Collector.
type Option func(*Collector)

// WithOutbox makes Handle queue events in ob for Drain instead of
// producing them itself.
func WithOutbox(ob *Outbox) Option { return func(c *Collector) { c.ob = ob } }

// WithRetry sets the drainer's backoff bounds (tests shorten them).
func WithRetry(base, max time.Duration) Option {
	return func(c *Collector) { c.retryBase, c.retryMax = base, max }
}

// Collector classifies and publishes the new items of each fetch.
type Collector struct {
	clf                 *classify.Classifier
	seen                *seen.Store
	pub                 Publisher
	ob                  *Outbox
	log                 *slog.Logger
	now                 func() time.Time
	retryBase, retryMax time.Duration

	mu     sync.Mutex
	listed map[string][]string // feed ID → the IDs its last full fetch listed

	items    *prometheus.CounterVec
	prod     prometheus.Counter
	fails    prometheus.Counter
	lat      prometheus.Histogram
	seenErrs prometheus.Counter
}

// New returns a collector. reg receives its metrics.
func New(clf *classify.Classifier, store *seen.Store, pub Publisher, reg prometheus.Registerer, log *slog.Logger, opts ...Option) *Collector {
	f := promauto.With(reg)
	c := &Collector{
		clf: clf, seen: store, pub: pub, log: log, now: time.Now,
		retryBase: DefaultRetryBase, retryMax: DefaultRetryMax,
		listed: map[string][]string{},
		items: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tensionwatch_collector_items_total",
			Help: "Feed items handled, by result: duplicate (already handled), irrelevant (classified out), event (queued for Kafka), invalid (an event that would not encode; dropped).",
		}, []string{"result"}),
		prod: f.NewCounter(prometheus.CounterOpts{
			Name: "tensionwatch_collector_events_produced_total",
			Help: "Events acknowledged by Kafka.",
		}),
		fails: f.NewCounter(prometheus.CounterOpts{
			Name: "tensionwatch_collector_produce_failures_total",
			Help: "Produce calls that failed; their events stay in the outbox and are produced again after a backoff.",
		}),
		lat: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "tensionwatch_collector_produce_duration_seconds",
			Help:    "Time to produce one batch of events and have it acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		seenErrs: f.NewCounter(prometheus.CounterOpts{
			Name: "tensionwatch_collector_seen_store_errors_total",
			Help: "Failed writes of the seen store (its items may be produced again after a restart).",
		}),
	}
	for _, o := range opts {
		o(c)
	}
	for _, r := range []string{"duplicate", "irrelevant", "event", "invalid"} {
		c.items.WithLabelValues(r)
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tensionwatch_collector_seen_items",
		Help: "Item IDs in the seen store: items handled that their feeds still list, or listed within the TTL.",
	}, func() float64 { return float64(c.seen.Len()) })
	if c.ob != nil {
		f.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tensionwatch_collector_outbox_events",
			Help: "Classified events in the outbox, waiting for Kafka's acknowledgement.",
		}, func() float64 { return float64(c.ob.Len()) })
		f.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tensionwatch_collector_outbox_oldest_age_seconds",
			Help: "Age of the oldest event in the outbox (since its fetch); 0 when the outbox is empty.",
		}, func() float64 {
			if t := c.ob.Oldest(); !t.IsZero() {
				return c.now().Sub(t).Seconds()
			}
			return 0
		})
	}
	return c
}

// Handle is the poller's callback for a successful fetch. With an outbox,
// it returns nil once the fetch's new events are on disk in the outbox (and
// an error, which backs the feed off, only when they could not be written);
// without one, once Kafka acknowledged them. Every ID the feed lists is
// kept in the seen store for another TTL.
func (c *Collector) Handle(ctx context.Context, feed feedlist.Feed, res *fetcher.Result) error {
	if res == nil {
		return nil
	}
	if res.NotModified {
		// The feed lists what it listed last time.
		c.mu.Lock()
		listed := c.listed[feed.ID]
		c.mu.Unlock()
		return c.touch(feed, listed)
	}
	fetched := c.now().UTC()
	var (
		evs    []events.Event
		done   []string // IDs to mark seen now: irrelevant, invalid, migrated
		listed = make([]string, 0, len(res.Items))
		batch  = make(map[string]bool, len(res.Items))
	)
	var dups, irrelevant, invalid float64
	for _, it := range res.Items {
		id := events.ID(feed.ID, it.GUID, it.Link)
		if batch[id] {
			dups++
			continue
		}
		batch[id] = true
		listed = append(listed, id)
		if c.seen.Has(id) || c.ob != nil && c.ob.Has(id) {
			dups++
			continue
		}
		if c.seen.HoldsLegacyIDs() && c.seen.Has(legacyID(it.GUID, it.Link)) {
			// Delivered under the ID of an older collector: remember it
			// under its current ID, and produce nothing.
			done = append(done, id)
			dups++
			continue
		}
		cls := c.clf.Classify(it.Title, it.Summary)
		if !cls.Relevant {
			done = append(done, id)
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
		if lang == "" {
			lang = feed.Lang // the feeds file's lang:
		}
		e := events.Event{
			V:              events.WireVersion,
			ID:             id,
			Source:         events.Source{FeedID: feed.ID, Outlet: feed.Source, Kind: feed.Kind, Credibility: feed.Credibility},
			Link:           it.Link,
			Title:          it.Title,
			Summary:        it.Summary,
			Language:       lang,
			Published:      pub,
			Fetched:        fetched,
			Classification: cls,
		}
		if err := e.Validate(); err != nil {
			// It would never encode: retrying cannot help.
			c.log.Error("dropping an item that makes an invalid event", "feed", feed.ID, "link", it.Link, "err", err)
			done = append(done, id)
			invalid++
			continue
		}
		evs = append(evs, e)
	}
	if c.ob != nil {
		if err := c.ob.Append(evs); err != nil {
			return fmt.Errorf("feed %s: queueing %d events: %w", feed.ID, len(evs), err)
		}
	} else if err := c.deliver(ctx, evs); err != nil {
		return fmt.Errorf("feed %s: %w", feed.ID, err)
	}
	if err := c.seen.Add(done...); err != nil {
		// Their items are classified again on the next fetch: no loss.
		c.seenErrs.Inc()
		return fmt.Errorf("feed %s: %w", feed.ID, err)
	}
	c.mu.Lock()
	c.listed[feed.ID] = listed
	c.mu.Unlock()
	if err := c.touch(feed, listed); err != nil {
		return err
	}
	c.items.WithLabelValues("duplicate").Add(dups)
	c.items.WithLabelValues("irrelevant").Add(irrelevant)
	c.items.WithLabelValues("invalid").Add(invalid)
	c.items.WithLabelValues("event").Add(float64(len(evs)))
	if n := len(evs) + int(irrelevant) + int(invalid); n > 0 {
		c.log.Info("feed items handled", "feed", feed.ID, "new", n, "events", len(evs), "irrelevant", int(irrelevant), "duplicates", int(dups))
	}
	return nil
}

func (c *Collector) touch(feed feedlist.Feed, ids []string) error {
	if err := c.seen.Touch(ids...); err != nil {
		c.seenErrs.Inc()
		return fmt.Errorf("feed %s: %w", feed.ID, err)
	}
	return nil
}

// deliver produces evs and, once Kafka acknowledged them, marks them seen.
func (c *Collector) deliver(ctx context.Context, evs []events.Event) error {
	if len(evs) == 0 {
		return nil
	}
	start := time.Now()
	if err := c.pub.Publish(ctx, evs); err != nil {
		c.fails.Inc()
		return err
	}
	c.lat.Observe(time.Since(start).Seconds())
	c.prod.Add(float64(len(evs)))
	failpoint("exit-after-produce") // tests built with -tags failpoint only
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	if err := c.seen.Add(ids...); err != nil {
		// The events are in Kafka; they may be produced again after a
		// restart, which the scorer absorbs.
		c.seenErrs.Inc()
		c.log.Error("events produced but not marked seen; they may be produced again", "events", len(ids), "err", err)
	}
	return nil
}

// Drain produces the outbox to Kafka until ctx is done: the oldest events
// first, up to MaxBatch a call, waiting with backoff after a failure.
// Events the seen store already holds (acknowledged before a crash) are
// removed without being produced again.
func (c *Collector) Drain(ctx context.Context) {
	if c.ob == nil {
		return
	}
	wait := time.Duration(0)
	for {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		n, err := c.DrainOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			wait = c.backoff(wait)
			c.log.Warn("producing the outbox failed; retrying", "err", err, "outbox_events", c.ob.Len(), "retry_in", wait.Round(time.Millisecond).String())
		case n > 0:
			wait = 0 // more may be waiting
		default:
			wait = 0
			select {
			case <-ctx.Done():
				return
			case <-c.ob.Ready():
			}
		}
	}
}

func (c *Collector) backoff(prev time.Duration) time.Duration {
	d := c.retryBase
	if prev > 0 {
		d = min(2*prev, c.retryMax)
	}
	// ±10 % jitter, so that collectors retrying one cluster spread out.
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// DrainOnce produces one batch of the outbox and returns how many events it
// removed from it (0 when it was empty).
func (c *Collector) DrainOnce(ctx context.Context) (int, error) {
	batch := c.ob.Peek(MaxBatch)
	if len(batch) == 0 {
		return 0, nil
	}
	var (
		send []events.Event
		ack  []string
	)
	for _, e := range batch {
		if c.seen.Has(e.ID) {
			ack = append(ack, e.ID) // acknowledged before a crash
		} else {
			send = append(send, e)
		}
	}
	if err := c.deliver(ctx, send); err != nil {
		return 0, err
	}
	for _, e := range send {
		ack = append(ack, e.ID)
	}
	if err := c.ob.Ack(ack); err != nil {
		c.log.Error("outbox acknowledgement not written; its events may be produced again", "err", err)
	}
	return len(batch), nil
}

// Flush drains the outbox until it is empty, a produce fails or ctx is
// done, without backoff: the last attempt of a stopping collector.
func (c *Collector) Flush(ctx context.Context) error {
	if c.ob == nil {
		return nil
	}
	for ctx.Err() == nil {
		n, err := c.DrainOnce(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return ctx.Err()
}

// legacyID is the event ID an item got before IDs were scoped by feed
// (hex(sha256(GUID or canonical link))[:32]). A seen store written by such
// a collector holds these; Handle treats an item found under its legacy ID
// as handled, so that upgrading does not produce every listed item again.
// Legacy IDs are never touched, so they leave the store one TTL after the
// upgrade; the store says until when it may hold them (HoldsLegacyIDs), and
// the check stops then.
func legacyID(guid, link string) string {
	key := strings.TrimSpace(guid)
	if key == "" {
		key = events.CanonicalLink(link)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}
