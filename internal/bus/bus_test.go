package bus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func testEvent(i int, fetched time.Time) events.Event {
	return events.Event{
		ID:        events.ID("f", fmt.Sprintf("guid-%d", i), ""),
		Source:    events.Source{FeedID: "f", Outlet: "O", Kind: events.KindNews, Credibility: 0.5},
		Link:      fmt.Sprintf("https://example.com/%d", i),
		Title:     fmt.Sprintf("item %d", i),
		Published: fetched, Fetched: fetched,
	}
}

func startBroker(t testing.TB, cfg EmbeddedConfig) (*Embedded, Config) {
	t.Helper()
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	e, err := StartEmbedded(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e, Config{Brokers: e.Addrs(), Topic: cfg.Topic}
}

// collect reads the topic from since until caught up.
func collect(t *testing.T, c Config, since time.Time) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msgs, err := ReadAll(ctx, c, since)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestProduceAndReplayAllPartitionsByTime(t *testing.T) {
	_, c := startBroker(t, EmbeddedConfig{Partitions: 4})
	ctx := context.Background()
	if err := EnsureTopic(ctx, c); err != nil { // already seeded: must not fail
		t.Fatal(err)
	}
	p := NewProducer(c)
	defer p.Close()
	base := time.Now().Add(-10 * time.Hour).Truncate(time.Second)
	var evs []events.Event
	for i := range 40 {
		evs = append(evs, testEvent(i, base.Add(time.Duration(i)*15*time.Minute)))
	}
	if err := p.Publish(ctx, evs); err != nil {
		t.Fatal(err)
	}

	all := collect(t, c, time.Time{})
	if len(all) != 40 {
		t.Fatalf("replay from the beginning read %d messages, want 40", len(all))
	}
	parts := map[int]bool{}
	for _, m := range all {
		parts[m.Partition] = true
		e, err := events.Unmarshal(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Key) != e.ID {
			t.Errorf("key %q is not the event ID %q", m.Key, e.ID)
		}
		if len(m.Headers) != 1 || string(m.Headers[0].Value) != events.SchemaV1 {
			t.Errorf("headers = %v", m.Headers)
		}
	}
	if len(parts) < 2 {
		t.Errorf("40 keys landed on %d partition(s); the hash balancer should spread them", len(parts))
	}

	// From item 30's fetch time on: exactly items 30..39.
	recent := collect(t, c, base.Add(30*15*time.Minute))
	if len(recent) != 10 {
		t.Fatalf("replay by time read %d messages, want 10", len(recent))
	}
}

func TestSameKeySamePartition(t *testing.T) {
	_, c := startBroker(t, EmbeddedConfig{Partitions: 6})
	p := NewProducer(c)
	defer p.Close()
	e := testEvent(7, time.Now())
	for range 3 {
		if err := p.Publish(context.Background(), []events.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	got := collect(t, c, time.Time{})
	if len(got) != 3 {
		t.Fatalf("read %d, want 3", len(got))
	}
	for _, m := range got[1:] {
		if m.Partition != got[0].Partition {
			t.Fatalf("one key went to partitions %d and %d", got[0].Partition, m.Partition)
		}
	}
}

func TestEmptyTopicIsCaughtUpAtOnce(t *testing.T) {
	_, c := startBroker(t, EmbeddedConfig{Partitions: 2})
	if got := collect(t, c, time.Now().Add(-time.Hour)); len(got) != 0 {
		t.Fatalf("read %d from an empty topic", len(got))
	}
}

func TestEmbeddedBrokerPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	e, c := startBroker(t, EmbeddedConfig{DataDir: dir, Partitions: 2})
	p := NewProducer(c)
	var evs []events.Event
	for i := range 5 {
		evs = append(evs, testEvent(i, time.Now()))
	}
	if err := p.Publish(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	p.Close()
	e.Close()

	_, c2 := startBroker(t, EmbeddedConfig{DataDir: dir, Partitions: 2})
	if got := collect(t, c2, time.Time{}); len(got) != 5 {
		t.Fatalf("after restart read %d messages, want 5", len(got))
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err == nil {
		t.Error("empty config validated")
	}
	if err := (Config{Brokers: []string{"localhost"}, Topic: "t"}).Validate(); err == nil {
		t.Error("broker without port validated")
	}
	if err := (Config{Brokers: []string{"localhost:9092"}, Topic: "t"}).Validate(); err != nil {
		t.Error(err)
	}
}
