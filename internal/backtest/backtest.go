// Package backtest replays dated news items through classify → cluster →
// score on simulated time and writes the series of the gauge and every
// sub-index. The same input gives the same output, byte for byte.
package backtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Item is one dated news item.
type Item struct {
	Date    time.Time
	Source  string
	Link    string
	Title   string
	Summary string
}

// ReadItems reads items from files and folders (recursively): JSON lines of
// {date, source, url, title, summary} (the dev-set format), or JSON files
// holding a list, or {"entries": [...]}, of {source, link, title,
// description, date_published} (RSS-Link-Database captures). Files are read
// in name order; an item without a date or title is skipped and counted.
func ReadItems(paths []string) (items []Item, skipped int, err error) {
	var files []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl")) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, 0, fmt.Errorf("backtest: %w", err)
		}
	}
	sort.Strings(files)
	for _, f := range files {
		got, s, err := readFile(f)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, got...)
		skipped += s
	}
	return items, skipped, nil
}

type rawItem struct {
	Date          string `json:"date"`
	DatePublished string `json:"date_published"`
	Source        string `json:"source"`
	URL           string `json:"url"`
	Link          string `json:"link"`
	Title         string `json:"title"`
	Summary       string `json:"summary"`
	Description   string `json:"description"`
}

func readFile(path string) ([]Item, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("backtest: %w", err)
	}
	defer f.Close()
	var raws []rawItem
	if strings.HasSuffix(path, ".jsonl") {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for n := 1; sc.Scan(); n++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var r rawItem
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return nil, 0, fmt.Errorf("backtest: %s:%d: %w", path, n, err)
			}
			raws = append(raws, r)
		}
		if err := sc.Err(); err != nil {
			return nil, 0, fmt.Errorf("backtest: %s: %w", path, err)
		}
	} else {
		b, err := io.ReadAll(f)
		if err != nil {
			return nil, 0, fmt.Errorf("backtest: %s: %w", path, err)
		}
		if err := json.Unmarshal(b, &raws); err != nil {
			var wrapped struct {
				Entries []rawItem `json:"entries"`
			}
			if err2 := json.Unmarshal(b, &wrapped); err2 != nil {
				return nil, 0, fmt.Errorf("backtest: %s: neither a list nor {\"entries\": [...]}: %w", path, err)
			}
			raws = wrapped.Entries
		}
	}
	var items []Item
	skipped := 0
	for _, r := range raws {
		d := r.Date
		if d == "" {
			d = r.DatePublished
		}
		t, err := parseDate(d)
		link := firstNonEmpty(r.URL, r.Link)
		if err != nil || strings.TrimSpace(r.Title) == "" {
			skipped++
			continue
		}
		items = append(items, Item{Date: t, Source: r.Source, Link: link, Title: r.Title, Summary: firstNonEmpty(r.Summary, r.Description)})
	}
	return items, skipped, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unparseable date %q", s)
}

// Classifier classifies an item by its title and summary.
type Classifier interface {
	Classify(title, summary string) events.Classification
}

// DefaultCredibility is the credibility a backtest gives every source: the
// feeds file's default for a general newsroom.
const DefaultCredibility = 0.7

