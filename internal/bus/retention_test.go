package bus

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func TestEmbeddedIsOneBrokerWithTheRetentionAsked(t *testing.T) {
	dir := t.TempDir()
	e, c := startBroker(t, EmbeddedConfig{DataDir: dir, Partitions: 2, Retention: 32 * 24 * time.Hour})
	if n := len(e.Addrs()); n != 1 {
		t.Fatalf("the embedded broker runs %d brokers, want 1", n)
	}
	ctx := context.Background()
	if got, err := TopicRetention(ctx, c); err != nil || got != 32*24*time.Hour {
		t.Fatalf("retention %v (%v), want 768h", got, err)
	}
	e.Close()
	// Restored from the data directory with another retention: it follows.
	_, c = startBroker(t, EmbeddedConfig{DataDir: dir, Partitions: 2, Retention: 40 * 24 * time.Hour})
	if got, err := TopicRetention(ctx, c); err != nil || got != 40*24*time.Hour {
		t.Fatalf("after a restart the retention is %v (%v), want 960h", got, err)
	}
}

func TestEnsureTopicSetsRetention(t *testing.T) {
	e, _ := startBroker(t, EmbeddedConfig{Topic: "other", Partitions: 1})
	c := Config{Brokers: e.Addrs(), Topic: "events", Partitions: 3, Retention: 50 * time.Hour}
	ctx := context.Background()
	if err := EnsureTopic(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := TopicRetention(ctx, c); err != nil || got != 50*time.Hour {
		t.Fatalf("retention %v (%v), want 50h", got, err)
	}
	// An existing topic is left as it is: a real cluster's topic is its
	// operators'.
	c.Retention = time.Hour
	if err := EnsureTopic(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := TopicRetention(ctx, c); got != 50*time.Hour {
		t.Fatalf("EnsureTopic changed an existing topic's retention to %v", got)
	}
	if got, _ := TopicRetention(ctx, Config{Brokers: e.Addrs(), Topic: "other"}); got != Forever {
		t.Fatalf("a topic created with no retention keeps messages for %v, want forever", got)
	}
}

// TestRetentionDropsOldMessagesAndReplayReportsIt writes messages of 40 and
// 1 days ago to a topic that keeps 32 days, lets the broker apply its
// retention and replays from 31 days ago: the old messages are gone and the
// replay says which partitions lost part of the window.
func TestRetentionDropsOldMessagesAndReplayReportsIt(t *testing.T) {
	e, c := startBroker(t, EmbeddedConfig{Partitions: 2, Retention: 32 * 24 * time.Hour})
	ctx := context.Background()
	p := NewProducer(c)
	defer p.Close()
	now := time.Now()
	var evs []events.Event
	for i := range 20 {
		at := now.Add(-40 * 24 * time.Hour)
		if i >= 10 {
			at = now.Add(-24 * time.Hour)
		}
		evs = append(evs, testEvent(i, at))
	}
	// Two calls: one batch of old and one of recent messages per
	// partition (a broker drops whole batches).
	for _, part := range [][]events.Event{evs[:10], evs[10:]} {
		if err := p.Publish(ctx, part); err != nil {
			t.Fatal(err)
		}
	}
	since := now.Add(-31 * 24 * time.Hour)
	var rep Replay
	read := func() int {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		n := 0
		ConsumeAll(ctx, c, time.Time{}, func(_ kafka.Message, _ bool) error { n++; return nil },
			func(r Replay) { rep = r; cancel() }, nil)
		return n
	}
	if n := read(); n != 20 || len(rep.Truncated) != 0 {
		t.Fatalf("before retention: read %d, truncated %v; want 20 and none", n, rep.Truncated)
	}
	e.Cluster().ApplyRetention()
	if n := read(); n != 10 {
		t.Fatalf("after retention the topic still holds %d messages, want 10", n)
	}
	ctx2, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	n := 0
	err := ConsumeAll(ctx2, c, since, func(_ kafka.Message, _ bool) error { n++; return nil },
		func(r Replay) { rep = r; cancel() }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Fatalf("after retention the replay read %d messages, want the 10 recent ones", n)
	}
	// Both partitions held old messages only if the hash spread them; each
	// partition that lost messages must be reported, and no other.
	if len(rep.Truncated) == 0 || rep.Earliest.Before(since) || rep.Messages != 10 {
		t.Fatalf("replay report %+v: want truncated partitions, earliest after %v, 10 messages", rep, since)
	}
	if !slices.IsSorted(rep.Truncated) {
		t.Errorf("truncated partitions %v not sorted", rep.Truncated)
	}
}
