package backtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func classifier(t testing.TB) (*events.Taxonomy, *events.Classifier) {
	tx := events.DefaultTaxonomy()
	c, err := events.NewClassifier(tx)
	if err != nil {
		t.Fatal(err)
	}
	return tx, c
}

func TestReadsBothFormatsAndDedupes(t *testing.T) {
	tx, c := classifier(t)
	items, skipped, err := ReadItems([]string{"testdata/items.jsonl", "testdata/capture.json"})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 6 || skipped != 1 {
		t.Fatalf("items %d skipped %d, want 6 and 1", len(items), skipped)
	}
	evs := Events(items, c, 0.7)
	if len(evs) != 4 { // two missile reports, the drills once, the coast guard; not the fitness item
		t.Fatalf("got %d events", len(evs))
	}
	if evs[0].Source.Outlet != "Desk" && evs[0].Source.Outlet != "Wire" {
		t.Errorf("outlet %q", evs[0].Source.Outlet)
	}
	rows := Replay(tx, evs, 6*time.Hour)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, tx, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	wantHead := "time,index,taiwan_strait,east_china_sea,south_china_sea,korean_peninsula,sea_of_japan,western_pacific,east_asia,military_pressure,flashpoints,escalation_risk,arms_race,polarisation,modernisation,economic_coercion,de_escalation"
	if lines[0] != wantHead {
		t.Fatalf("header %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "2026-03-01T12:00:00Z,") || len(lines) != len(rows)+1 {
		t.Errorf("first row %q, %d rows", lines[1], len(rows))
	}
	last := rows[len(rows)-1]
	if last.Regions[0] <= 0 || last.Regions[3] <= 0 || last.Index <= 0 {
		t.Errorf("last row %+v", last)
	}
}

func TestSameInputSameOutputByteForByte(t *testing.T) {
	tx, c := classifier(t)
	run := func() []byte {
		items, _, err := ReadItems([]string{"testdata/capture.json", "testdata/items.jsonl"})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		WriteCSV(&buf, tx, Replay(tx, Events(items, c, 0.7), time.Hour))
		return buf.Bytes()
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Fatal("two replays of the same input differ")
	}
}

func TestSpearman(t *testing.T) {
	if r := Spearman([]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}); r != 1 {
		t.Errorf("monotone: %v", r)
	}
	if r := Spearman([]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}); r != -1 {
		t.Errorf("reversed: %v", r)
	}
	if r := Spearman([]float64{1, 1, 2}, []float64{5, 5, 9}); r < 0.99 {
		t.Errorf("ties: %v", r)
	}
}