// Events classifies items and returns the relevant ones as events, once
// per link, in time order. An item dated only by day counts at noon UTC.
// Each item's outlet (see OutletName) is its feed and its source.
func Events(items []Item, c Classifier, credibility float64) []events.Event {
	seen := map[string]bool{}
	var out []events.Event
	for _, it := range items {
		id := events.ID("", "", it.Link)
		if it.Link == "" {
			id = events.ID(it.Source, it.Title, "")
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		cls := c.Classify(it.Title, it.Summary)
		if !cls.Relevant {
			continue
		}
		t := it.Date
		if t.Equal(t.Truncate(24 * time.Hour)) {
			t = t.Add(12 * time.Hour)
		}
		outlet := OutletName(it.Source)
		out = append(out, events.Event{
			V: events.WireVersion, ID: id,
			Source: events.Source{FeedID: outlet, Outlet: outlet, Kind: events.KindNews, Credibility: credibility},
			Link:   it.Link, Title: it.Title, Summary: it.Summary,
			Published: t, Fetched: t, Classification: cls,
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Published.Equal(out[j].Published) {
			return out[i].Published.Before(out[j].Published)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// OutletName names the outlet of a source: a feed URL's host
// ("feeds.bbci.co.uk"), or a source name without its parenthesised feed
// ("CNN (World RSS)" and "CNN (International Edition RSS)" are both "CNN"):
// two feeds of one newsroom are one outlet, not two corroborating ones.
func OutletName(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return strings.TrimPrefix(u.Host, "www.")
	}
	if i := strings.Index(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		return s[:i]
	}
	return s
}

// Row is the index at one step.
type Row struct {
	Time       time.Time
	Index      float64
	Regions    []float64 // in taxonomy order
	Categories []float64 // in taxonomy order
	Dyads      []float64 // in taxonomy order
	// LongestLiveChain is the number of incidents of the longest live
	// action–reaction chain (internal/chain).
	LongestLiveChain int
}

// Replay feeds events (in time order) into a fresh index and evaluates it at
// every step from the first event's step to the step after the last one.
func Replay(tx *events.Taxonomy, evs []events.Event, step time.Duration) []Row {
	if len(evs) == 0 {
		return nil
	}
	ix := index.New(tx)
	start := evs[0].Published.Truncate(step)
	end := evs[len(evs)-1].Published.Truncate(step).Add(step)
	var rows []Row
	next := 0
	for t := start; !t.After(end); t = t.Add(step) {
		for next < len(evs) && !evs[next].Published.After(t) {
			ix.Add(evs[next])
			next++
		}
		ix.Prune(t)
		s := ix.SnapshotNumbers(t)
		r := Row{Time: t, Index: s.Gauge.Value}
		for _, reg := range tx.Regions {
			r.Regions = append(r.Regions, s.Regions[reg.ID].Value)
		}
		for _, sec := range tx.Sections {
			r.Categories = append(r.Categories, s.Categories[sec.ID].Value)
		}
		for _, d := range tx.Dyads {
			r.Dyads = append(r.Dyads, s.Dyads[d.ID].Value)
		}
		r.LongestLiveChain = ix.Chains(t).LongestLive
		rows = append(rows, r)
	}
	return rows
}

// WriteCSV writes rows with the header
// time,index,<regions>,<sections>,<dyads>,longest_live_chain: the dyads'
// columns (and the chain's) came after the others, so that readers of the
// older columns by position read the same.
func WriteCSV(w io.Writer, tx *events.Taxonomy, rows []Row) error {
	bw := bufio.NewWriter(w)
	cols := []string{"time", "index"}
	for _, r := range tx.Regions {
		cols = append(cols, r.ID)
	}
	for _, s := range tx.Sections {
		cols = append(cols, s.ID)
	}
	for _, d := range tx.Dyads {
		cols = append(cols, d.ID)
	}
	cols = append(cols, "longest_live_chain")
	bw.WriteString(strings.Join(cols, ",") + "\n")
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	for _, r := range rows {
		bw.WriteString(r.Time.UTC().Format(time.RFC3339))
		bw.WriteString("," + num(r.Index))
		for _, v := range r.Regions {
			bw.WriteString("," + num(v))
		}
		for _, v := range r.Categories {
			bw.WriteString("," + num(v))
		}
		for _, v := range r.Dyads {
			bw.WriteString("," + num(v))
		}
		bw.WriteString("," + strconv.Itoa(r.LongestLiveChain))
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// ErrNoEvents is returned when no item was relevant.
var ErrNoEvents = errors.New("backtest: no relevant items in the input")
