package scorer

import (
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Config configures a Scorer. Zero values take the defaults.
type Config struct {
	TopN               int    // contributions listed per number; default 5
	EventsDefaultLimit int    // default 100
	EventsMaxLimit     int    // default 1000
	Version            string // build version, for tensionwatch_build_info
	// Gatherer is what /metrics serves; it should include the Registerer
	// passed to New. Default: that Registerer, if it is a Gatherer.
	Gatherer prometheus.Gatherer
	Now      func() time.Time // default time.Now
}

// Scorer holds the index and its metrics.
type Scorer struct {
	cfg   Config
	tx    *events.Taxonomy
	ix    *index.Index
	log   *slog.Logger
	ready atomic.Bool
	// lastEvent is the Kafka time of the newest message read.
	lastEvent atomic.Pointer[time.Time]

	eventsTotal *prometheus.CounterVec
	severe      *prometheus.CounterVec
	consumed    prometheus.Counter
	dups        prometheus.Counter
	decodeFail  prometheus.Counter
	lag         prometheus.Gauge
}

// New returns a scorer whose metrics are registered with reg.
func New(cfg Config, tx *events.Taxonomy, reg prometheus.Registerer, log *slog.Logger) *Scorer {
	if cfg.TopN <= 0 {
		cfg.TopN = 5
	}
	if cfg.EventsDefaultLimit <= 0 {
		cfg.EventsDefaultLimit = 100
	}
	if cfg.EventsMaxLimit <= 0 {
		cfg.EventsMaxLimit = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Version == "" {
		cfg.Version = "devel"
	}
	s := &Scorer{cfg: cfg, tx: tx, ix: index.New(tx), log: log}
	if s.cfg.Gatherer == nil {
		if g, ok := reg.(prometheus.Gatherer); ok {
			s.cfg.Gatherer = g
		} else {
			s.cfg.Gatherer = prometheus.DefaultGatherer
		}
	}
	f := promauto.With(reg)
	s.eventsTotal = f.NewCounterVec(prometheus.CounterOpts{
		Name: "tensionwatch_events_total",
		Help: "Distinct relevant events scored, by type and region.",
	}, []string{"type", "region"})
	s.severe = f.NewCounterVec(prometheus.CounterOpts{
		Name: "tensionwatch_severe_events_total",
		Help: "Distinct events that page on their own (rules.severe: a missile over Japan, live fire or a blockade around Taiwan, shots fired).",
	}, []string{"type", "region"})
	s.consumed = f.NewCounter(prometheus.CounterOpts{
		Name: "tensionwatch_scorer_events_consumed_total",
		Help: "Messages read from the events topic, duplicates and undecodable ones included.",
	})
	s.dups = f.NewCounter(prometheus.CounterOpts{
		Name: "tensionwatch_scorer_duplicate_events_total",
		Help: "Messages dropped because their event ID was already scored.",
	})
	s.decodeFail = f.NewCounter(prometheus.CounterOpts{
		Name: "tensionwatch_scorer_decode_failures_total",
		Help: "Messages that are not valid v1 events.",
	})
	s.lag = f.NewGauge(prometheus.GaugeOpts{
		Name: "tensionwatch_scorer_consumer_lag_seconds",
		Help: "Age of the last message read from the events topic, by its Kafka timestamp.",
	})
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tensionwatch_scorer_index_events",
		Help: "Events held by the index.",
	}, func() float64 { return float64(s.ix.Len()) })
	f.NewGauge(prometheus.GaugeOpts{
		Name:        "tensionwatch_build_info",
		Help:        "Build and methodology versions; always 1.",
		ConstLabels: prometheus.Labels{"version": cfg.Version, "methodology_version": tx.Version, "goversion": runtime.Version()},
	}).Set(1)
	reg.MustRegister(&indexCollector{s: s})
	for _, ty := range tx.Types {
		for _, r := range tx.Regions {
			s.eventsTotal.WithLabelValues(ty.ID, r.ID)
			s.severe.WithLabelValues(ty.ID, r.ID)
		}
	}
	return s
}

