package replay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/backtest"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Item is one dated news item to replay.
type Item struct {
	// Time is when the item was published, UTC. An item dated by its day
	// only counts at noon UTC, as in the backtest.
	Time     time.Time
	Source   string // as the file names it: an outlet's name or a feed URL
	Outlet   string // backtest.OutletName(Source), or the link's host
	Link     string
	Title    string
	Summary  string
	Language string
	// At is where the item was read: file:line.
	At string
}

// Problem is a record that was not replayed, and why.
type Problem struct {
	At     string // file:line
	Reason string
}

func (p Problem) String() string { return p.At + ": " + p.Reason }

// Set is what Load read: the items to replay in time order, and what it
// could not use.
type Set struct {
	Items []Item
	Files int // files read
	// Records counts every record read, used or not.
	Records int
	// Undated lists the records without a date, or with one that is not
	// a time; Bad those that are not JSON objects of an item or have no
	// title. Duplicates counts records whose link (or, without a link,
	// source and title) an earlier record had; the earliest is kept.
	Undated    []Problem
	Bad        []Problem
	Duplicates int
}

// First and Last are the times of the earliest and the latest item (zero
// when there is none).
func (s *Set) First() time.Time {
	if len(s.Items) == 0 {
		return time.Time{}
	}
	return s.Items[0].Time
}

// Last is the time of the latest item.
func (s *Set) Last() time.Time {
	if len(s.Items) == 0 {
		return time.Time{}
	}
	return s.Items[len(s.Items)-1].Time
}

// Load reads the items of each path, a file or a folder (walked, reading
// its .json, .jsonl and .ndjson files in name order and skipping hidden
// entries), into one stream sorted by time. A file is read as JSON lines
// unless it holds one JSON document that is a list of items or an object
// with "entries" (an RSS-Link-Database capture). It fails only when a path
// cannot be read or no record has a usable date; every record it does not
// use is in Undated or Bad.
func Load(paths ...string) (*Set, error) {
	if len(paths) == 0 {
		return nil, errors.New("replay: no path to read")
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && isItemFile(path) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("replay: reading folder %s: %w", p, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("replay: folder %s holds no .json, .jsonl or .ndjson file", p)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	s := &Set{}
	for _, f := range files {
		if err := s.readFile(f); err != nil {
			return nil, err
		}
		s.Files++
	}
	if len(s.Items) == 0 {
		return nil, fmt.Errorf("replay: no dated item in %s (%d records: %d undated, %d unreadable%s)",
			strings.Join(paths, ", "), s.Records, len(s.Undated), len(s.Bad), firstProblem(s))
	}
	s.sortAndDedup()
	return s, nil
}

func firstProblem(s *Set) string {
	switch {
	case len(s.Bad) > 0:
		return "; first: " + s.Bad[0].String()
	case len(s.Undated) > 0:
		return "; first: " + s.Undated[0].String()
	}
	return ""
}

func isItemFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".jsonl", ".ndjson":
		return true
	}
	return false
}

// record is an item as the files write it: the crisis windows and headline
// files (date, url, summary, lang) or RSS-Link-Database captures
// (date_published, link, description, language).
type record struct {
	Date          *string `json:"date"`
	DatePublished *string `json:"date_published"`
	Published     *string `json:"published"`
	Source        string  `json:"source"`
	URL           string  `json:"url"`
	Link          string  `json:"link"`
	Title         string  `json:"title"`
	Summary       string  `json:"summary"`
	Description   string  `json:"description"`
	Lang          string  `json:"lang"`
	Language      string  `json:"language"`
}

func (s *Set) readFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n\ufeff")
	switch {
	case len(trimmed) == 0:
		return nil
	case trimmed[0] == '[':
		s.readList(path, b, len(b)-len(trimmed), nil)
		return nil
	case trimmed[0] == '{' && json.Valid(b):
		// One document: a capture's {"entries": [...]}, or a file of a
		// single item (JSON lines with one line, pretty-printed or not).
		var doc map[string]json.RawMessage
		if json.Unmarshal(b, &doc) == nil {
			if raw, ok := doc["entries"]; ok {
				off := bytes.Index(b, raw)
				s.readList(path, b, off, raw)
				return nil
			}
		}
		if bytes.Count(bytes.TrimSpace(b), []byte("\n")) > 0 {
			// A pretty-printed single item.
			at := fmt.Sprintf("%s:%d", path, 1+bytes.Count(b[:len(b)-len(trimmed)], []byte("\n")))
			s.Records++
			var r record
			if err := json.Unmarshal(b, &r); err != nil {
				s.Bad = append(s.Bad, Problem{at, "not a JSON object of an item: " + jsonReason(err)})
				return nil
			}
			s.add(r, at)
			return nil
		}
	}
	s.readLines(path, b)
	return nil
}

