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
	Log   *slog.Logger
	Now   func() time.Time
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
	delay := 500 * time.Millisecond
	for {
		since := o.Since(now())
		start := time.Now()
		err := bus.ConsumeAll(ctx, o.Bus, since, func(m kafka.Message) error {
			if err := o.Scorer.Apply(m.Value, m.Time); err != nil {
				o.Log.Warn("skipping undecodable message", "partition", m.Partition, "offset", m.Offset, "err", err)
			}
			return nil
		}, func() {
			o.Scorer.SetReady(true)
			o.Log.Info("replay complete; scorer ready", "took", time.Since(start).Round(time.Millisecond).String())
		}, o.Log)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("consumer stopped")
		}
		o.Log.Warn("events topic unreadable; retrying", "err", err, "retry_in", delay.String())
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil
		}
		delay = min(2*delay, 30*time.Second)
	}
}
