package replay

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestLoadWindowLines reads the project's own fixture, JSON lines of a
// crisis window with real dates, as the items the file holds.
func TestLoadWindowLines(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "replay", "pelosi-2022-08-04.jsonl")
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(strings.TrimSpace(string(raw)), "\n") + 1
	if len(s.Items) != lines || s.Records != lines || s.Files != 1 || len(s.Bad)+len(s.Undated)+s.Duplicates != 0 {
		t.Fatalf("%d items of %d records from %d files (bad %v, undated %v, duplicates %d); the file has %d lines",
			len(s.Items), s.Records, s.Files, s.Bad, s.Undated, s.Duplicates, lines)
	}
	if !sort.SliceIsSorted(s.Items, func(i, j int) bool { return s.Items[i].Time.Before(s.Items[j].Time) }) {
		t.Error("items are not in time order")
	}
	// The first line, field by field.
	it := s.Items[0]
	want := Item{Time: time.Date(2022, 8, 4, 8, 17, 47, 0, time.UTC), Source: "CNN (edition RSS)", Outlet: "CNN",
		Link: "https://www.cnn.com/2022/08/04/opinions/nuclear-weapons-proliferation-gutteres-andelman/index.html", At: path + ":1"}
	if !it.Time.Equal(want.Time) || it.Source != want.Source || it.Outlet != want.Outlet || it.Link != want.Link || it.At != want.At || it.Title == "" || it.Summary == "" {
		t.Errorf("first item %+v, want %+v with a title and a summary", it, want)
	}
	var bbc Item
	for _, x := range s.Items {
		if x.Title == "Watch: China launches missiles in Taiwan drills" {
			bbc = x
		}
	}
	if bbc.Outlet != "BBC News" || !bbc.Time.Equal(time.Date(2022, 8, 4, 12, 14, 12, 0, time.UTC)) || !strings.HasPrefix(bbc.Link, "https://www.bbc.co.uk/") {
		t.Errorf("BBC's 12:14 report read as %+v", bbc)
	}
}

// TestLoadCaptureFolder walks a folder of RSS-Link-Database daily captures
// (lists of entries, newest first, one file per feed and day) into one
// stream in time order.
func TestLoadCaptureFolder(t *testing.T) {
	dir := filepath.Join("testdata", "capture")
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 4 || len(s.Items) != 12 || s.Records != 12 {
		t.Fatalf("%d files, %d records, %d items; want 4, 12, 12", s.Files, s.Records, len(s.Items))
	}
	for i := 1; i < len(s.Items); i++ {
		if s.Items[i].Time.Before(s.Items[i-1].Time) {
			t.Fatalf("item %d (%s) before item %d (%s)", i, s.Items[i].Time, i-1, s.Items[i-1].Time)
		}
	}
	first := s.Items[0]
	if first.Title != "After a night of air raids, Palestinians in Gaza fear escalation" || first.Outlet != "aljazeera.com" ||
		first.Language != "en-US" || first.Summary == "" || !strings.HasPrefix(first.At, filepath.Join(dir, "2023-04-08", "http.www.aljazeera.comxmlrssall.xml_entries.json")+":1") {
		t.Errorf("earliest item %+v", first)
	}
	outlets := map[string]int{}
	for _, it := range s.Items {
		outlets[it.Outlet]++
	}
	if !reflect.DeepEqual(outlets, map[string]int{"aljazeera.com": 6, "feeds.bbci.co.uk": 6}) {
		t.Errorf("outlets %v", outlets)
	}
}