// TestJointSword2023 replays the ten-day capture of eleven world-news feeds
// around China's April 2023 "Joint Sword" drills (8–10 April) and checks the
// issue's targets. It skips when ../shared is absent.
func TestJointSword2023(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "feeds", "rumca-js-rss-link-database-2023")
	mndPath := filepath.Join("..", "..", "..", "shared", "data", "series", "taiwan_mnd_pla_daily_2015_2026.csv")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the shared April 2023 capture is absent (%s): this backtest needs ../shared/data", dir)
	}
	tx, c := classifier(t)
	items, _, err := ReadItems([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	rows := Replay(tx, Events(items, c, 0.7), time.Hour)
	ts := DailyMax(rows, 0) // taiwan_strait is the first region
	gauge := DailyMax(rows, -1)
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	maxIn := func(series []Daily, from, to string) (v float64) {
		for _, d := range series {
			if !d.Day.Before(day(from)) && !d.Day.After(day(to)) {
				v = max(v, d.Value)
			}
		}
		return v
	}
	before, during := maxIn(ts, "2023-04-03", "2023-04-06"), maxIn(ts, "2023-04-08", "2023-04-10")
	t.Logf("Taiwan Strait sub-index: highest 3–6 April %.2f, highest 8–10 April %.2f (%.1f×)", before, during, during/before)
	if during < 2*before {
		t.Errorf("the Taiwan Strait sub-index reached %.2f during the drills, less than twice its %.2f before", during, before)
	}
	lowest := tx.Index.Bands[0]
	for _, d := range gauge {
		if d.Day.Before(day("2023-04-08")) && tx.Band(d.Value) != lowest.Name {
			t.Errorf("%s: the gauge read %.2f (%s) before the drills", d.Day.Format("2006-01-02"), d.Value, tx.Band(d.Value))
		}
	}
	if top := maxIn(gauge, "2023-04-08", "2023-04-12"); tx.Band(top) != tx.Index.Bands[len(tx.Index.Bands)-1].Name {
		t.Errorf("the gauge peaked at %.2f (%s) during the crisis, not in the top band", top, tx.Band(top))
	}
	if mnd, err := ReadMND(mndPath); err == nil {
		var xs, ys []float64
		for _, d := range ts {
			if v, ok := mnd[d.Day]; ok {
				xs, ys = append(xs, d.Value), append(ys, v)
			}
		}
		t.Logf("Spearman, daily Taiwan Strait peak vs MND PLA aircraft over %d days: %.3f", len(xs), Spearman(xs, ys))
	}
}

// BenchmarkReplay measures classify → cluster → score over synthetic dated
// items: 100,000 items over 30 days, one row per hour.
func BenchmarkReplay(b *testing.B) {
	tx, c := classifier(b)
	templates := []string{
		"China holds drills near Taiwan with %d warplanes, unit k%dk",
		"North Korea fires ballistic missile number k%dk into sea %d",
		"Chinese coast guard ships near Senkakus, day k%dk report %d",
		"US and China hold talks on security, round k%dk %d",
		"Stock markets rise in Tokyo for the k%dk time %d",
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var items []Item
	for i := range 100000 {
		items = append(items, Item{
			Date:   start.Add(time.Duration(i) * 26 * time.Second),
			Source: fmt.Sprint("outlet", i%7), Link: fmt.Sprint("https://x.example/", i),
			Title: fmt.Sprintf(templates[i%len(templates)], i%97, i),
		})
	}
	b.ResetTimer()
	relevant := 0
	for b.Loop() {
		evs := Events(items, c, 0.7)
		Replay(tx, evs, time.Hour)
		relevant += len(evs)
	}
	b.ReportMetric(float64(len(items)*b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(relevant)/b.Elapsed().Seconds(), "events/s")
}

// TestIncidentClustering measures how well reports are grouped into
// incidents, on pairs of real reports labelled same/different
// (testdata/incident-pairs.jsonl). It skips when ../shared is absent.
func TestIncidentClustering(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "feeds", "rumca-js-rss-link-database-2023")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("the shared April 2023 capture is absent (%s): this measurement needs ../shared/data", dir)
	}
	tx, c := classifier(t)
	items, _, err := ReadItems([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	ix := index.New(tx)
	for _, e := range Events(items, c, 0.7) {
		ix.Add(e)
	}
	incidentOf := map[string]string{}
	for _, in := range ix.Incidents() {
		for _, r := range in.Reports {
			incidentOf[r.Link] = in.ID
		}
	}
	f, err := os.ReadFile("testdata/incident-pairs.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var tp, fp, fn, tn int
	for _, line := range strings.Split(strings.TrimSpace(string(f)), "\n") {
		var p struct {
			A, B string
			Same bool
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		ia, oka := incidentOf[p.A]
		ib, okb := incidentOf[p.B]
		if !oka || !okb {
			t.Fatalf("pair %s / %s: a report is missing from the index", p.A, p.B)
		}
		switch together := ia == ib; {
		case together && p.Same:
			tp++
		case together:
			fp++
		case p.Same:
			fn++
		default:
			tn++
		}
	}
	prec, rec := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
	t.Logf("incident pairs: %d same, %d different | clustered together: precision %.2f, recall %.2f, F1 %.2f (tp %d fp %d fn %d tn %d)",
		tp+fn, fp+tn, prec, rec, 2*prec*rec/(prec+rec), tp, fp, fn, tn)
	if prec < clusterFloor.precision || rec < clusterFloor.recall {
		t.Errorf("clustering fell below its floor: precision %.2f (floor %.2f), recall %.2f (floor %.2f)", prec, clusterFloor.precision, rec, clusterFloor.recall)
	}
}

var clusterFloor = struct{ precision, recall float64 }{0.65, 0.6}
