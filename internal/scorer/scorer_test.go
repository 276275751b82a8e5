package scorer

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newScorer(t *testing.T) (*Scorer, *httptest.Server) {
	t.Helper()
	s := New(Config{Now: func() time.Time { return now }, Version: "test"}, events.DefaultTaxonomy(), prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv
}

func wire(t *testing.T, i int, typ, region string, ago time.Duration, title string) []byte {
	t.Helper()
	e := events.Event{
		ID:        events.ID("f", fmt.Sprint("g", i), ""),
		Source:    events.Source{FeedID: "f", Outlet: "Outlet", Kind: events.KindNews, Credibility: 0.8},
		Link:      fmt.Sprintf("https://x/%d", i),
		Title:     title,
		Published: now.Add(-ago), Fetched: now.Add(-ago),
		Classification: events.Classification{Relevant: true, Type: typ, Region: region, Confidence: 0.9,
			Evidence: []events.Evidence{{Rule: "type:" + typ, Field: "title", Match: "x", Start: 0, End: 1}}},
	}
	b, err := events.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsFromTheStart(t *testing.T) {
	_, srv := newScorer(t)
	m := testtool.ScrapeMetrics(t, srv.URL+"/metrics")
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"tensionwatch_index", nil, 0},
		{"tensionwatch_region_index", []string{"region", "taiwan_strait"}, 0},
		{"tensionwatch_region_index", []string{"region", "east_asia"}, 0},
		{"tensionwatch_category_index", []string{"category", "de_escalation"}, 0},
		{"tensionwatch_index_zscore", []string{"region", "east_china_sea"}, 0},
		{"tensionwatch_events_total", []string{"region", "korean_peninsula", "type", "weapons_test"}, 0},
		{"tensionwatch_severe_events_total", []string{"region", "taiwan_strait", "type", "military_exercise"}, 0},
		{"tensionwatch_scorer_decode_failures_total", nil, 0},
		{"tensionwatch_scorer_consumer_lag_seconds", nil, 0},
		{"tensionwatch_scorer_replayed_events_total", nil, 0},
		{"tensionwatch_scorer_blind", nil, 1}, // no collector heard from yet
		{"tensionwatch_scorer_history_partial", nil, 0},
	} {
		if v, ok := m.Value(c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if v, ok := m.Value("tensionwatch_build_info", "goversion", runtime.Version(), "methodology_version", events.DefaultTaxonomy().Version, "version", "test"); !ok || v != 1 {
		t.Errorf("tensionwatch_build_info = %v (present %v)", v, ok)
	}
	if n := len(m.Series("tensionwatch_region_index")); n != 7 {
		t.Errorf("%d region series, want 7", n)
	}
	if typ := m.Type("tensionwatch_severe_events_total"); typ != "counter" {
		t.Errorf("tensionwatch_severe_events_total is a %s", typ)
	}
}

func TestApplyMovesTheGauge(t *testing.T) {
	s, srv := newScorer(t)
	if err := s.Apply(wire(t, 1, "military_exercise", "taiwan_strait", time.Hour, "PLA drills"), now.Add(-2*time.Second)); err != nil {
		t.Fatal(err)
	}
	s.Apply(wire(t, 1, "military_exercise", "taiwan_strait", time.Hour, "PLA drills"), now) // duplicate
	if err := s.Apply([]byte(`{"v":1,"garbage`), now); err == nil {
		t.Fatal("garbage decoded")
	}
	m := testtool.ScrapeMetrics(t, srv.URL+"/metrics")
	if v, _ := m.Value("tensionwatch_index"); v <= 0 {
		t.Errorf("tensionwatch_index = %v after an event", v)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"tensionwatch_events_total", []string{"region", "taiwan_strait", "type", "military_exercise"}, 1},
		{"tensionwatch_scorer_duplicate_events_total", nil, 1},
		{"tensionwatch_scorer_decode_failures_total", nil, 1},
		{"tensionwatch_scorer_events_consumed_total", nil, 3},
		{"tensionwatch_scorer_index_events", nil, 1},
	} {
		if v, ok := m.Value(c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if v := testutil.ToFloat64(s.lag); v != 0 {
		t.Errorf("lag = %v after a message timestamped now", v)
	}
}

func TestIndexAPI(t *testing.T) {
	s, srv := newScorer(t)
	s.Apply(wire(t, 1, "weapons_test", "korean_peninsula", time.Hour, "DPRK missile"), now)
	code, body := get(t, srv.URL+"/api/v1/index?top=3")
	if code != 200 {
		t.Fatal(code, body)
	}
	var r IndexResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	kp := r.Regions["korean_peninsula"]
	if kp.Value <= 0 || len(kp.Top) != 1 || kp.Top[0].Title != "DPRK missile" || kp.Top[0].Link == "" {
		t.Fatalf("korean_peninsula = %+v", kp)
	}
	if r.MethodologyVersion == "" || len(r.Types) != 15 || len(r.Classes) == 0 || r.ModelVersion == "" || len(r.Bands) == 0 {
		t.Fatalf("methodology not published: %+v", r)
	}
	// At a time long after, the event has decayed.
	_, later := get(t, srv.URL+"/api/v1/index?at="+now.Add(60*24*time.Hour).Format(time.RFC3339))
	var r2 IndexResponse
	json.Unmarshal([]byte(later), &r2)
	if r2.Regions["korean_peninsula"].Value >= kp.Value {
		t.Fatal("?at= did not evaluate at the given time")
	}
	if code, _ := get(t, srv.URL+"/api/v1/index?at=yesterday"); code != 400 {
		t.Errorf("bad at: %d", code)
	}
}

func TestEventsAPI(t *testing.T) {
	s, srv := newScorer(t)
	for i := range 1200 {
		region := "taiwan_strait"
		if i%3 == 0 {
			region = "south_china_sea"
		}
		s.Apply(wire(t, i, "maritime_patrol", region, time.Duration(i)*time.Minute, fmt.Sprintf(`<script>alert(%d)</script>`, i)), now)
	}
	var r EventsResponse
	code, body := get(t, srv.URL+"/api/v1/events")
	json.Unmarshal([]byte(body), &r)
	if code != 200 || r.Count != 100 || r.Events[0].Published.Before(r.Events[1].Published) {
		t.Fatalf("default: code %d, count %d", code, r.Count)
	}
	if strings.Contains(body, "<script>") {
		t.Error("markup in titles must be JSON-escaped")
	}
	_, body = get(t, srv.URL+"/api/v1/events?limit=5000")
	json.Unmarshal([]byte(body), &r)
	if r.Count != 1000 {
		t.Errorf("limit=5000 gave %d events, want the maximum 1000", r.Count)
	}
	_, body = get(t, srv.URL+"/api/v1/events?region=south_china_sea&since="+now.Add(-30*time.Minute).Format(time.RFC3339))
	json.Unmarshal([]byte(body), &r)
	if r.Count != 11 { // i = 0, 3, …, 30: since is inclusive
		t.Errorf("region+since gave %d events, want 11", r.Count)
	}
	for _, q := range []string{"region=mars", "type=picnic", "since=soon", "limit=0", "limit=x"} {
		if code, body := get(t, srv.URL+"/api/v1/events?"+q); code != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
}

func TestReadiness(t *testing.T) {
	s, srv := newScorer(t)
	if code, _ := get(t, srv.URL+"/readyz"); code != 503 {
		t.Errorf("ready before replay: %d", code)
	}
	s.SetReady(true)
	if code, _ := get(t, srv.URL+"/readyz"); code != 200 {
		t.Errorf("not ready after replay: %d", code)
	}
	if code, _ := get(t, srv.URL+"/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
}

// TestMetricsPassPromtool lints /metrics with Prometheus's own promtool.
func TestMetricsPassPromtool(t *testing.T) {
	promtool := testtool.Require(t, "prometheus", "promtool")
	s, srv := newScorer(t)
	s.Apply(wire(t, 1, "military_exercise", "taiwan_strait", time.Hour, "x"), now)
	_, body := get(t, srv.URL+"/metrics")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestDuplicatesAndIrrelevant(t *testing.T) {
	s, _ := newScorer(t)
	msg := wire(t, 7, "air_incursion", "taiwan_strait", time.Hour, "PLA aircraft")
	var wg sync.WaitGroup
	for range 8 { // at-least-once delivery, and concurrent callers
		wg.Go(func() { s.Apply(msg, now) })
	}
	wg.Wait()
	irr := events.Event{ID: events.ID("f", "irrelevant", ""), Source: events.Source{FeedID: "f", Credibility: 1},
		Published: now, Fetched: now, Classification: events.Classification{Confidence: 1}}
	b, err := events.Marshal(irr)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Apply(b, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"events_total", testutil.ToFloat64(s.eventsTotal.WithLabelValues("air_incursion", "taiwan_strait")), 1},
		{"duplicate_events_total", testutil.ToFloat64(s.dups), 7},
		{"events_consumed_total", testutil.ToFloat64(s.consumed), 10},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s.Index().Len() != 1 {
		t.Errorf("index holds %d events, want 1", s.Index().Len())
	}
}

func TestLag(t *testing.T) {
	s, _ := newScorer(t)
	s.Apply(wire(t, 1, "sanction", "east_asia", time.Hour, "x"), now.Add(-90*time.Second))
	if v := testutil.ToFloat64(s.lag); v != 90 {
		t.Errorf("lag = %v, want 90", v)
	}
	s.ObserveLag(3 * time.Second)
	if v := testutil.ToFloat64(s.lag); v != 3 {
		t.Errorf("lag = %v after ObserveLag(3s)", v)
	}
}

func TestEventsAPIFiltersAndHeaders(t *testing.T) {
	s, srv := newScorer(t)
	s.Apply(wire(t, 1, "weapons_test", "korean_peninsula", 2*time.Hour, "older"), now)
	s.Apply(wire(t, 2, "weapons_test", "korean_peninsula", time.Hour, "newer"), now)
	s.Apply(wire(t, 3, "sanction", "korean_peninsula", time.Minute, "other type"), now)
	resp, err := http.Get(srv.URL + "/api/v1/events?type=weapons_test&region=korean_peninsula")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var r EventsResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Count != 2 || r.Events[0].Title != "newer" || r.Events[1].Title != "older" {
		t.Fatalf("got %+v", r)
	}
	code, body := get(t, srv.URL+"/api/v1/events?limit=1")
	json.Unmarshal([]byte(body), &r)
	if code != 200 || r.Count != 1 || r.Events[0].Title != "other type" {
		t.Errorf("limit=1: %d %s", code, body)
	}
	for _, q := range []string{"top=51", "top=-1", "top=x"} {
		if code, body := get(t, srv.URL+"/api/v1/index?"+q); code != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("index?%s: %d %s", q, code, body)
		}
	}
}