// TestLoadReportsWhatItCannotUse: a bad line, a missing and an unparseable
// date, an untitled record, a duplicate; each with its file:line, and the
// good records still read. Nothing is dropped silently.
func TestLoadReportsWhatItCannotUse(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "a.jsonl")
	os.WriteFile(lines, []byte(strings.Join([]string{
		`{"date": "2022-08-04T12:14:12+00:00", "source": "BBC News", "url": "https://x.test/1", "title": "China launches missiles in Taiwan drills"}`,
		``,
		`{"date": "2022-08-04T12:15:00+00:00", "title": "truncated`,
		`{"source": "BBC News", "url": "https://x.test/2", "title": "No date here"}`,
		`{"date": "yesterday", "url": "https://x.test/3", "title": "A date that is not one"}`,
		`{"date": "2022-08-04T13:00:00+00:00", "url": "https://x.test/4", "title": "  "}`,
		`["not", "an", "object"]`,
		`{"date": "2022-08-04T11:00:00Z", "source": "CNN (edition RSS)", "url": "https://X.test/1#top", "title": "The same link, earlier"}`,
		`{"date": "2022-08-04", "title": "Dated by its day only"}`,
	}, "\n")), 0o600)
	capture := filepath.Join(dir, "b.json")
	os.WriteFile(capture, []byte(`{"entries": [
  {"source": "http://feeds.bbci.co.uk/news/rss.xml", "link": "https://x.test/5", "title": "Captured", "date_published": "2022-08-04 10:00:00+00:00"},
  {"source": "http://feeds.bbci.co.uk/news/rss.xml", "link": "https://x.test/6", "title": "Captured without a date", "date_published": null},
  {"source": "http://feeds.bbci.co.uk/news/rss.xml", "link": "https://x.test/7", "title": 7, "date_published": "2022-08-04 10:00:00+00:00"}
]}`), 0o600)
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("not items"), 0o600)
	os.Mkdir(filepath.Join(dir, ".hidden"), 0o700)
	os.WriteFile(filepath.Join(dir, ".hidden", "c.jsonl"), []byte(`{"date": "2022-08-04T00:00:00Z", "title": "hidden"}`), 0o600)

	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, it := range s.Items {
		titles = append(titles, it.Title)
	}
	if want := []string{"Captured", "The same link, earlier", "Dated by its day only"}; !reflect.DeepEqual(titles, want) {
		t.Errorf("items %q, want %q", titles, want)
	}
	if s.Items[2].Time != time.Date(2022, 8, 4, 12, 0, 0, 0, time.UTC) {
		t.Errorf("a bare day is read as %s, want noon UTC", s.Items[2].Time)
	}
	if s.Files != 2 || s.Records != 11 || s.Duplicates != 1 {
		t.Errorf("%d files, %d records, %d duplicates; want 2, 11, 1", s.Files, s.Records, s.Duplicates)
	}
	got := func(ps []Problem) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.At)
		}
		return out
	}
	if want := []string{lines + ":4", lines + ":5", capture + ":3"}; !reflect.DeepEqual(got(s.Undated), want) {
		t.Errorf("undated at %q, want %q", got(s.Undated), want)
	}
	if want := []string{lines + ":3", lines + ":6", lines + ":7", capture + ":4"}; !reflect.DeepEqual(got(s.Bad), want) {
		t.Errorf("bad at %q, want %q (%v)", got(s.Bad), want, s.Bad)
	}
	for _, p := range append(s.Bad, s.Undated...) {
		if p.Reason == "" || strings.Contains(p.Reason, "Go value") || strings.Contains(p.Reason, "replay.record") {
			t.Errorf("%s: reason %q", p.At, p.Reason)
		}
	}
	if !strings.Contains(s.Undated[1].Reason, `"yesterday"`) {
		t.Errorf("the unparseable date is not quoted: %q", s.Undated[1].Reason)
	}
}

