package e2e

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// severeEvent is a severe event fetched at fetched.
func severeEvent(i int, fetched time.Time) events.Event {
	return events.Event{
		ID:     events.ID("desk", fmt.Sprint("severe-", i), ""),
		Source: events.Source{FeedID: "desk", Outlet: "Desk", Kind: events.KindNews, Credibility: 0.9},
		Link:   fmt.Sprintf("https://x.example/severe/%d", i), Title: "North Korean missile flies over Japan",
		Published: fetched.Add(-time.Minute), Fetched: fetched,
		Classification: events.Classification{Relevant: true, Type: "weapons_test", Region: "sea_of_japan", Confidence: 1, Severe: true},
	}
}

// TestScorerRestartPagesNobody runs Debian's Prometheus with the project's
// rules against a scorer. Severe events of the last hour are in the topic
// before it starts; two more arrive live and page (TensionSevereEvent
// fires, which shows the rule works here); once that has cleared, the
// scorer restarts on the same address and replays all four, and for the
// next 20 seconds neither TensionSevereEvent nor TensionwatchConsumerLag
// fires, although Prometheus saw the severe counter reset. The rule's
// 15-minute window is shortened to 10 s so that the live page clears
// within the test.
func TestScorerRestartPagesNobody(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	prod := bus.NewProducer(bc)
	defer prod.Close()
	ctx := context.Background()
	now := time.Now()
	// Old enough that a replay setting the lag would read 40 minutes.
	if err := prod.Publish(ctx, []events.Event{severeEvent(1, now.Add(-50*time.Minute)), severeEvent(2, now.Add(-40*time.Minute))}); err != nil {
		t.Fatal(err)
	}

	addr := freePort(t)
	scorer, base := startScorerAt(t, bc, addr)
	promAddr := runPrometheus(t, dir, addr, "", func(rules []byte) []byte {
		return bytes.ReplaceAll(rules, []byte("tensionwatch_severe_events_total[15m]"), []byte("tensionwatch_severe_events_total[10s]"))
	})
	waitFor(t, "Prometheus to scrape the scorer", 60*time.Second, func() bool {
		_, ok := promQuery(promAddr, `tensionwatch_scorer_replayed_events_total`)
		return ok
	})
	if v, _ := promQuery(promAddr, `sum(tensionwatch_severe_events_total)`); v != 0 {
		t.Fatalf("the first start's replay counted %v severe events", v)
	}

	// Two live severe events page.
	if err := prod.Publish(ctx, []events.Event{severeEvent(3, time.Now()), severeEvent(4, time.Now())}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "TensionSevereEvent to fire for the live events", 30*time.Second, func() bool {
		return firingAlerts(promAddr)["TensionSevereEvent/sea_of_japan"]
	})
	waitFor(t, "TensionSevereEvent to clear", 40*time.Second, func() bool {
		return !firingAlerts(promAddr)["TensionSevereEvent/sea_of_japan"]
	})

	// Restart on the same address.
	scorer.stop(t)
	scorer, base = startScorerAt(t, bc, addr)
	defer scorer.stop(t)
	waitFor(t, "the restarted scorer to have replayed the four events", 30*time.Second, func() bool {
		v, _ := metric(t, base, "tensionwatch_scorer_replayed_events_total")
		return v == 4
	})
	waitFor(t, "Prometheus to see the restarted scorer's counter at 0", 30*time.Second, func() bool {
		v, ok := promQuery(promAddr, `sum(tensionwatch_severe_events_total)`)
		return ok && v == 0
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		f := firingAlerts(promAddr)
		if f["TensionSevereEvent/sea_of_japan"] || f["TensionwatchConsumerLag/pipeline"] {
			t.Fatalf("the restart paged: %v", f)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if v, _ := metric(t, base, "tensionwatch_scorer_consumer_lag_seconds"); v != 0 {
		t.Errorf("the replay set the consumer lag to %v s", v)
	}
}
