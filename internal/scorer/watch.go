package scorer

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/index"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// NoData is the band of every number while the watch is blind: no feed was
// fetched successfully within two poll intervals, so a calm gauge would say
// nothing about the world.
const NoData = "no_data"

// Heartbeat records a collector's heartbeat (see events.Heartbeat).
func (s *Scorer) Heartbeat(value []byte) error {
	h, err := events.UnmarshalHeartbeat(value)
	if err != nil {
		s.decodeFail.Inc()
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.beats[h.Collector]; !ok || h.Time.After(old.Time) {
		s.beats[h.Collector] = h
	}
	return nil
}

// Watch is what the scorer knows of the collectors that feed it.
type Watch struct {
	// Blind is true when no feed was fetched successfully within two of
	// its poll intervals by any collector heard from recently, or no
	// collector has been heard from; Reason says which.
	Blind  bool   `json:"blind"`
	Reason string `json:"reason,omitempty"`
	// Collectors counts the collectors heard from within HeartbeatTimeout,
	// Feeds their feeds and FeedsOK those fetched successfully within two
	// poll intervals.
	Collectors    int        `json:"collectors"`
	Feeds         int        `json:"feeds"`
	FeedsOK       int        `json:"feeds_ok"`
	LastSuccess   *time.Time `json:"last_success,omitempty"`
	LastHeartbeat *time.Time `json:"last_heartbeat,omitempty"`
	// Replay is true while a `tensionwatch --replay` is heard from: the
	// news it sends is old news re-timed, and the page says REPLAY.
	Replay bool `json:"replay,omitempty"`
}

// Watch reports the collectors' health at now.
func (s *Scorer) Watch(now time.Time) Watch {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w Watch
	for _, h := range s.beats {
		if w.LastHeartbeat == nil || h.Time.After(*w.LastHeartbeat) {
			t := h.Time
			w.LastHeartbeat = &t
		}
		if now.Sub(h.Time) > s.cfg.HeartbeatTimeout {
			continue
		}
		w.Collectors++
		w.Replay = w.Replay || strings.HasPrefix(h.Collector, events.ReplayCollectorPrefix)
		w.Feeds += h.Feeds
		w.FeedsOK += h.FeedsOK
		if !h.LastSuccess.IsZero() && (w.LastSuccess == nil || h.LastSuccess.After(*w.LastSuccess)) {
			t := h.LastSuccess
			w.LastSuccess = &t
		}
	}
	switch {
	case w.Collectors == 0 && w.LastHeartbeat == nil:
		w.Blind, w.Reason = true, "no collector heartbeat since the scorer started"
	case w.Collectors == 0:
		w.Blind, w.Reason = true, fmt.Sprintf("no collector heartbeat for %s", now.Sub(*w.LastHeartbeat).Round(time.Second))
	case w.FeedsOK == 0:
		w.Blind, w.Reason = true, fmt.Sprintf("none of %d feeds fetched successfully within two poll intervals", w.Feeds)
	}
	return w
}

// History is what the scorer knows of the events topic's retention.
type History struct {
	// TopicRetention is the topic's retention.ms (bus.Forever: forever;
	// 0: unknown) and Required what the window needs (index.Retention).
	TopicRetention time.Duration
	Required       time.Duration
	// RetainedSince is the earliest message the start-up replay found in a
	// partition whose retention had dropped messages the window needs
	// (zero: none had).
	RetainedSince time.Time
}

// HistoryStatus is History at a moment, for the API.
type HistoryStatus struct {
	// Partial is true while the window reaches back before RetainedSince:
	// the numbers miss what the topic dropped. Reason says why.
	Partial        bool       `json:"partial"`
	Reason         string     `json:"reason,omitempty"`
	RetainedSince  *time.Time `json:"retained_since,omitempty"`
	TopicRetention string     `json:"topic_retention,omitempty"`
	ShortRetention bool       `json:"short_retention"`
}

// SetHistory records what the start-up replay found.
func (s *Scorer) SetHistory(h History) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = h
}

