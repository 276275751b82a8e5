package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// HeartbeatPeriod is how often a collector reports its feeds' health on the
// events topic. The scorer's HeartbeatTimeout (5m) allows four missed beats.
const HeartbeatPeriod = time.Minute

// HeartbeatOptions is what RunHeartbeat needs.
type HeartbeatOptions struct {
	Bus   bus.Config
	Feeds []feedlist.Feed
	// Gatherer holds the poller's metrics: a feed's health is read from
	// tensionwatch_collector_last_success_timestamp_seconds, exactly what
	// Prometheus sees.
	Gatherer prometheus.Gatherer
	// Collector names this collector in its heartbeats (CollectorName).
	Collector string
	Period    time.Duration // default HeartbeatPeriod
	Log       *slog.Logger
	Now       func() time.Time
}

// CollectorName is a collector's stable name: the host name and a short
// hash of its data directory, which the data-dir lock makes unique per
// host, so a restarted collector replaces its own earlier heartbeats.
func CollectorName(dataDir string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "collector"
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(abs))
	return host + "-" + hex.EncodeToString(sum[:3])
}

// FeedHealth reads the poller's metrics in g and returns how many feeds
// were fetched successfully within two of their poll intervals at now, and
// the newest successful fetch of any feed (zero if none).
func FeedHealth(g prometheus.Gatherer, feeds []feedlist.Feed, now time.Time) (ok int, last time.Time, err error) {
	mfs, err := g.Gather()
	if err != nil {
		return 0, time.Time{}, err
	}
	success := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "tensionwatch_collector_last_success_timestamp_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "feed" {
					success[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	for _, f := range feeds {
		ts := success[f.ID]
		if ts <= 0 {
			continue
		}
		at := time.Unix(0, int64(ts*1e9))
		if at.After(last) {
			last = at
		}
		if now.Sub(at) <= 2*f.Interval {
			ok++
		}
	}
	return ok, last, nil
}

// RunHeartbeat publishes a heartbeat at once, then every Period, and as
// soon as the count of healthy feeds changes (checked every few seconds),
// until ctx is done. A heartbeat that cannot be produced is logged and
// retried at the next check: the scorer notices the silence
// (tensionwatch_scorer_blind).
func RunHeartbeat(ctx context.Context, o HeartbeatOptions) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	period := o.Period
	if period <= 0 {
		period = HeartbeatPeriod
	}
	maxInterval := time.Duration(0)
	for _, f := range o.Feeds {
		maxInterval = max(maxInterval, f.Interval)
	}
	prod := bus.NewProducer(o.Bus)
	defer prod.Close()
	t := time.NewTicker(min(period, 2*time.Second))
	defer t.Stop()
	var (
		failing bool
		sent    time.Time
		sentOK  = -1
	)
	for {
		at := now()
		ok, last, err := FeedHealth(o.Gatherer, o.Feeds, at)
		if err == nil && (ok != sentOK || at.Sub(sent) >= period) {
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err = prod.PublishHeartbeat(pctx, events.Heartbeat{Collector: o.Collector, Time: at,
				Feeds: len(o.Feeds), FeedsOK: ok, LastSuccess: last, MaxInterval: maxInterval.Seconds()})
			cancel()
			if err == nil {
				sent, sentOK = at, ok
			}
		}
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			o.Log.Warn("cannot publish the collector heartbeat; scorers will report the watch blind if this lasts", "err", CleanError(err))
			failing = true
		case err == nil && failing:
			o.Log.Info("collector heartbeat published again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
