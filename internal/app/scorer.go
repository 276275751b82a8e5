package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/scorer"
)

// ConsumeOptions is what RunScorerConsumer needs.
type ConsumeOptions struct {
	Bus    bus.Config
	Scorer *scorer.Scorer
	// Since returns where to start replaying at now (index.Cutoff).
	Since func(now time.Time) time.Time
	// Retention is what the topic must keep for a replay to hold the
	// whole window (index.Retention); a topic that keeps less is reported.
	Retention time.Duration
	Log       *slog.Logger
	Now       func() time.Time
}

// RunScorerConsumer feeds every partition of the events topic into the
// scorer until ctx is done. On start it replays from Since(now) and
// marks the scorer ready once it has caught up. If the brokers go away it
// retries, replaying the window again; duplicates are dropped by event ID.
func RunScorerConsumer(ctx context.Context, o ConsumeOptions) error {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if err := waitForTopic(ctx, o.Bus, o.Log); err != nil {
		return err
	}
	hist := scorer.History{Required: o.Retention}
	switch ret, err := bus.TopicRetention(ctx, o.Bus); {
	case err != nil:
		o.Log.Warn("cannot read the events topic's retention; a restart may replay less than the window", "err", CleanError(err))
	case ret != bus.Forever && ret < o.Retention:
		hist.TopicRetention = ret
		o.Log.Warn("the events topic keeps messages for less than the window plus two days: after a restart the numbers will miss what it dropped; raise its retention.ms",
			"topic", o.Bus.Topic, "retention", ret.String(), "required", o.Retention.String())
	default:
		hist.TopicRetention = ret
	}
	o.Scorer.SetHistory(hist)
	// A message written before the scorer started is replay, not news: a
	// restart must page nobody. On a retry after the brokers went away,
	// messages written since the start are news even though they are
	// already in the topic when the retry begins.
	started := now()
	delay := 500 * time.Millisecond
	for {
		since := o.Since(now())
		start := time.Now()
		err := bus.ConsumeAll(ctx, o.Bus, since, func(m kafka.Message, replayed bool) error {
			var err error
			switch {
			case bus.IsHeartbeat(m):
				err = o.Scorer.Heartbeat(m.Value)
			case replayed && m.Time.Before(started):
				err = o.Scorer.Replay(m.Value, m.Time)
			default:
				err = o.Scorer.Apply(m.Value, m.Time)
			}
			if err != nil {
				o.Log.Warn("skipping undecodable message", "partition", m.Partition, "offset", m.Offset, "err", err)
			}
			return nil
		}, func(rep bus.Replay) {
			if len(rep.Truncated) > 0 {
				hist.RetainedSince = rep.Earliest
				o.Scorer.SetHistory(hist)
				o.Log.Warn("the events topic no longer holds the whole window: the numbers are partial",
					"reason", o.Scorer.HistoryAt(now()).Reason, "partitions", rep.Truncated)
			}
			o.Scorer.SetReady(true)
			o.Log.Info("replay complete; scorer ready", "messages", rep.Messages, "since", since.Format(time.RFC3339),
				"took", time.Since(start).Round(time.Millisecond).String())
		}, o.Log)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("consumer stopped")
		}
		o.Log.Warn("events topic unreadable; retrying", "err", CleanError(err), "retry_in", delay.String())
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil
		}
		delay = min(2*delay, 30*time.Second)
	}
}