// HistoryAt reports whether the numbers at now are partial.
func (s *Scorer) HistoryAt(now time.Time) HistoryStatus {
	s.mu.Lock()
	h := s.history
	s.mu.Unlock()
	var st HistoryStatus
	switch {
	case h.TopicRetention < 0:
		st.TopicRetention = "forever"
	case h.TopicRetention > 0:
		st.TopicRetention = h.TopicRetention.String()
		st.ShortRetention = h.Required > 0 && h.TopicRetention < h.Required
	}
	if !h.RetainedSince.IsZero() {
		t := h.RetainedSince
		st.RetainedSince = &t
		if cutoff := index.Cutoff(s.tx, now); t.After(cutoff) {
			st.Partial = true
			st.Reason = fmt.Sprintf("the events topic no longer holds messages from before %s (its retention dropped them); the window starts at %s, so the numbers miss what was dropped until %s",
				t.UTC().Format(time.RFC3339), cutoff.Format(time.RFC3339), t.Add(s.tx.Index.Window).UTC().Truncate(24*time.Hour).Add(24*time.Hour).Format(time.RFC3339))
		}
	}
	return st
}

var (
	descPartial   = prometheus.NewDesc("tensionwatch_scorer_history_partial", "1 while the window reaches back before the earliest message the events topic retained at the scorer's start: the numbers miss what retention dropped.", nil, nil)
	descRetention = prometheus.NewDesc("tensionwatch_scorer_topic_retention_seconds", "retention.ms of the events topic as read at start, in seconds (-1: forever; 0: unknown). It must be at least the window plus two days.", nil, nil)
	descBlind     = prometheus.NewDesc("tensionwatch_scorer_blind", "1 when no feed was fetched successfully within two poll intervals (by the collectors' heartbeats): every number then reads no_data.", nil, nil)
	descFeeds     = prometheus.NewDesc("tensionwatch_scorer_feeds", "Feeds of the collectors heard from recently, by their heartbeats.", nil, nil)
	descFeedsOK   = prometheus.NewDesc("tensionwatch_scorer_feeds_ok", "Feeds fetched successfully within two poll intervals, by the collectors' heartbeats.", nil, nil)
	descHeartbeat = prometheus.NewDesc("tensionwatch_scorer_last_heartbeat_timestamp_seconds", "Unix time of the newest collector heartbeat read (0: none yet).", nil, nil)
)

// watchCollector exports the watch's health at scrape time.
type watchCollector struct{ s *Scorer }

func (c watchCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBlind
	ch <- descFeeds
	ch <- descFeedsOK
	ch <- descHeartbeat
	ch <- descPartial
	ch <- descRetention
}

func (c watchCollector) Collect(ch chan<- prometheus.Metric) {
	w := c.s.Watch(c.s.cfg.Now())
	blind, last := 0.0, 0.0
	if w.Blind {
		blind = 1
	}
	if w.LastHeartbeat != nil {
		last = float64(w.LastHeartbeat.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(descBlind, prometheus.GaugeValue, blind)
	ch <- prometheus.MustNewConstMetric(descFeeds, prometheus.GaugeValue, float64(w.Feeds))
	ch <- prometheus.MustNewConstMetric(descFeedsOK, prometheus.GaugeValue, float64(w.FeedsOK))
	ch <- prometheus.MustNewConstMetric(descHeartbeat, prometheus.GaugeValue, last)
	h := c.s.HistoryAt(c.s.cfg.Now())
	partial := 0.0
	if h.Partial {
		partial = 1
	}
	c.s.mu.Lock()
	ret := c.s.history.TopicRetention
	c.s.mu.Unlock()
	retS := ret.Seconds()
	if ret < 0 {
		retS = -1
	}
	ch <- prometheus.MustNewConstMetric(descPartial, prometheus.GaugeValue, partial)
	ch <- prometheus.MustNewConstMetric(descRetention, prometheus.GaugeValue, retS)
}
