package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/replay"
	"github.com/tensionwatch/tensionwatch/internal/scorer"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// replayConfig holds the --replay flags.
type replayConfig struct {
	paths        []string
	speed        float64
	dataDirGiven bool
}

func (c replayConfig) on() bool { return len(c.paths) > 0 }

// validate checks the --replay flags; its errors are usage errors.
func (c replayConfig) validate(speedGiven bool, kc app.KafkaConfig) error {
	switch {
	case speedGiven && !c.on():
		return errors.New("--replay.speed needs --replay PATH")
	case math.IsNaN(c.speed) || math.IsInf(c.speed, 0) || c.speed < 0:
		return fmt.Errorf("--replay.speed %v: want 0 (original dates) or a positive factor such as 60 (an hour a minute)", c.speed)
	case c.on() && len(kc.BrokerList()) > 0 && kc.Topic == bus.DefaultTopic:
		// Every scorer of that topic would take a past crisis re-timed to
		// now for news, and page.
		return fmt.Errorf("--replay with --kafka.brokers needs a topic of its own (--kafka.topic, e.g. tensionwatch.replay.v1): the replayed events would go into %s, where every scorer takes them for news", bus.DefaultTopic)
	}
	return nil
}

// replayRun is what runReplay needs.
type replayRun struct {
	set     *replay.Set
	speed   float64
	bus     bus.Config
	tx      *events.Taxonomy
	clf     *classify.Classifier
	dataDir string
	sc      *scorer.Scorer
	reg     prometheus.Registerer
	log     *slog.Logger
}

// heartbeatWait bounds how long the replay waits for the scorer to hear
// its heartbeat before it sends the first item.
const heartbeatWait = 10 * time.Second

// runReplay waits for the scorer to have read the topic, beats as a
// healthy feed (so that the page does not read NO DATA), replays the items
// through the bus and then keeps beating until ctx is done: the page keeps
// what the replay showed.
func runReplay(ctx context.Context, o replayRun) error {
	if !waitFor(ctx, 0, o.sc.Ready) {
		return nil
	}
	beat := make(chan struct{})
	go func() {
		defer close(beat)
		app.RunHeartbeat(ctx, app.HeartbeatOptions{Bus: o.bus, Feeds: []feedlist.Feed{replay.Feed}, Gatherer: replay.Health(nil),
			Collector: events.ReplayCollectorPrefix + app.CollectorName(o.dataDir), Log: o.log})
	}()
	defer func() { <-beat }()
	if !waitFor(ctx, heartbeatWait, func() bool { return !o.sc.Watch(time.Now()).Blind }) && ctx.Err() == nil {
		o.log.Warn("the scorer has not heard the replay's heartbeat yet; the page may read NO DATA for a while", "waited", heartbeatWait.String())
	}
	prod := bus.NewProducer(o.bus)
	replay.Run(ctx, o.set, replay.Options{
		Classifier: o.clf, Publisher: cleanPublisher{prod}, Speed: o.speed, KeepDates: o.speed == 0,
		Cutoff: func(now time.Time) time.Time { return index.Cutoff(o.tx, now) }, Window: o.tx.Index.Window,
		Registry: o.reg, Log: o.log,
	})
	if err := prod.Close(); err != nil && ctx.Err() == nil {
		o.log.Warn("closing the replay's producer", "err", app.CleanError(err))
	}
	<-ctx.Done()
	return nil
}

// waitFor polls cond until it holds (true), ctx is done or, if limit is
// not 0, limit has passed (false).
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) bool {
	var deadline <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-deadline:
			return false
		case <-tick.C:
		}
	}
	return true
}

// cleanPublisher produces events with errors fit for a log line.
type cleanPublisher struct{ p *bus.Producer }

func (c cleanPublisher) Publish(ctx context.Context, evs []events.Event) error {
	return app.CleanError(c.p.Publish(ctx, evs))
}
