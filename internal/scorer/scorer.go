package scorer

import (
	"log/slog"
	"math"
	"runtime"
	"sort"
	"sync"
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
	// HeartbeatTimeout is how long a collector's heartbeat counts; after
	// it, the collector is taken for gone. Default 5 minutes (collectors
	// beat every minute).
	HeartbeatTimeout time.Duration
	// RefreshInterval is how often Run looks for new events to compute a
	// snapshot from (default 5s); MaxSnapshotAge how old the served
	// snapshot may grow without new events (default 30s).
	RefreshInterval time.Duration
	MaxSnapshotAge  time.Duration
}

// Scorer holds the index and its metrics.
type Scorer struct {
	cfg     Config
	tx      *events.Taxonomy
	ix      *index.Index
	log     *slog.Logger
	stale   *staleEvents
	ready   atomic.Bool
	lagBits atomic.Uint64
	// lastEvent is the Kafka time of the newest message read.
	lastEvent atomic.Pointer[time.Time]
	// scored holds when each live severe event was scored, for the page's
	// list of severe events (the rule's clock, not the publication time).
	mu     sync.Mutex
	scored map[string]scoredEvent
	// beats holds each collector's latest heartbeat.
	beats map[string]events.Heartbeat
	// history is what the start-up replay found in the topic.
	history History
	// rf holds the served snapshot (refresh.go).
	rf refresher

	eventsTotal    *prometheus.CounterVec
	severe         *prometheus.CounterVec
	replayed       prometheus.Counter
	refreshSeconds prometheus.Histogram
	consumed       prometheus.Counter
	dups           prometheus.Counter
	decodeFail     prometheus.Counter
	lag            prometheus.Gauge
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
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = 5 * time.Minute
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 5 * time.Second
	}
	if cfg.MaxSnapshotAge <= 0 {
		cfg.MaxSnapshotAge = 30 * time.Second
	}
	if cfg.Version == "" {
		cfg.Version = "devel"
	}
	s := &Scorer{cfg: cfg, tx: tx, ix: index.New(tx), log: log, stale: &staleEvents{log: log}, scored: map[string]scoredEvent{}, beats: map[string]events.Heartbeat{}}
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
	s.replayed = f.NewCounter(prometheus.CounterOpts{
		Name: "tensionwatch_scorer_replayed_events_total",
		Help: "Distinct relevant events scored from the start-up replay of the events topic; they do not move tensionwatch_events_total or tensionwatch_severe_events_total, which count news.",
	})
	s.refreshSeconds = f.NewHistogram(prometheus.HistogramOpts{
		Name:    "tensionwatch_scorer_snapshot_duration_seconds",
		Help:    "Time to prune the index and compute the snapshot that /metrics, the API and the page serve.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
	})
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
		Help: "Age of the last live message read from the events topic, by its Kafka timestamp (replayed messages do not set it).",
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
	reg.MustRegister(&indexCollector{s: s}, watchCollector{s: s})
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

// Apply decodes one live message value (news, not the start-up replay) and
// adds its event. It returns the decode error, counted, for the caller to
// log; duplicates are counted and ignored.
func (s *Scorer) Apply(value []byte, msgTime time.Time) error {
	return s.apply(value, msgTime, false)
}

// Replay adds one message of the start-up replay. A replayed event is
// scored like any other, but it is not news: it moves no counter that an
// alert reads (tensionwatch_events_total, tensionwatch_severe_events_total)
// and not the consumer lag, so that a restarted scorer pages nobody.
func (s *Scorer) Replay(value []byte, msgTime time.Time) error {
	return s.apply(value, msgTime, true)
}