// readLines reads JSON lines; a bad line is reported and skipped.
func (s *Set) readLines(path string, b []byte) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		s.Records++
		at := fmt.Sprintf("%s:%d", path, n)
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			s.Bad = append(s.Bad, Problem{at, "not a JSON object of an item: " + jsonReason(err)})
			continue
		}
		s.add(r, at)
	}
	if err := sc.Err(); err != nil {
		s.Bad = append(s.Bad, Problem{path, "reading stopped: " + err.Error()})
	}
}

// readList reads the JSON list that starts at byte off of b (the whole of
// raw, if not nil, is that list). A record that does not decode is
// reported and skipped; a syntax error stops the file, reported at its
// line.
func (s *Set) readList(path string, b []byte, off int, raw json.RawMessage) {
	if raw == nil {
		raw = b[off:]
	}
	if off < 0 {
		off = 0 // the list is somewhere in b; lines then count from its start
	}
	lineAt := func(o int64) string {
		return fmt.Sprintf("%s:%d", path, 1+bytes.Count(b[:min(len(b), off+int(o))], []byte("\n")))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		s.Bad = append(s.Bad, Problem{lineAt(0), `neither JSON lines nor a list of items nor {"entries": [...]}`})
		return
	}
	for dec.More() {
		start := dec.InputOffset()
		// Skip the separator and the white space before the record.
		for int(start) < len(raw) && strings.ContainsRune(", \t\r\n", rune(raw[start])) {
			start++
		}
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			s.Records++
			s.Bad = append(s.Bad, Problem{lineAt(start), "the rest of the file is not JSON: " + jsonReason(err)})
			return
		}
		s.Records++
		var r record
		if err := json.Unmarshal(m, &r); err != nil {
			s.Bad = append(s.Bad, Problem{lineAt(start), "not a JSON object of an item: " + jsonReason(err)})
			continue
		}
		s.add(r, lineAt(start))
	}
}

// jsonReason is a JSON error without the names of Go types.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q holds a JSON %s", te.Field, te.Value)
		}
		return "a JSON " + te.Value + " instead of an object"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func (s *Set) add(r record, at string) {
	title := strings.TrimSpace(r.Title)
	if title == "" {
		s.Bad = append(s.Bad, Problem{at, "no title"})
		return
	}
	var date string
	for _, d := range []*string{r.Date, r.DatePublished, r.Published} {
		if d != nil && strings.TrimSpace(*d) != "" {
			date = *d
			break
		}
	}
	if date == "" {
		s.Undated = append(s.Undated, Problem{at, "no date"})
		return
	}
	t, err := ParseDate(date)
	if err != nil {
		s.Undated = append(s.Undated, Problem{at, err.Error()})
		return
	}
	it := Item{Time: t, Source: strings.TrimSpace(r.Source), Link: strings.TrimSpace(first(r.URL, r.Link)),
		Title: title, Summary: first(r.Summary, r.Description), Language: first(r.Lang, r.Language), At: at}
	it.Outlet = backtest.OutletName(it.Source)
	if it.Outlet == "" {
		if u, err := url.Parse(it.Link); err == nil {
			it.Outlet = strings.TrimPrefix(u.Hostname(), "www.")
		}
	}
	if it.Outlet == "" {
		it.Outlet = "unknown"
	}
	s.Items = append(s.Items, it)
}

func first(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

// sortAndDedup orders the items by time (items of one time keep the order
// they were read in) and keeps the earliest of each story: the same link
// (canonical), or without a link the same source and title.
func (s *Set) sortAndDedup() {
	sort.SliceStable(s.Items, func(i, j int) bool { return s.Items[i].Time.Before(s.Items[j].Time) })
	seen := make(map[string]bool, len(s.Items))
	kept := s.Items[:0]
	for _, it := range s.Items {
		k := it.Key()
		if seen[k] {
			s.Duplicates++
			continue
		}
		seen[k] = true
		kept = append(kept, it)
	}
	s.Items = kept
}

// Key identifies an item's story: its canonical link, or without a link
// its source and title.
func (it Item) Key() string {
	if it.Link != "" {
		return events.CanonicalLink(it.Link)
	}
	return it.Source + "\x00" + it.Title
}

// dateLayouts are the dates the files write: RFC 3339 (the windows), with a
// space for the T (RSS-Link-Database), without a zone (UTC), RSS's RFC 1123
// and a bare day.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05",
	time.RFC1123Z, time.RFC1123}

// ParseDate reads an item's date. A bare day (2022-08-04) is noon UTC that
// day, as in the backtest.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(12 * time.Hour), nil
	}
	return time.Time{}, fmt.Errorf("date %q is not a time (want RFC 3339, such as 2022-08-04T12:14:12+00:00)", s)
}
