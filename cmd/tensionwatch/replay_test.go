package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/replay"
	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// replayRun is tensionwatch started with args in a goroutine: its base URL,
// its logs, and stop, which ends it and returns its exit code.
type runningTW struct {
	base string
	logs *testtool.SyncBuffer
	stop func() int
}

func startTW(t *testing.T, args ...string) runningTW {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	logs := &testtool.SyncBuffer{}
	go func() {
		done <- run(ctx, append(args, "--web.listen-address", "127.0.0.1:0", "--log.format", "json"), logs, func(a string) { addrc <- a })
	}()
	r := runningTW{logs: logs}
	select {
	case a := <-addrc:
		r.base = "http://" + a
	case code := <-done:
		cancel()
		t.Fatalf("exited with %d: %s", code, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("not serving after 30s: %s", logs.String())
	}
	stopped := false
	r.stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(20 * time.Second):
			t.Fatal("did not stop within 20s of its context ending")
			return -1
		}
	}
	t.Cleanup(func() { r.stop() })
	return r
}

func (r runningTW) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(r.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// logLine returns the first JSON log line with message msg, waiting up to
// limit for it.
func (r runningTW) logLine(t *testing.T, msg string, limit time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		for _, l := range strings.Split(r.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q within %s:\n%s", msg, limit, r.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type indexBody struct {
	Gauge struct {
		Value float64 `json:"value"`
		Band  string  `json:"band"`
	} `json:"gauge"`
	Watch struct {
		Blind    bool `json:"blind"`
		FeedsOK  int  `json:"feeds_ok"`
		Collects int  `json:"collectors"`
	} `json:"watch"`
}

type eventsBody struct {
	Events []events.Event `json:"events"`
	Count  int            `json:"count"`
}

// relevantLinks classifies the items of path with the collector's
// classifier, as the replay must.
func relevantLinks(t *testing.T, path string) (map[string]replay.Item, int) {
	t.Helper()
	_, clf, err := app.TaxonomyConfig{}.Load()
	if err != nil {
		t.Fatal(err)
	}
	set, err := replay.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]replay.Item{}
	for _, it := range set.Items {
		if clf.Classify(it.Title, it.Summary).Relevant {
			want[it.Link] = it
		}
	}
	if len(want) < 3 {
		t.Fatalf("%s: %d relevant items; a crisis needs more", path, len(want))
	}
	return want, len(set.Items)
}

// TestReplayShowsACrisisLive replays the project's fixture (the first
// thirteen hours of the PLA drills after Pelosi's visit, with their real
// 2022 dates) through run(): its relevant items arrive as events dated
// now, the gauge rises above 0 and no number reads no_data, since the
// replay beats as a healthy feed, while no feed is polled; the log reports
// progress and a summary, and the page keeps serving afterwards.
func TestReplayShowsACrisisLive(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "replay")
	want, items := relevantLinks(t, fixture)
	dir := t.TempDir()
	start := time.Now()
	// 6000: the fixture's 12 hours in about 7 s, long enough for a
	// progress line (every 5 s).
	tw := startTW(t, "--replay", fixture, "--replay.speed", "6000", "--data.dir", filepath.Join(dir, "data"))

	if l := tw.logLine(t, "tensionwatch starting", time.Second); l["feeds"] != float64(0) || l["replay"] != fixture {
		t.Errorf("start line %v: want no feed polled, the replay named", l)
	}
	// While it plays: events arrive, the page is not blind.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ix indexBody
		tw.getJSON(t, "/api/v1/index", &ix)
		if ix.Gauge.Value > 0 {
			if ix.Gauge.Band == "no_data" || ix.Watch.Blind || ix.Watch.FeedsOK != 1 {
				t.Errorf("gauge %+v, watch %+v: a replay must not read NO DATA", ix.Gauge, ix.Watch)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gauge still 0 after 30s:\n%s", tw.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	prog := tw.logLine(t, "item replay progress", 20*time.Second)
	if prog["items"] != float64(items) || prog["sent"].(float64) < 1 || !strings.HasPrefix(prog["replayed_to"].(string), "2022-08-04T") {
		t.Errorf("progress line %v", prog)
	}
	sum := tw.logLine(t, "item replay finished; the page keeps serving what it showed", 30*time.Second)
	if sum["sent"] != float64(items) || sum["relevant"] != float64(len(want)) || sum["undated"] != float64(0) {
		t.Errorf("summary %v; want %d items sent, %d relevant", sum, items, len(want))
	}
	end := time.Now()

	var evs eventsBody
	tw.getJSON(t, "/api/v1/events?limit=1000", &evs)
	if evs.Count != len(want) {
		t.Errorf("%d events served, want the %d relevant items", evs.Count, len(want))
	}
	for _, e := range evs.Events {
		it, ok := want[e.Link]
		if !ok || e.Source.FeedID != replay.FeedID || e.Source.Outlet != it.Outlet {
			t.Errorf("event %s from %+v: not a relevant item of the fixture as replayed", e.Link, e.Source)
		}
		if e.Published.Before(start) || e.Published.After(end) {
			t.Errorf("%s: dated %s, not re-timed into the replay (%s to %s)", e.Title, e.Published, start, end)
		}
	}
	// After the replay: still serving, still not blind, the metrics say
	// what was replayed.
	var ix indexBody
	tw.getJSON(t, "/api/v1/index", &ix)
	if ix.Gauge.Value <= 0 || ix.Gauge.Band == "no_data" {
		t.Errorf("after the replay: gauge %+v", ix.Gauge)
	}
	resp, err := http.Get(tw.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m := testtool.ParseMetrics(t, resp.Body)
	resp.Body.Close()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"tensionwatch_replay_items_total", []string{"result", "event"}, float64(len(want))},
		{"tensionwatch_replay_pending_items", nil, 0},
		{"tensionwatch_scorer_blind", nil, 0},
		{"tensionwatch_scorer_feeds_ok", nil, 1},
	} {
		if got, ok := m.Value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (%v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if code := tw.stop(); code != 0 {
		t.Errorf("exit code %d after a clean stop", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "kafka")); err != nil {
		t.Errorf("with --data.dir the broker's log is kept there: %v", err)
	}
}

// TestReplayCaptureFolder replays a folder of RSS-Link-Database daily
// captures (April 2023, "Joint Sword") without --data.dir: the events
// arrive with the captures' outlets, and the temporary data directory is
// gone after the stop.
func TestReplayCaptureFolder(t *testing.T) {
	capture := filepath.Join("..", "..", "internal", "replay", "testdata", "capture")
	want, items := relevantLinks(t, capture)
	tw := startTW(t, "--replay", capture, "--replay.speed", "1000000")
	sum := tw.logLine(t, "item replay finished; the page keeps serving what it showed", 30*time.Second)
	if sum["sent"] != float64(items) || sum["relevant"] != float64(len(want)) {
		t.Errorf("summary %v", sum)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var evs eventsBody
		tw.getJSON(t, "/api/v1/events?limit=1000", &evs)
		var ix indexBody
		tw.getJSON(t, "/api/v1/index", &ix)
		if evs.Count == len(want) && ix.Gauge.Value > 0 {
			for _, e := range evs.Events {
				if it, ok := want[e.Link]; !ok || e.Source.Outlet != it.Outlet || (it.Outlet != "feeds.bbci.co.uk" && it.Outlet != "aljazeera.com") {
					t.Errorf("event %s from %+v", e.Link, e.Source)
				}
			}
			if ix.Gauge.Band == "no_data" {
				t.Error("the page reads NO DATA during a replay")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events, gauge %v after 20s; want %d events and a gauge above 0", evs.Count, ix.Gauge.Value, len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
	dataDir, _ := tw.logLine(t, "tensionwatch starting", time.Second)["data_dir"].(string)
	if !strings.Contains(filepath.Base(dataDir), "tensionwatch-replay-") {
		t.Fatalf("data_dir %q: want a temporary directory", dataDir)
	}
	if _, err := os.Stat(dataDir); err != nil {
		t.Errorf("temporary data directory missing while running: %v", err)
	}
	if code := tw.stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("temporary data directory %s left behind (%v)", dataDir, err)
	}
}

// TestReplayKeepingDatesSaysWhyTheGaugeStaysAt0: with --replay.speed 0 the
// items keep their 2022 dates; both the replay and the scorer say in the
// log that those events are older than the window and not scored.
func TestReplayKeepingDatesSaysWhyTheGaugeStaysAt0(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "replay", "pelosi-2022-08-04.jsonl")
	want, items := relevantLinks(t, fixture)
	tw := startTW(t, "--replay", fixture, "--replay.speed", "0", "--data.dir", filepath.Join(t.TempDir(), "data"))
	warn := tw.logLine(t, "items older than the scorer's window: their events are counted but not scored (the gauge ignores them); give --replay.speed to re-time them to now", 20*time.Second)
	if warn["items"] != float64(items) || warn["level"] != "WARN" {
		t.Errorf("replay warning %v", warn)
	}
	stale := tw.logLine(t, "received events older than the window: they are counted as seen but not scored", 20*time.Second)
	if stale["level"] != "WARN" || stale["events"].(float64) < 1 || !strings.HasPrefix(stale["oldest"].(string), "2022-08-04T") {
		t.Errorf("scorer warning %v", stale)
	}
	tw.logLine(t, "item replay finished; the page keeps serving what it showed", 20*time.Second)
	var ix indexBody
	tw.getJSON(t, "/api/v1/index", &ix)
	var evs eventsBody
	tw.getJSON(t, "/api/v1/events", &evs)
	if ix.Gauge.Value != 0 || evs.Count != 0 || len(want) == 0 {
		t.Errorf("gauge %v with %d events held; items of 2022 are outside the window", ix.Gauge.Value, evs.Count)
	}
}

// TestReplayFlagErrors: misuse is a usage error (exit 2) and a path that
// is not there fails the start (exit 1), each saying why.
func TestReplayFlagErrors(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "replay")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--replay.speed", "10"}, 2, "--replay.speed needs --replay PATH"},
		{[]string{"--replay", fixture, "--replay.speed", "-1"}, 2, "--replay.speed -1: want 0"},
		{[]string{"--replay", fixture, "--replay.speed", "NaN"}, 2, "--replay.speed NaN"},
		{[]string{"--replay", ""}, 2, "empty path"},
		{[]string{"--replay", fixture, "--kafka.brokers", "127.0.0.1:1"}, 2, "needs a topic of its own"},
		{[]string{"--replay", filepath.Join(fixture, "missing.jsonl"), "--data.dir", t.TempDir()}, 1, "missing.jsonl"},
	} {
		var out testtool.SyncBuffer
		if code := run(context.Background(), c.args, &out, nil); code != c.code || !strings.Contains(out.String(), c.want) {
			t.Errorf("%q: exit %d, want %d and %q; output:\n%s", c.args, code, c.code, c.want, out.String())
		}
	}
	var out testtool.SyncBuffer
	run(context.Background(), []string{"--help"}, &out, nil)
	for _, w := range []string{"-replay value", "-replay.speed float", "no feed is polled unless given"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("--help lacks %q", w)
		}
	}
}
