package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
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
	stale := &staleEvents{log: o.Log}
	go stale.flushEvery(ctx, staleLogEvery)
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
			if !bus.IsHeartbeat(m) {
				stale.check(m.Value, o.Since(now()), now())
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

// staleLogEvery is how often, at most, the scorer logs the events it
// received older than its window.
const staleLogEvery = time.Minute

// staleEvents reports the events that arrive older than the window (by
// their publication time, as the index dates them): the index remembers
// their IDs but scores nothing of them, and without this log they would
// vanish silently (a feed serving old items, a replay with its original
// dates). The first is logged at once, then at most one line a minute
// with the count since the last.
type staleEvents struct {
	log *slog.Logger

	mu      sync.Mutex
	pending int
	total   int
	oldest  time.Time
	cutoff  time.Time
	logged  time.Time
}

// eventTimes is the part of a v1 event that dates it.
type eventTimes struct {
	Published      time.Time `json:"published"`
	Fetched        time.Time `json:"fetched"`
	Classification struct {
		Relevant bool `json:"relevant"`
	} `json:"classification"`
}

// check notes the event of value if it is relevant and dated before cutoff.
func (s *staleEvents) check(value []byte, cutoff, now time.Time) {
	var e eventTimes
	if json.Unmarshal(value, &e) != nil || !e.Classification.Relevant || e.Published.IsZero() {
		return // undecodable events are reported by the scorer
	}
	t := e.Published // index.EventTime: the earlier of the two
	if !e.Fetched.IsZero() && e.Fetched.Before(t) {
		t = e.Fetched
	}
	if !t.Before(cutoff) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending++
	s.total++
	if s.oldest.IsZero() || t.Before(s.oldest) {
		s.oldest = t
	}
	s.cutoff = cutoff
	if now.Sub(s.logged) >= staleLogEvery {
		s.flushLocked(now)
	}
}

func (s *staleEvents) flushEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			if s.pending > 0 && now.Sub(s.logged) >= d {
				s.flushLocked(now)
			}
			s.mu.Unlock()
		}
	}
}

func (s *staleEvents) flushLocked(now time.Time) {
	s.log.Warn("received events older than the window: they are counted as seen but not scored",
		"events", s.pending, "total", s.total, "oldest", s.oldest.UTC().Format(time.RFC3339), "cutoff", s.cutoff.UTC().Format(time.RFC3339),
		"hint", "an event is dated by its publication; a feed serving old items or tensionwatch --replay.speed 0 sends such events")
	s.pending, s.oldest, s.logged = 0, time.Time{}, now
}
