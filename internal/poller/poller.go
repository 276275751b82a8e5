// Package poller schedules the polls of every feed: each on its interval with
// jitter, first polls spread out at a deterministic offset of each feed,
// exponential backoff on failure and Retry-After honoured. A feed's
// conditional-GET validators advance only when its items were handled, so a
// failed hand-off refetches everything. (The collector's hand-off is a write
// to its outbox: Kafka's failures do not reach the poller.)
package poller

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
)

// Config tunes scheduling. Zero values take the defaults.
type Config struct {
	// Jitter is the fraction (0..1) by which each wait is randomly
	// lengthened or shortened; default 0.1.
	Jitter float64
	// StartSpread spreads the first polls over min(interval, StartSpread),
	// each feed at its own offset (StartOffset), so that a restart does
	// not fetch every feed at once; SpreadInterval spreads each feed's
	// first poll over its interval; 0 polls every feed at once.
	StartSpread time.Duration
	// BackoffBase is the wait after a feed's first failure, doubled after
	// each further one up to BackoffMax; defaults 30s and 1h.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxRetryAfter caps a server's Retry-After; default 6h.
	MaxRetryAfter time.Duration
}

// SpreadInterval, as Config.StartSpread, spreads each feed's first poll
// over its own interval: the collector's default.
const SpreadInterval time.Duration = -1

// StartOffset returns the delay of a feed's first poll within spread: a
// hash of its id, so the same feed starts at the same offset on every
// restart and replica, and many feeds spread evenly.
func StartOffset(feedID string, spread time.Duration) time.Duration {
	if spread <= 0 {
		return 0
	}
	sum := sha256.Sum256([]byte(feedID))
	frac := float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53) // [0, 1)
	return time.Duration(frac * float64(spread))
}

func (p *Poller) firstWait(feed feedlist.Feed) time.Duration {
	switch s := p.cfg.StartSpread; {
	case s == SpreadInterval:
		return StartOffset(feed.ID, feed.Interval)
	case s > 0:
		return StartOffset(feed.ID, min(feed.Interval, s))
	}
	return 0
}

// Handler receives a successful fetch. Returning an error keeps the feed's
// validators where they were and backs the feed off.
type Handler func(ctx context.Context, feed feedlist.Feed, res *fetcher.Result) error

// Metrics are the poller's Prometheus metrics.
type Metrics struct {
	polls    *prometheus.CounterVec
	duration prometheus.Histogram
	items    *prometheus.CounterVec
	up       *prometheus.GaugeVec
	lastOK   *prometheus.GaugeVec
	bytes    prometheus.Counter
	errs     *prometheus.CounterVec
}

// NewMetrics registers the poller's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		polls: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tensionwatch_collector_polls_total",
			Help: "Feed polls by feed and result: ok, not_modified or error.",
		}, []string{"feed", "result"}),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "tensionwatch_collector_poll_duration_seconds",
			Help:    "Time of one poll: fetch, parse and hand-off.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 8),
		}),
		items: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tensionwatch_collector_items_fetched_total",
			Help: "Items in successfully fetched feeds, new or not.",
		}, []string{"feed"}),
		up: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tensionwatch_collector_feed_up",
			Help: "1 if the feed's last poll succeeded, else 0.",
		}, []string{"feed"}),
		lastOK: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tensionwatch_collector_last_success_timestamp_seconds",
			Help: "Unix time of the feed's last successful poll.",
		}, []string{"feed"}),
		bytes: f.NewCounter(prometheus.CounterOpts{
			Name: "tensionwatch_collector_fetch_bytes_total",
			Help: "Feed body bytes read.",
		}),
		errs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tensionwatch_collector_fetch_errors_total",
			Help: "Failed polls by reason: http_4xx, http_5xx, rate_limited, too_large, not_a_feed, private_address, timeout, redirects, network, handoff (the items could not be handed to the collector: its outbox could not be written or is full), other.",
		}, []string{"reason"}),
	}
}