// Index returns the scorer's index.
func (s *Scorer) Index() *index.Index { return s.ix }

// Apply decodes one message value and adds its event. It returns the decode
// error, counted, for the caller to log; duplicates are counted and ignored.
func (s *Scorer) Apply(value []byte, msgTime time.Time) error {
	s.consumed.Inc()
	if !msgTime.IsZero() {
		s.ObserveLag(s.cfg.Now().Sub(msgTime))
		if last := s.lastEvent.Load(); last == nil || msgTime.After(*last) {
			t := msgTime.UTC()
			s.lastEvent.Store(&t)
		}
	}
	e, err := events.Unmarshal(value)
	if err != nil {
		s.decodeFail.Inc()
		return err
	}
	if !s.ix.Add(e) {
		// Add refused it: a duplicate if the index knows the ID (asking
		// after Add, not before, counts two concurrent copies of one event
		// once each way), else irrelevant or of an unknown type or region.
		if s.ix.Known(e.ID) {
			s.dups.Inc()
		}
		return nil
	}
	s.eventsTotal.WithLabelValues(e.Classification.Type, e.Classification.Region).Inc()
	if e.Classification.Severe {
		s.severe.WithLabelValues(e.Classification.Type, e.Classification.Region).Inc()
	}
	return nil
}

// ObserveLag records the consumer lag.
func (s *Scorer) ObserveLag(d time.Duration) {
	s.lag.Set(max(0, d.Seconds()))
}

// SetReady marks the start-up replay as complete (or not).
func (s *Scorer) SetReady(r bool) { s.ready.Store(r) }

// Ready reports whether the start-up replay is complete.
func (s *Scorer) Ready() bool { return s.ready.Load() }

// Snapshot computes the index now.
func (s *Scorer) Snapshot(at time.Time, topN int) index.Snapshot {
	return s.ix.Snapshot(at, topN)
}

// indexCollector computes the gauges at scrape time, so a scrape always
// sees the index decayed to that moment.
type indexCollector struct{ s *Scorer }

var (
	descIndex    = prometheus.NewDesc("tensionwatch_index", "East Asia tension gauge, 0-100.", nil, nil)
	descRegion   = prometheus.NewDesc("tensionwatch_region_index", "Regional tension sub-index, 0-100.", []string{"region"}, nil)
	descCategory = prometheus.NewDesc("tensionwatch_category_index", "Tension sub-index of a section of the policy paper, 0-100.", []string{"category"}, nil)
	descZ        = prometheus.NewDesc("tensionwatch_index_zscore", "Robust z-score of a region's sub-index against its own trailing baseline (see METHODOLOGY.md).", []string{"region"}, nil)
	descComputed = prometheus.NewDesc("tensionwatch_index_last_computed_timestamp_seconds", "Unix time the index was last computed.", nil, nil)
)

func (c *indexCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descIndex
	ch <- descRegion
	ch <- descCategory
	ch <- descZ
	ch <- descComputed
}

func (c *indexCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.s.cfg.Now()
	c.s.ix.Prune(now)
	snap := c.s.ix.Snapshot(now, 0)
	ch <- prometheus.MustNewConstMetric(descIndex, prometheus.GaugeValue, snap.Gauge.Value)
	for id, n := range snap.Regions {
		ch <- prometheus.MustNewConstMetric(descRegion, prometheus.GaugeValue, n.Value, id)
		if n.ZScore != nil {
			ch <- prometheus.MustNewConstMetric(descZ, prometheus.GaugeValue, *n.ZScore, id)
		}
	}
	for id, n := range snap.Categories {
		ch <- prometheus.MustNewConstMetric(descCategory, prometheus.GaugeValue, n.Value, id)
	}
	ch <- prometheus.MustNewConstMetric(descComputed, prometheus.GaugeValue, float64(now.UnixNano())/1e9)
}