func (s *Scorer) apply(value []byte, msgTime time.Time, replayed bool) error {
	s.consumed.Inc()
	if !msgTime.IsZero() {
		if !replayed {
			s.ObserveLag(s.cfg.Now().Sub(msgTime))
		}
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
	s.rf.gen.Add(1)
	now := s.cfg.Now()
	if t, cutoff := index.EventTime(e), index.Cutoff(s.tx, now); t.Before(cutoff) {
		s.stale.note(t, cutoff, now)
	}
	if replayed {
		s.replayed.Inc()
		return nil
	}
	s.eventsTotal.WithLabelValues(e.Classification.Type, e.Classification.Region).Inc()
	if e.Classification.Severe {
		s.severe.WithLabelValues(e.Classification.Type, e.Classification.Region).Inc()
		s.mu.Lock()
		s.scored[e.ID] = scoredEvent{e, s.cfg.Now()}
		s.mu.Unlock()
	}
	return nil
}

// scoredEvent is a live severe event and when it was scored.
type scoredEvent struct {
	e  events.Event
	at time.Time
}

// SevereSince returns the live severe events scored at or after t, newest
// first, forgetting older ones.
func (s *Scorer) SevereSince(t time.Time) []events.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []scoredEvent
	for id, se := range s.scored {
		if se.at.Before(t) {
			delete(s.scored, id)
			continue
		}
		out = append(out, se)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.After(out[j].at)
		}
		return out[i].e.ID < out[j].e.ID
	})
	evs := make([]events.Event, len(out))
	for i, se := range out {
		evs[i] = se.e
	}
	return evs
}

// ObserveLag records the consumer lag.
func (s *Scorer) ObserveLag(d time.Duration) {
	s.lagBits.Store(math.Float64bits(max(0, d.Seconds())))
	s.lag.Set(max(0, d.Seconds()))
}

func (s *Scorer) lagSeconds() float64 { return math.Float64frombits(s.lagBits.Load()) }

// SetReady marks the start-up replay as complete (or not).
func (s *Scorer) SetReady(r bool) { s.ready.Store(r) }

// Ready reports whether the start-up replay is complete.
func (s *Scorer) Ready() bool { return s.ready.Load() }

// Snapshot computes the index at a time.
func (s *Scorer) Snapshot(at time.Time, topN int) index.Snapshot {
	return s.ix.Snapshot(at, topN)
}

// indexCollector exports the served snapshot (see Run): a scrape costs
// nothing and never holds up the consumer.
type indexCollector struct{ s *Scorer }

var (
	descIndex    = prometheus.NewDesc("tensionwatch_index", "East Asia tension gauge, 0-100.", nil, nil)
	descRegion   = prometheus.NewDesc("tensionwatch_region_index", "Regional tension sub-index, 0-100.", []string{"region"}, nil)
	descCategory = prometheus.NewDesc("tensionwatch_category_index", "Tension sub-index of a section of the policy paper, 0-100.", []string{"category"}, nil)
	descZ        = prometheus.NewDesc("tensionwatch_index_zscore", "Robust z-score of a region's sub-index against its own trailing baseline (see METHODOLOGY.md).", []string{"region"}, nil)
	descComputed = prometheus.NewDesc("tensionwatch_index_last_computed_timestamp_seconds", "Unix time the index was last computed.", nil, nil)
	descDyad     = prometheus.NewDesc("tensionwatch_dyad_index",
		"Tension sub-index of a dyad, a pair of opposed sides (taxonomy dyads: taiwan_prc, allies_dprk, ...), 0-100: the incidents whose actor and target fall in it, weighed like a region's.", []string{"dyad"}, nil)
	descChain = prometheus.NewDesc("tensionwatch_chain_longest_live_incidents",
		"Incidents in the longest live action-reaction chain (each answering the one before it across the two camps, its last within the chains' window of now; see /api/v1/chains); 0 if none.", nil, nil)
)

func (c *indexCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descIndex
	ch <- descRegion
	ch <- descCategory
	ch <- descZ
	ch <- descComputed
	ch <- descDyad
	ch <- descChain
}

func (c *indexCollector) Collect(ch chan<- prometheus.Metric) {
	cur := c.s.current()
	snap, now := cur.snap, cur.at
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
	// Every dyad of the taxonomy, at 0 while it has no incident.
	for _, d := range c.s.tx.Dyads {
		ch <- prometheus.MustNewConstMetric(descDyad, prometheus.GaugeValue, snap.Dyads[d.ID].Value, d.ID)
	}
	ch <- prometheus.MustNewConstMetric(descChain, prometheus.GaugeValue, float64(cur.chains.LongestLive))
	ch <- prometheus.MustNewConstMetric(descComputed, prometheus.GaugeValue, float64(now.UnixNano())/1e9)
}