// Touch creates the per-feed series of feed, so that they exist before its
// first poll.
func (m *Metrics) Touch(feed string) {
	m.up.WithLabelValues(feed)
	m.lastOK.WithLabelValues(feed)
	m.items.WithLabelValues(feed)
	for _, r := range []string{"ok", "not_modified", "error"} {
		m.polls.WithLabelValues(feed, r)
	}
}

// Poller polls a set of feeds.
type Poller struct {
	cfg    Config
	f      *fetcher.Fetcher
	feeds  []feedlist.Feed
	handle Handler
	log    *slog.Logger
	m      *Metrics
}

// New returns a poller.
func New(cfg Config, f *fetcher.Fetcher, feeds []feedlist.Feed, handle Handler, log *slog.Logger, m *Metrics) *Poller {
	if cfg.Jitter <= 0 || cfg.Jitter > 1 {
		cfg.Jitter = 0.1
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 30 * time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = time.Hour
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 6 * time.Hour
	}
	return &Poller{cfg: cfg, f: f, feeds: feeds, handle: handle, log: log, m: m}
}

// Run polls until ctx is done, then waits for polls in flight and returns nil.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, feed := range p.feeds {
		p.m.Touch(feed.ID)
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx, feed)
		}()
	}
	wg.Wait()
	return nil
}

func (p *Poller) loop(ctx context.Context, feed feedlist.Feed) {
	var (
		val      fetcher.Validators
		failures int
	)
	wait := p.firstWait(feed)
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		next, err := p.pollOnce(ctx, feed, &val)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			failures = 0
			wait = p.jitter(feed.Interval)
			continue
		}
		failures++
		backoff := p.cfg.BackoffBase << min(failures-1, 20)
		backoff = p.jitter(min(backoff, p.cfg.BackoffMax))
		wait = max(backoff, min(next, p.cfg.MaxRetryAfter))
		reason := fetcher.Reason(err)
		var he handoffError
		if errors.As(err, &he) {
			reason = "handoff"
		}
		p.log.Warn("feed poll failed", "feed", feed.ID, "url", feed.URL, "reason", reason, "err", err, "failures", failures, "next_poll_in", wait.Round(time.Millisecond).String())
	}
}

// handoffError is a Handler's error: the fetch succeeded, its items could
// not be handed off.
type handoffError struct{ error }

func (e handoffError) Unwrap() error { return e.error }

// pollOnce fetches and hands off one feed. On failure it returns the
// server's Retry-After, if any.
func (p *Poller) pollOnce(ctx context.Context, feed feedlist.Feed, val *fetcher.Validators) (time.Duration, error) {
	start := time.Now()
	defer func() { p.m.duration.Observe(time.Since(start).Seconds()) }()
	res, err := p.f.FetchRequest(ctx, fetcher.Request{URL: feed.URL, Validators: *val, Header: feed.Headers})
	if err != nil && ctx.Err() == nil {
		p.m.errs.WithLabelValues(fetcher.Reason(err)).Inc()
	}
	if err == nil {
		p.m.bytes.Add(float64(res.Bytes))
		if !res.NotModified {
			p.m.items.WithLabelValues(feed.ID).Add(float64(len(res.Items)))
		}
		if err = p.handle(ctx, feed, res); err != nil {
			if ctx.Err() == nil {
				p.m.errs.WithLabelValues("handoff").Inc()
			}
			err = handoffError{err}
		}
	}
	if err != nil {
		p.m.polls.WithLabelValues(feed.ID, "error").Inc()
		p.m.up.WithLabelValues(feed.ID).Set(0)
		var he *fetcher.HTTPError
		if errors.As(err, &he) {
			return he.RetryAfter, err
		}
		return 0, err
	}
	*val = res.Validators
	result := "ok"
	if res.NotModified {
		result = "not_modified"
	}
	p.m.polls.WithLabelValues(feed.ID, result).Inc()
	p.m.up.WithLabelValues(feed.ID).Set(1)
	p.m.lastOK.WithLabelValues(feed.ID).SetToCurrentTime()
	p.log.Debug("feed polled", "feed", feed.ID, "status", res.StatusCode, "items", len(res.Items), "bytes", res.Bytes)
	return 0, nil
}

func (p *Poller) jitter(d time.Duration) time.Duration {
	f := 1 + p.cfg.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}
