package replay

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Feed is the replay as the heartbeat sees it: one feed, polled every
// minute.
var Feed = feedlist.Feed{ID: FeedID, Source: "replay", Kind: events.KindNews, Credibility: feedlist.DefaultCredibility, Interval: time.Minute}

// Health returns the metrics the collector heartbeat reads a feed's health
// from (tensionwatch_collector_last_success_timestamp_seconds, as the
// poller exports it), with Feed fetched successfully at now(): for
// app.RunHeartbeat, so that a scorer fed by a replay alone does not read
// NO DATA. The replay stays a healthy feed after its last item (a feed
// with nothing new), and the page keeps what it showed until tensionwatch
// stops. It is a registry of its own: beside a live collector, whose
// poller exports the same metric, it must not reach /metrics.
func Health(now func() time.Time) prometheus.Gatherer {
	if now == nil {
		now = time.Now
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "tensionwatch_collector_last_success_timestamp_seconds",
		Help:        "Unix time of the replay's last successful fetch: always now.",
		ConstLabels: prometheus.Labels{"feed": Feed.ID},
	}, func() float64 { return float64(now().UnixNano()) / 1e9 }))
	return reg
}
