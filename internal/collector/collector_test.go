package collector

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/seen"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// recorder is a Publisher that records what it is given, or fails.
type recorder struct {
	fail error
	got  []events.Event
}

func (r *recorder) Publish(_ context.Context, evs []events.Event) error {
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, evs...)
	return nil
}

func newCollector(t *testing.T, pub Publisher) (*Collector, *seen.Store) {
	t.Helper()
	store, err := seen.Open(filepath.Join(t.TempDir(), "seen.log"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clf, err := classify.NewDefault(events.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	return New(clf, store, pub, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil))), store
}

var feed = feedlist.Feed{ID: "desk", Source: "Desk", Kind: events.KindNews, Credibility: 0.8}

func result() *fetcher.Result {
	pub := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	return &fetcher.Result{Items: []fetcher.Item{
		{GUID: "a", Link: "https://x/a", Title: "North Korea fires ballistic missile into Sea of Japan", Published: pub},
		{GUID: "b", Link: "https://x/b", Title: "Ten minutes of exercise a day keeps you fit", Published: pub},
		{GUID: "a", Link: "https://x/a", Title: "North Korea fires ballistic missile into Sea of Japan", Published: pub}, // repeated in the feed
		{GUID: "", Link: "https://x/c", Title: "Chinese warships hold live-fire drills near Taiwan"},                     // no date
	}}
}

func TestHandleProducesRelevantOnceAndMarksSeen(t *testing.T) {
	pub := &recorder{}
	c, store := newCollector(t, pub)
	if err := c.Handle(context.Background(), feed, result()); err != nil {
		t.Fatal(err)
	}
	if len(pub.got) != 2 {
		t.Fatalf("produced %d events, want 2 (the missile and the drills)", len(pub.got))
	}
	for _, e := range pub.got {
		if err := e.Validate(); err != nil {
			t.Errorf("invalid event: %v", err)
		}
		if e.Source.FeedID != "desk" || e.Source.Credibility != 0.8 {
			t.Errorf("source not carried: %+v", e.Source)
		}
	}
	if pub.got[1].Published != pub.got[1].Fetched {
		t.Error("an item without a date must be dated by its fetch time")
	}
	if store.Len() != 3 {
		t.Errorf("seen holds %d IDs, want 3 (irrelevant items too)", store.Len())
	}
	// A second fetch of the same items produces nothing.
	if err := c.Handle(context.Background(), feed, result()); err != nil {
		t.Fatal(err)
	}
	if len(pub.got) != 2 {
		t.Fatalf("second fetch produced again: %d events", len(pub.got))
	}
	if got := testutil.ToFloat64(c.items.WithLabelValues("duplicate")); got != 5 {
		t.Errorf("duplicates counted %v, want 5", got)
	}
}

func TestHandleMarksNothingSeenWhenKafkaFails(t *testing.T) {
	pub := &recorder{fail: errors.New("broker down")}
	c, store := newCollector(t, pub)
	if err := c.Handle(context.Background(), feed, result()); err == nil {
		t.Fatal("Handle succeeded although the produce failed")
	}
	if store.Len() != 0 {
		t.Fatalf("seen holds %d IDs after a failed produce; the items would be lost", store.Len())
	}
	pub.fail = nil
	if err := c.Handle(context.Background(), feed, result()); err != nil {
		t.Fatal(err)
	}
	if len(pub.got) != 2 {
		t.Fatalf("after the broker returned, produced %d events, want 2", len(pub.got))
	}
}
