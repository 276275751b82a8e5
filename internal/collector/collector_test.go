package collector

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
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
	mu    sync.Mutex
	fail  error
	got   []events.Event
	calls int
}

func (r *recorder) Publish(_ context.Context, evs []events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, evs...)
	return nil
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	r.fail = err
	r.mu.Unlock()
}

func (r *recorder) events() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.got...)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func classifier(t testing.TB) *classify.Classifier {
	t.Helper()
	clf, err := classify.NewDefault(events.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	return clf
}

func newCollector(t *testing.T, pub Publisher) (*Collector, *seen.Store) {
	t.Helper()
	store, err := seen.Open(filepath.Join(t.TempDir(), "seen.log"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return New(classifier(t), store, pub, prometheus.NewRegistry(), quiet), store
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
	if pub.got[0].ID != events.ID("desk", "a", "") {
		t.Errorf("event ID %s is not events.ID(feed, guid, link)", pub.got[0].ID)
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
		t.Fatal("Handle without an outbox succeeded although the produce failed")
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

// TestTwoFeedsWithTheSameGUID: two feeds numbering their items "1" publish
// two items; both become events (with IDs scoped by feed, neither is taken
// for a duplicate of the other).
func TestTwoFeedsWithTheSameGUID(t *testing.T) {
	pub := &recorder{}
	c, _ := newCollector(t, pub)
	at := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	a := feedlist.Feed{ID: "mod-japan", Source: "MOD Japan", Kind: events.KindGovernment, Credibility: 0.9}
	b := feedlist.Feed{ID: "mnd-taiwan", Source: "MND Taiwan", Kind: events.KindGovernment, Credibility: 0.9}
	if err := c.Handle(context.Background(), a, &fetcher.Result{Items: []fetcher.Item{
		{GUID: "1", Link: "https://mod.example.jp/1", Title: "North Korea fires ballistic missile into Sea of Japan", Published: at}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Handle(context.Background(), b, &fetcher.Result{Items: []fetcher.Item{
		{GUID: "1", Link: "https://mnd.example.tw/1", Title: "PLA aircraft cross Taiwan Strait median line", Published: at}}}); err != nil {
		t.Fatal(err)
	}
	got := pub.events()
	if len(got) != 2 {
		t.Fatalf("produced %d events for two feeds' items with GUID \"1\", want 2", len(got))
	}
	if got[0].ID == got[1].ID || got[0].Source.FeedID != "mod-japan" || got[1].Source.FeedID != "mnd-taiwan" {
		t.Fatalf("events: %s from %s, %s from %s", got[0].ID, got[0].Source.FeedID, got[1].ID, got[1].Source.FeedID)
	}
	if dups := testutil.ToFloat64(c.items.WithLabelValues("duplicate")); dups != 0 {
		t.Fatalf("%v items dropped as duplicates", dups)
	}
}

// outboxCollector is a collector with an outbox in dir and a seen store
// with the clock now.
func outboxCollector(t *testing.T, dir string, pub Publisher, ttl time.Duration, now func() time.Time) (*Collector, *seen.Store, *Outbox) {
	t.Helper()
	store, err := seen.OpenWithClock(filepath.Join(dir, "seen.log"), ttl, now)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := OpenOutbox(filepath.Join(dir, "outbox.log"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close(); store.Close() })
	c := New(classifier(t), store, pub, prometheus.NewRegistry(), quiet, WithOutbox(ob), WithRetry(10*time.Millisecond, 50*time.Millisecond))
	return c, store, ob
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestKafkaDownDoesNotFailTheFetch: with an outbox, a fetch succeeds once
// its events are on disk, whatever Kafka does; the drainer retries with
// backoff and marks the items seen only after Kafka acknowledged them.
func TestKafkaDownDoesNotFailTheFetch(t *testing.T) {
	pub := &recorder{fail: errors.New("broker down")}
	c, store, ob := outboxCollector(t, t.TempDir(), pub, 0, time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Drain(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	if err := c.Handle(ctx, feed, result()); err != nil {
		t.Fatalf("the fetch failed because Kafka did: %v", err)
	}
	if ob.Len() != 2 {
		t.Fatalf("outbox holds %d events, want 2", ob.Len())
	}
	waitFor(t, "three failed produce attempts", func() bool { return testutil.ToFloat64(c.fails) >= 3 })
	for _, e := range ob.Peek(10) {
		if store.Has(e.ID) {
			t.Fatalf("event %s marked seen before Kafka acknowledged it", e.ID)
		}
	}
	// The next poll finds the same items: nothing is queued twice.
	if err := c.Handle(ctx, feed, result()); err != nil || ob.Len() != 2 {
		t.Fatalf("second fetch: err %v, outbox %d", err, ob.Len())
	}
	pub.setFail(nil)
	waitFor(t, "the outbox to drain once Kafka is back", func() bool { return ob.Len() == 0 })
	got := pub.events()
	if len(got) != 2 {
		t.Fatalf("produced %d events, want 2", len(got))
	}
	for _, e := range got {
		if !store.Has(e.ID) {
			t.Errorf("event %s produced but not marked seen", e.ID)
		}
	}
	if v := testutil.ToFloat64(c.prod); v != 2 {
		t.Errorf("events_produced_total %v, want 2", v)
	}
}

// TestAcknowledgedBeforeACrashIsNotProducedAgain: an event still in the
// outbox whose item the seen store holds (the crash came between the
// seen-mark and the outbox's acknowledgement) is dropped unproduced.
func TestAcknowledgedBeforeACrashIsNotProducedAgain(t *testing.T) {
	dir := t.TempDir()
	pub := &recorder{}
	c, store, ob := outboxCollector(t, dir, pub, 0, time.Now)
	if err := c.Handle(context.Background(), feed, result()); err != nil {
		t.Fatal(err)
	}
	first := ob.Peek(1)[0]
	if err := store.Add(first.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := pub.events()
	if len(got) != 1 || got[0].ID == first.ID || ob.Len() != 0 {
		t.Fatalf("produced %d events (first %v), outbox %d; want only the one not seen", len(got), len(got) > 0 && got[0].ID == first.ID, ob.Len())
	}
}

// TestOutboxLimit: a full outbox fails the fetch (the poller keeps the
// feed's validators and retries later) and marks nothing seen.
func TestOutboxLimit(t *testing.T) {
	dir := t.TempDir()
	store, _ := seen.Open(filepath.Join(dir, "seen.log"), 0)
	defer store.Close()
	ob, err := OpenOutbox(filepath.Join(dir, "outbox.log"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	c := New(classifier(t), store, &recorder{}, prometheus.NewRegistry(), quiet, WithOutbox(ob))
	err = c.Handle(context.Background(), feed, result())
	if !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("Handle with a full outbox: %v", err)
	}
	if ob.Len() != 0 || store.Len() != 0 {
		t.Fatalf("outbox %d, seen %d after a refused fetch", ob.Len(), store.Len())
	}
}

// TestListedItemsStayKnownAcross304s: an item its feed still lists is kept
// in the seen store past the TTL, also while the feed answers 304; once the
// feed drops it, it is forgotten a TTL later.
func TestListedItemsStayKnownAcross304s(t *testing.T) {
	const ttl = 7 * 24 * time.Hour
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	pub := &recorder{}
	c, store, _ := outboxCollector(t, t.TempDir(), pub, ttl, clock)
	if err := c.Handle(context.Background(), feed, result()); err != nil {
		t.Fatal(err)
	}
	c.Flush(context.Background())
	missile := events.ID("desk", "a", "")
	for range 30 { // a month of daily polls answered 304
		now = now.Add(24 * time.Hour)
		if err := c.Handle(context.Background(), feed, &fetcher.Result{NotModified: true}); err != nil {
			t.Fatal(err)
		}
		store.Expire()
	}
	if !store.Has(missile) || store.Len() != 3 {
		t.Fatalf("listed items forgotten while the feed answered 304: missile %v, len %d", store.Has(missile), store.Len())
	}
	// The feed changes: it now lists only a new item.
	now = now.Add(time.Hour)
	if err := c.Handle(context.Background(), feed, &fetcher.Result{Items: []fetcher.Item{{GUID: "z", Link: "https://x/z", Title: "Weather"}}}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(ttl - 2*time.Hour)
	store.Expire()
	if !store.Has(missile) {
		t.Fatal("forgotten before a TTL had passed since its feed last listed it")
	}
	now = now.Add(2 * time.Hour)
	store.Expire()
	if store.Has(missile) || !store.Has(events.ID("desk", "z", "")) {
		t.Fatalf("after the TTL: missile held %v, new item held %v", store.Has(missile), store.Has(events.ID("desk", "z", "")))
	}
	if len(pub.events()) != 2 {
		t.Fatalf("%d events produced, want 2", len(pub.events()))
	}
}

// TestUpgradeFromFeedlessIDs: a seen store written by a collector whose IDs
// were not scoped by feed holds the old IDs; items found under them are not
// produced again, and are remembered under their new IDs.
func TestUpgradeFromFeedlessIDs(t *testing.T) {
	dir := t.TempDir()
	old := legacyID("a", "https://x/a") + " 1795000000\n" + legacyID("b", "https://x/b") + " 1795000000\n" + legacyID("", "https://x/c") + " 1795000000\n"
	if err := writeSynced(filepath.Join(dir, "seen.log"), []byte(old)); err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	c, store, ob := outboxCollector(t, dir, pub, 7*24*time.Hour, time.Now)
	if err := c.Handle(context.Background(), feed, result()); err != nil {
		t.Fatal(err)
	}
	if ob.Len() != 0 {
		t.Fatalf("%d events queued for items an older collector delivered", ob.Len())
	}
	if !store.Has(events.ID("desk", "a", "")) {
		t.Fatal("the new ID of a delivered item is not remembered")
	}
	// A new item of the same feed is produced.
	if err := c.Handle(context.Background(), feed, &fetcher.Result{Items: []fetcher.Item{
		{GUID: "n", Link: "https://x/n", Title: "North Korea fires ballistic missile into Sea of Japan"}}}); err != nil {
		t.Fatal(err)
	}
	if ob.Len() != 1 {
		t.Fatalf("a new item: outbox %d, want 1", ob.Len())
	}
}

// TestLanguageFallsBackToTheFeedsLang: an item's language is its own, else
// the feed document's, else the feeds file's lang.
func TestLanguageFallsBackToTheFeedsLang(t *testing.T) {
	pub := &recorder{}
	c, _ := newCollector(t, pub)
	f := feed
	f.Lang = "ko"
	at := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	res := &fetcher.Result{Items: []fetcher.Item{
		{GUID: "1", Title: "北, 동해상으로 탄도미사일 발사", Published: at},
		{GUID: "2", Title: "North Korea fires ballistic missile into Sea of Japan", Published: at, Language: "en"},
	}}
	if err := c.Handle(context.Background(), f, res); err != nil {
		t.Fatal(err)
	}
	res.FeedLanguage = "ja"
	res.Items[0].GUID = "3"
	if err := c.Handle(context.Background(), f, res); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range pub.events() {
		got[e.Title+"|"+e.ID[:4]] = e.Language
	}
	want := map[string]string{
		"北, 동해상으로 탄도미사일 발사|" + events.ID("desk", "1", "")[:4]:                                     "ko", // the feeds file's
		"北, 동해상으로 탄도미사일 발사|" + events.ID("desk", "3", "")[:4]:                                     "ja", // the feed document's
		"North Korea fires ballistic missile into Sea of Japan|" + events.ID("desk", "2", "")[:4]: "en", // the item's own
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: language %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}
