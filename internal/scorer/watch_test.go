package scorer

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// clockScorer is a scorer on a clock the test moves.
func clockScorer(t *testing.T) (*Scorer, *httptest.Server, *atomic.Pointer[time.Time]) {
	t.Helper()
	var clock atomic.Pointer[time.Time]
	t0 := now
	clock.Store(&t0)
	s := New(Config{Now: func() time.Time { return *clock.Load() }, Version: "test"}, events.DefaultTaxonomy(),
		prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv, &clock
}

func beat(t *testing.T, at time.Time, feeds, ok int) []byte {
	t.Helper()
	b, err := events.MarshalHeartbeat(events.Heartbeat{Collector: "c1", Time: at, Feeds: feeds, FeedsOK: ok, LastSuccess: at})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func severe(t *testing.T, i int, ago time.Duration) []byte {
	t.Helper()
	e := events.Event{
		ID:        events.ID("f", strings.Repeat("s", i), ""),
		Source:    events.Source{FeedID: "f", Outlet: "Outlet", Kind: events.KindNews, Credibility: 0.9},
		Link:      "https://x/severe",
		Title:     "North Korean missile flies over Japan",
		Published: now.Add(-ago), Fetched: now,
		Classification: events.Classification{Relevant: true, Type: "weapons_test", Region: "sea_of_japan", Confidence: 1, Severe: true},
	}
	b, err := events.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type indexDoc struct {
	Gauge   struct{ Band string }
	Regions map[string]struct{ Band string }
	Watch   Watch
}

// TestBlindIsNotCalm: with no heartbeat, or one saying no feed was
// fetched within two intervals, every band reads no_data, the metric says
// blind and /api/v1/alerts lists TensionwatchBlind; a healthy heartbeat
// clears it, and its silence for HeartbeatTimeout brings it back.
func TestBlindIsNotCalm(t *testing.T) {
	s, srv, clock := clockScorer(t)
	check := func(wantBlind bool, why string) {
		t.Helper()
		var doc indexDoc
		_, body := get(t, srv.URL+"/api/v1/index")
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Watch.Blind != wantBlind {
			t.Fatalf("%s: blind = %v (%s)", why, doc.Watch.Blind, doc.Watch.Reason)
		}
		band := "calm"
		if wantBlind {
			band = NoData
		}
		if doc.Gauge.Band != band || doc.Regions["taiwan_strait"].Band != band {
			t.Fatalf("%s: gauge band %q, taiwan_strait %q, want %q", why, doc.Gauge.Band, doc.Regions["taiwan_strait"].Band, band)
		}
		m := testtool.ScrapeMetrics(t, srv.URL+"/metrics")
		if v, _ := m.Value("tensionwatch_scorer_blind"); (v == 1) != wantBlind {
			t.Fatalf("%s: tensionwatch_scorer_blind = %v", why, v)
		}
		_, alerts := get(t, srv.URL+"/api/v1/alerts")
		if strings.Contains(alerts, `"TensionwatchBlind"`) != wantBlind {
			t.Fatalf("%s: /api/v1/alerts: %s", why, alerts)
		}
	}
	check(true, "no heartbeat since start")
	if err := s.Heartbeat(beat(t, now, 19, 0)); err != nil {
		t.Fatal(err)
	}
	check(true, "0 of 19 feeds fetched")
	s.Heartbeat(beat(t, now.Add(time.Minute), 19, 3))
	check(false, "3 of 19 feeds fetched")
	_, alerts := get(t, srv.URL+"/api/v1/alerts")
	if !strings.Contains(alerts, "TensionwatchFeedFailing") || !strings.Contains(alerts, "16 of 19 feeds") {
		t.Errorf("16 failing feeds are not listed: %s", alerts)
	}
	later := now.Add(7 * time.Minute) // the last heartbeat is 6 minutes old
	clock.Store(&later)
	check(true, "no heartbeat for 6 minutes")
	if err := s.Heartbeat([]byte(`{"v":1,"collector":"c","time":"2026-11-22T12:00:00Z","feeds":1,"feeds_ok":2}`)); err == nil {
		t.Error("a heartbeat with more feeds ok than feeds was accepted")
	}
}

// TestReplayMovesNoAlertCounter: a replayed severe event is scored but
// moves neither tensionwatch_severe_events_total nor the lag, and is not
// listed as a severe alert; the same event live does all three.
func TestReplayMovesNoAlertCounter(t *testing.T) {
	s, srv, _ := clockScorer(t)
	if err := s.Replay(severe(t, 1, time.Hour), now.Add(-20*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := s.Index().Len(); got != 1 {
		t.Fatalf("the replayed event is not in the index (%d events)", got)
	}
	if v := testutil.ToFloat64(s.severe.WithLabelValues("weapons_test", "sea_of_japan")); v != 0 {
		t.Errorf("replay moved tensionwatch_severe_events_total to %v", v)
	}
	if v := testutil.ToFloat64(s.eventsTotal.WithLabelValues("weapons_test", "sea_of_japan")); v != 0 {
		t.Errorf("replay moved tensionwatch_events_total to %v", v)
	}
	if v := testutil.ToFloat64(s.lag); v != 0 {
		t.Errorf("a 20-day-old replayed message set the lag to %v", v)
	}
	if v := testutil.ToFloat64(s.replayed); v != 1 {
		t.Errorf("tensionwatch_scorer_replayed_events_total = %v", v)
	}
	_, alerts := get(t, srv.URL+"/api/v1/alerts")
	if strings.Contains(alerts, "TensionSevereEvent") {
		t.Errorf("a replayed severe event is listed: %s", alerts)
	}
	s.Apply(severe(t, 2, time.Hour), now.Add(-2*time.Second))
	if v := testutil.ToFloat64(s.severe.WithLabelValues("weapons_test", "sea_of_japan")); v != 1 {
		t.Errorf("a live severe event counted %v", v)
	}
	if v := testutil.ToFloat64(s.lag); v != 2 {
		t.Errorf("lag %v after a live message 2 s old", v)
	}
}

// TestLateSevereEventIsListed: a severe event published an hour before it
// was fetched and scored is listed for 15 minutes from when it was scored
// (the rule's clock), then no longer.
func TestLateSevereEventIsListed(t *testing.T) {
	s, srv, clock := clockScorer(t)
	s.Apply(severe(t, 1, time.Hour), now)
	_, alerts := get(t, srv.URL+"/api/v1/alerts")
	if !strings.Contains(alerts, "TensionSevereEvent") || !strings.Contains(alerts, "missile flies over Japan") {
		t.Fatalf("a severe event published an hour before it was scored is not listed: %s", alerts)
	}
	later := now.Add(SevereEventWindow + time.Second)
	clock.Store(&later)
	_, alerts = get(t, srv.URL+"/api/v1/alerts")
	if strings.Contains(alerts, "TensionSevereEvent") {
		t.Fatalf("still listed after the rule's window: %s", alerts)
	}
}

// TestBandAlertsFollowTheTaxonomy: /api/v1/alerts names and grades the
// band alerts from the taxonomy's bands, whatever they are.
func TestBandAlertsFollowTheTaxonomy(t *testing.T) {
	tx := events.DefaultTaxonomy()
	tx.Index.Bands = []events.Band{{Name: "calm", Min: 0}, {Name: "tense", Min: 5}, {Name: "critical", Min: 10}}
	s := New(Config{Now: func() time.Time { return now }}, tx, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Heartbeat(beat(t, now, 1, 1))
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	s.Apply(wire(t, 1, "military_exercise", "taiwan_strait", time.Hour, "PLA drills around Taiwan"), now)
	_, alerts := get(t, srv.URL+"/api/v1/alerts")
	if !strings.Contains(alerts, `"name": "TensionCritical"`) || !strings.Contains(alerts, `"severity": "page"`) {
		t.Fatalf("the taxonomy's top band did not name and grade the alert: %s", alerts)
	}
}

// TestRunComputesOneSnapshotPerChange: with Run, /metrics and the API are
// served from one snapshot, computed again only when events were added
// (or it grew old), never by a reader.
func TestRunComputesOneSnapshotPerChange(t *testing.T) {
	s := New(Config{Now: func() time.Time { return now }, RefreshInterval: 10 * time.Millisecond}, events.DefaultTaxonomy(),
		prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	computed := func() float64 { return histCount(s) }
	waitUntil(t, "the first snapshot", func() bool { return computed() == 1 })
	for range 20 {
		get(t, srv.URL+"/metrics")
		get(t, srv.URL+"/api/v1/index")
	}
	time.Sleep(100 * time.Millisecond) // ten intervals without news
	if n := computed(); n != 1 {
		t.Fatalf("%v snapshots computed without any event added", n)
	}
	s.Apply(wire(t, 1, "weapons_test", "korean_peninsula", time.Hour, "DPRK missile"), now)
	waitUntil(t, "the event in the served snapshot", func() bool {
		v, _ := testtool.ScrapeMetrics(t, srv.URL+"/metrics").Value("tensionwatch_index")
		return v > 0
	})
	if n := computed(); n != 2 {
		t.Fatalf("%v snapshots computed for one change", n)
	}
}

func histCount(s *Scorer) float64 {
	ch := make(chan prometheus.Metric, 1)
	s.refreshSeconds.Collect(ch)
	var m dto.Metric
	(<-ch).Write(&m)
	return float64(m.GetHistogram().GetSampleCount())
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWatchSaysReplay: the watch says replay while a heartbeat of
// `tensionwatch --replay` is current, and not for a collector's.
func TestWatchSaysReplay(t *testing.T) {
	s, srv, clock := clockScorer(t)
	replay := func() bool {
		t.Helper()
		var doc indexDoc
		_, body := get(t, srv.URL+"/api/v1/index")
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Watch.Replay
	}
	s.Heartbeat(beat(t, now, 3, 3))
	if replay() {
		t.Fatal("a collector's heartbeat reads as a replay")
	}
	b, err := events.MarshalHeartbeat(events.Heartbeat{Collector: events.ReplayCollectorPrefix + "host", Time: now, Feeds: 1, FeedsOK: 1, LastSuccess: now})
	if err != nil {
		t.Fatal(err)
	}
	s.Heartbeat(b)
	if !replay() {
		t.Fatal("a replay's heartbeat does not read as a replay")
	}
	later := now.Add(7 * time.Minute) // both heartbeats older than HeartbeatTimeout
	clock.Store(&later)
	if replay() {
		t.Fatal("a replay no longer heard from still reads as a replay")
	}
}

// TestOldEventsAreLoggedNotDroppedSilently: an event published before the
// window is held as seen and not scored, and says so in the log (once at
// once, then at most a line a minute with the count); one in the window
// is not reported.
func TestOldEventsAreLoggedNotDroppedSilently(t *testing.T) {
	var logs bytes.Buffer
	var clock atomic.Pointer[time.Time]
	t0 := now
	clock.Store(&t0)
	s := New(Config{Now: func() time.Time { return *clock.Load() }, Version: "test"}, events.DefaultTaxonomy(),
		prometheus.NewRegistry(), slog.New(slog.NewJSONHandler(&logs, nil)))
	ev := func(i int, published time.Time) []byte {
		b, err := events.Marshal(events.Event{
			ID:     events.ID("f", strings.Repeat("o", i), ""),
			Source: events.Source{FeedID: "f", Outlet: "Outlet", Kind: events.KindNews, Credibility: 0.9},
			Link:   "https://x/old", Title: "China holds live-fire drills around Taiwan",
			Published: published, Fetched: now,
			Classification: events.Classification{Relevant: true, Type: "military_exercise", Region: "taiwan_strait", Confidence: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	old := now.Add(-60 * 24 * time.Hour)
	for i := 1; i <= 3; i++ {
		if err := s.Apply(ev(i, old.Add(time.Duration(i)*time.Hour)), now); err != nil {
			t.Fatal(err)
		}
	}
	s.Apply(ev(9, now.Add(-time.Hour)), now) // in the window: not reported
	lines := strings.Count(logs.String(), "received events older than the window")
	if lines != 1 || !strings.Contains(logs.String(), `"events":1`) {
		t.Fatalf("after three old events, %d lines (want the first at once): %s", lines, logs.String())
	}
	later := now.Add(2 * time.Minute)
	clock.Store(&later)
	s.stale.flush(later)
	if !strings.Contains(logs.String(), `"events":2,"total":3`) {
		t.Errorf("the next line does not count the other two: %s", logs.String())
	}
}