// TestLoadFailures: a missing path, a folder without item files and files
// without one dated item fail, saying why.
func TestLoadFailures(t *testing.T) {
	dir := t.TempDir()
	undated := filepath.Join(dir, "undated.jsonl")
	os.WriteFile(undated, []byte(`{"title": "no date"}`+"\n"+`{"title": "none either", "date": ""}`+"\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o700)
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, []byte("[\n {\"title\": \"x\", \"date\": \"2022-08-04\"},\n {oops}\n]"), 0o600)
	for _, c := range []struct {
		path string
		want []string
	}{
		{filepath.Join(dir, "missing"), []string{"missing", "no such file"}},
		{empty, []string{empty, "no .json, .jsonl or .ndjson file"}},
		{undated, []string{"no dated item", "2 records: 2 undated", undated + ":1"}},
	} {
		_, err := Load(c.path)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%s): %v, want it to mention %q", c.path, err, w)
			}
		}
	}
	// A list that breaks keeps what came before, and says where it broke.
	s, err := Load(broken)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Items) != 1 || len(s.Bad) != 1 || s.Bad[0].At != broken+":3" {
		t.Errorf("broken list: %d items, bad %v", len(s.Items), s.Bad)
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2022, 8, 4, 12, 14, 12, 0, time.UTC)
	for _, s := range []string{"2022-08-04T12:14:12+00:00", "2022-08-04 12:14:12+00:00", "2022-08-04T20:14:12+08:00",
		"2022-08-04T12:14:12Z", "2022-08-04 12:14:12", "Thu, 04 Aug 2022 12:14:12 +0000", " 2022-08-04T12:14:12Z "} {
		got, err := ParseDate(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if got, err := ParseDate("2022-10-03 08:47:12.455993+00:00"); err != nil || got.Nanosecond() != 455993000 {
		t.Errorf("microseconds: %v, %v", got, err)
	}
	for _, s := range []string{"", "yesterday", "04/08/2022"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
}

// TestClock: the first item is sent at the start, the rest at Speed times
// real time; Speed 0 sends everything at once with its date.
func TestClock(t *testing.T) {
	t0 := time.Date(2022, 8, 4, 8, 0, 0, 0, time.UTC)
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		speed   float64
		after   time.Duration // of t0
		at      time.Duration // of start
		reached time.Duration // of t0, at start+at
	}{
		{60, 0, 0, 0},
		{60, time.Hour, time.Minute, time.Hour},
		{60, 13 * time.Hour, 13 * time.Minute, 13 * time.Hour},
		{1, 90 * time.Second, 90 * time.Second, 90 * time.Second},
		{3600, 24 * time.Hour, 24 * time.Second, 24 * time.Hour},
		{0.5, time.Minute, 2 * time.Minute, time.Minute},
		{0, 240 * time.Hour, 0, 0},
	} {
		clk := Clock{T0: t0, Start: start, Speed: c.speed}
		if got := clk.At(t0.Add(c.after)); !got.Equal(start.Add(c.at)) {
			t.Errorf("speed %v: an item %s after the first is sent at start+%s, want start+%s", c.speed, c.after, got.Sub(start), c.at)
		}
		if got := clk.Reached(start.Add(c.at)); !got.Equal(t0.Add(c.reached)) {
			t.Errorf("speed %v: at start+%s the replay reached t0+%s, want t0+%s", c.speed, c.at, got.Sub(t0), c.reached)
		}
	}
	if got := (Clock{T0: t0, Start: start, Speed: 1e12}).Reached(start.Add(time.Hour)); got.Before(t0.Add(1000 * time.Hour)) {
		t.Errorf("a huge speed overflows: reached %s", got)
	}
}

// TestSkipGaps: a stretch without items longer than the maximum (the
// months between two crisis windows) is played as the maximum; shorter
// ones as they were.
func TestSkipGaps(t *testing.T) {
	t0 := time.Date(2022, 8, 4, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration) Item { return Item{Time: t0.Add(d)} }
	items := []Item{at(0), at(time.Hour), at(23 * time.Hour), at(23 * time.Hour), at(30 * 24 * time.Hour), at(30*24*time.Hour + time.Minute), at(90 * 24 * time.Hour)}
	got, gaps := SkipGaps(items, 24*time.Hour)
	want := []time.Duration{0, time.Hour, 23 * time.Hour, 23 * time.Hour, 47 * time.Hour, 47*time.Hour + time.Minute, 71*time.Hour + time.Minute}
	for i := range items {
		if got[i].Sub(t0) != want[i] {
			t.Errorf("item %d at t0+%s is played at t0+%s, want t0+%s", i, items[i].Time.Sub(t0), got[i].Sub(t0), want[i])
		}
	}
	wantGaps := []Gap{{4, 30*24*time.Hour - 23*time.Hour}, {6, 60*24*time.Hour - time.Minute}}
	if !reflect.DeepEqual(gaps, wantGaps) {
		t.Errorf("gaps %v, want %v", gaps, wantGaps)
	}
}
