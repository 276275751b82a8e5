package backtest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func classifier(t testing.TB) (*events.Taxonomy, *classify.Classifier) {
	tx := events.DefaultTaxonomy()
	c, err := classify.NewDefault(tx)
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
	wantHead := "time,index,taiwan_strait,east_china_sea,south_china_sea,korean_peninsula,sea_of_japan,western_pacific,east_asia,military_pressure,flashpoints,escalation_risk,arms_race,polarisation,modernisation,economic_coercion,de_escalation" +
		",taiwan_prc,philippines_prc,allies_dprk,allies_prc,longest_live_chain" // after the older columns
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
