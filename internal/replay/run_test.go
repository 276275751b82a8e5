package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// logLines returns the JSON log lines with message msg.
func logLines(t testing.TB, logs, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// kafkaFixture is an embedded broker, the collector's classifier and the
// project's replay fixture.
type kafkaFixture struct {
	bc  bus.Config
	tx  *events.Taxonomy
	clf interface {
		Classify(title, summary string) events.Classification
	}
	set *Set
}

func newKafkaFixture(t *testing.T) kafkaFixture {
	t.Helper()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	tx, clf, err := app.TaxonomyConfig{}.Load()
	if err != nil {
		t.Fatal(err)
	}
	set, err := Load(filepath.Join("..", "..", "testdata", "replay"))
	if err != nil {
		t.Fatal(err)
	}
	return kafkaFixture{bc: bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}, tx: tx, clf: clf, set: set}
}

// published reads back every event of the topic.
func (f kafkaFixture) published(t *testing.T) []events.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msgs, err := bus.ReadAll(ctx, f.bc, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []events.Event
	for _, m := range msgs {
		e, err := events.Unmarshal(m.Value)
		if err != nil {
			t.Fatalf("offset %d: %v", m.Offset, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// TestRunRetimesThroughKafka replays the fixture through a real broker:
// every item the collector's classifier finds relevant arrives once, as a
// v1 event of the replay feed with the item's outlet, dated when it was
// sent, spaced as the originals were divided by the speed; the log reports
// the start, progress and a summary, and /metrics the counts.
func TestRunRetimesThroughKafka(t *testing.T) {
	f := newKafkaFixture(t)
	want := map[string]Item{}
	for _, it := range f.set.Items {
		if f.clf.Classify(it.Title, it.Summary).Relevant {
			want[it.Link] = it
		}
	}
	if len(want) < 3 {
		t.Fatalf("the classifier finds %d relevant items in the fixture; it is a crisis, want at least 3", len(want))
	}
	prod := bus.NewProducer(f.bc)
	defer prod.Close()
	var logs testtool.SyncBuffer
	reg := prometheus.NewRegistry()
	const speed = 40000 // the fixture's 12 hours in about 1.1 s
	before := time.Now()
	sum := Run(context.Background(), f.set, Options{Classifier: f.clf, Publisher: prod, Speed: speed, ProgressEvery: 100 * time.Millisecond,
		Registry: reg, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	after := time.Now()

	span := f.set.Last().Sub(f.set.First())
	if took := after.Sub(before); took < time.Duration(float64(span)/speed) {
		t.Errorf("the replay took %s; at speed %v the fixture's %s take at least %s", took, float64(speed), span, time.Duration(float64(span)/speed))
	}
	if !sum.Complete || sum.Sent != len(f.set.Items) || sum.Events != len(want) || sum.Events+sum.Irrelevant+sum.Invalid != sum.Sent || !sum.Reached.Equal(f.set.Last()) {
		t.Errorf("summary %+v; want all %d items sent, %d relevant", sum, len(f.set.Items), len(want))
	}

	evs := f.published(t)
	if len(evs) != len(want) {
		t.Fatalf("%d events on the topic, want %d", len(evs), len(want))
	}
	ids := map[string]bool{}
	var firstPub time.Time
	var firstItem Item
	for _, e := range evs {
		it, ok := want[e.Link]
		if !ok {
			t.Errorf("event for %s, which is not a relevant item of the fixture", e.Link)
			continue
		}
		if ids[e.ID] || len(e.ID) != 32 || e.ID == events.ID("", "", e.Link) {
			t.Errorf("event ID %s: duplicate, malformed or the one a live feed gives the link", e.ID)
		}
		ids[e.ID] = true
		if e.Source.FeedID != FeedID || e.Source.Outlet != it.Outlet || e.Source.Kind != events.KindNews || e.Title != it.Title || e.Summary != it.Summary {
			t.Errorf("event %+v for item %+v", e, it)
		}
		if e.Published.Before(before) || e.Published.After(after) || e.Fetched.Before(e.Published) || e.Fetched.After(after) {
			t.Errorf("%s: published %s, fetched %s; the replay ran from %s to %s", it.Title, e.Published, e.Fetched, before, after)
		}
		if firstPub.IsZero() || e.Published.Before(firstPub) {
			firstPub, firstItem = e.Published, it
		}
	}
	// The spacing of the originals, divided by the speed (to rounding).
	for _, e := range evs {
		it := want[e.Link]
		wantGap := time.Duration(float64(it.Time.Sub(firstItem.Time)) / speed)
		if d := e.Published.Sub(firstPub) - wantGap; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s: published %s after the first event, want %s", it.Title, e.Published.Sub(firstPub), wantGap)
		}
	}

	out := logs.String()
	if l := logLines(t, out, "item replay started: each item is dated the moment it is sent"); len(l) != 1 || l[0]["items"] != float64(len(f.set.Items)) || l[0]["speed"] != float64(speed) {
		t.Errorf("start line %v", l)
	}
	prog := logLines(t, out, "item replay progress")
	if len(prog) < 2 {
		t.Errorf("%d progress lines in a %s replay reporting every 100ms:\n%s", len(prog), after.Sub(before), out)
	}
	for _, p := range prog {
		if p["items"] != float64(len(f.set.Items)) || p["sent"].(float64) > float64(len(f.set.Items)) || p["replayed_to"] == nil || p["relevant"] == nil {
			t.Errorf("progress line %v", p)
		}
	}
	if l := logLines(t, out, "item replay finished; the page keeps serving what it showed"); len(l) != 1 || l[0]["relevant"] != float64(len(want)) ||
		l[0]["sent"] != float64(len(f.set.Items)) || l[0]["replayed_to"] != f.set.Last().Format(time.RFC3339) {
		t.Errorf("summary line %v", l)
	}

	var page bytes.Buffer
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		expfmt.MetricFamilyToText(&page, mf)
	}
	m := testtool.ParseMetrics(t, &page)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"tensionwatch_replay_items_total", []string{"result", "event"}, float64(len(want))},
		{"tensionwatch_replay_items_total", []string{"result", "irrelevant"}, float64(sum.Irrelevant)},
		{"tensionwatch_replay_pending_items", nil, 0},
		{"tensionwatch_replay_position_timestamp_seconds", nil, float64(f.set.Last().Unix())},
	} {
		if got, ok := m.Value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (%v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

// TestRunKeepingDates: with the original dates everything goes out at
// once, and the events older than the scorer's window are reported, not
// dropped silently.
func TestRunKeepingDates(t *testing.T) {
	f := newKafkaFixture(t)
	prod := bus.NewProducer(f.bc)
	defer prod.Close()
	var logs testtool.SyncBuffer
	start := time.Now()
	sum := Run(context.Background(), f.set, Options{Classifier: f.clf, Publisher: prod, KeepDates: true, Speed: 60,
		Cutoff: func(now time.Time) time.Time { return index.Cutoff(f.tx, now) }, Window: f.tx.Index.Window,
		Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if took := time.Since(start); took > 10*time.Second || !sum.Complete || sum.Events == 0 || sum.TooOld != sum.Events {
		t.Fatalf("summary %+v after %s; want every event sent at once and reported too old", sum, took)
	}
	for _, e := range f.published(t) {
		if e.Published.Year() != 2022 || e.Fetched.Before(start) {
			t.Errorf("%s: published %s, fetched %s; want the original date, fetched now", e.Title, e.Published, e.Fetched)
		}
	}
	out := logs.String()
	warn := logLines(t, out, "items older than the scorer's window: their events are counted but not scored (the gauge ignores them); give --replay.speed to re-time them to now")
	if len(warn) != 1 || warn[0]["items"] != float64(len(f.set.Items)) || warn[0]["window"] != f.tx.Index.Window.String() {
		t.Errorf("no warning with the count of items too old: %v\n%s", warn, out)
	}
	if l := logLines(t, out, "replayed events older than the scorer's window were counted but not scored"); len(l) != 1 || l[0]["events"] != float64(sum.Events) {
		t.Errorf("the summary does not count the events too old: %v", l)
	}
}

// TestRunStopsWithItsContext: a replay at real time stops when asked,
// saying how far it got.
func TestRunStopsWithItsContext(t *testing.T) {
	f := newKafkaFixture(t)
	prod := bus.NewProducer(f.bc)
	defer prod.Close()
	var logs testtool.SyncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	sum := Run(ctx, f.set, Options{Classifier: f.clf, Publisher: prod, Speed: 1, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if took := time.Since(start); took > 5*time.Second || sum.Complete || sum.Sent < 1 || sum.Sent >= len(f.set.Items) {
		t.Fatalf("summary %+v after %s", sum, took)
	}
	if l := logLines(t, logs.String(), "item replay stopped before its end"); len(l) != 1 || l[0]["sent"] != float64(sum.Sent) {
		t.Errorf("no line saying where it stopped: %s", logs.String())
	}
}

// TestHealthIsAHealthyFeed: the heartbeat reads the replay as one feed
// fetched successfully just now.
func TestHealthIsAHealthyFeed(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	ok, last, err := app.FeedHealth(Health(func() time.Time { return now }), []feedlist.Feed{Feed}, now)
	if err != nil || ok != 1 || !last.Equal(now) {
		t.Fatalf("FeedHealth: %d ok, last %s, %v; want 1, %s", ok, last, err, now)
	}
	// A minute and a half later with the clock stopped: still within two
	// intervals; three minutes later: not.
	if ok, _, _ := app.FeedHealth(Health(func() time.Time { return now }), []feedlist.Feed{Feed}, now.Add(90*time.Second)); ok != 1 {
		t.Error("stale after 90s")
	}
	if ok, _, _ := app.FeedHealth(Health(func() time.Time { return now }), []feedlist.Feed{Feed}, now.Add(3*time.Minute)); ok != 0 {
		t.Error("still healthy three minutes after its last success")
	}
}

// TestRunSkipsTheMonthsBetweenTwoCrises: two crises of one replay, eight
// months apart, follow each other after a day's pause, and the log says so.
func TestRunSkipsTheMonthsBetweenTwoCrises(t *testing.T) {
	f := newKafkaFixture(t)
	set, err := Load(filepath.Join("..", "..", "testdata", "replay"), filepath.Join("testdata", "capture"))
	if err != nil {
		t.Fatal(err)
	}
	prod := bus.NewProducer(f.bc)
	defer prod.Close()
	var logs testtool.SyncBuffer
	start := time.Now()
	// At this speed the eight months would take 20 s, the day a tenth.
	sum := Run(context.Background(), set, Options{Classifier: f.clf, Publisher: prod, Speed: 1e6, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if took := time.Since(start); took > 5*time.Second || !sum.Complete || sum.Sent != len(f.set.Items)+12 {
		t.Fatalf("summary %+v after %s", sum, took)
	}
	gap := logLines(t, logs.String(), "item replay skips a gap without items")
	if len(gap) != 1 || gap[0]["from"] != f.set.Last().Format(time.RFC3339) || gap[0]["to"] != "2023-04-08T02:14:44Z" || gap[0]["played_as"] != "24h0m0s" {
		t.Errorf("gap lines %v", gap)
	}
}
