package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/scorer"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// TestRestartAcrossADayBoundary: one scorer starts ten minutes before
// midnight UTC and runs past it (its daily prune drops a day from the
// window); another starts ten minutes after midnight and replays the
// window from the topic. Both read the same numbers and the same
// incidents behind them, exactly.
func TestRestartAcrossADayBoundary(t *testing.T) {
	tx := events.DefaultTaxonomy()
	midnight := time.Now().UTC().Truncate(24 * time.Hour).Add(-48 * time.Hour)
	before, after := midnight.Add(-10*time.Minute), midnight.Add(10*time.Minute)

	// 36 days of news up to `before`, each item in the topic at the time
	// it was fetched: stories that straddle days, told by several outlets.
	r := rand.New(rand.NewPCG(5, 5))
	types := []string{"military_exercise", "air_incursion", "maritime_patrol", "weapons_test", "coercive_statement", "diplomatic_engagement"}
	regions := []string{"taiwan_strait", "east_china_sea", "korean_peninsula", "south_china_sea"}
	var evs []events.Event
	for i := range 900 {
		story := r.IntN(150)
		start := before.Add(-36 * 24 * time.Hour).Add(time.Duration(story) * 36 * 24 * time.Hour / 150)
		at := start.Add(time.Duration(r.Int64N(int64(60 * time.Hour)))).Truncate(time.Second)
		if at.After(before) {
			at = before.Add(-time.Duration(r.Int64N(int64(time.Hour))))
		}
		evs = append(evs, events.Event{
			ID:        events.ID("f", fmt.Sprint(i), ""),
			Source:    events.Source{FeedID: "f", Outlet: fmt.Sprint("outlet", r.IntN(5)), Kind: events.KindNews, Credibility: 0.8},
			Link:      fmt.Sprintf("https://x.example/%d", i),
			Title:     fmt.Sprintf("story%d keyword%d report about the sea", story, story%7),
			Published: at, Fetched: at.Add(time.Duration(r.Int64N(int64(2 * time.Hour)))),
			Classification: events.Classification{Relevant: true, Type: types[story%len(types)], Region: regions[story%len(regions)], Confidence: 1},
		})
	}
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	// Written as a collector writes them: in the order fetched, a few at a
	// time (a broker finds a time's offset batch by batch).
	sort.Slice(evs, func(i, j int) bool { return evs[i].Fetched.Before(evs[j].Fetched) })
	prod := bus.NewProducer(bc)
	for i := 0; i < len(evs); i += 10 {
		if err := prod.Publish(context.Background(), evs[i:min(i+10, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	prod.Close()

	run := func(start time.Time) (*scorer.Scorer, *atomic.Pointer[time.Time], func()) {
		var clock atomic.Pointer[time.Time]
		clock.Store(&start)
		now := func() time.Time { return *clock.Load() }
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		sc := scorer.New(scorer.Config{Now: now}, tx, prometheus.NewRegistry(), log)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- RunScorerConsumer(ctx, ConsumeOptions{Bus: bc, Scorer: sc, Log: log, Now: now, Retention: index.Retention(tx),
				Since: func(t time.Time) time.Time { return index.Cutoff(tx, t) }})
		}()
		deadline := time.Now().Add(30 * time.Second)
		for !sc.Ready() {
			if time.Now().After(deadline) {
				t.Fatal("the scorer did not finish its replay")
			}
			time.Sleep(10 * time.Millisecond)
		}
		return sc, &clock, func() { cancel(); <-done }
	}
	a, clockA, stopA := run(before)
	defer stopA()
	a.Refresh(before) // the snapshot before midnight, as the live scorer computes it
	clockA.Store(&after)
	a.Refresh(after) // the first refresh after midnight prunes a day
	b, _, stopB := run(after)
	defer stopB()
	b.Refresh(after)

	if index.Cutoff(tx, after) == index.Cutoff(tx, before) {
		t.Fatal("the test does not cross a day boundary of the window")
	}
	if n := b.Index().Len(); n == 0 || n >= len(evs)-10 {
		t.Fatalf("the restarted scorer holds %d of %d events: the window cuts nothing", n, len(evs))
	}
	if a.Index().Len() != b.Index().Len() {
		t.Fatalf("the scorer that ran on holds %d events, the restarted one %d", a.Index().Len(), b.Index().Len())
	}
	ja, _ := json.Marshal(a.Snapshot(after, 10))
	jb, _ := json.Marshal(b.Snapshot(after, 10))
	if string(ja) != string(jb) {
		t.Fatalf("after midnight the scorer that ran on reads\n%s\nand the restarted one\n%s", ja, jb)
	}
	var snap index.Snapshot
	json.Unmarshal(ja, &snap)
	if snap.Gauge.Value <= 0 {
		t.Fatal("the gauge reads 0: the test compares nothing")
	}
}
