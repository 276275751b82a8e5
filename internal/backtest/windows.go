package backtest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Window is a real crisis, with complete feed traffic around it, and what
// the gauge must show on it: the calibration and regression cases of the
// index (METHODOLOGY.md). Windows are listed in testdata/windows.yaml.
type Window struct {
	Name string `yaml:"name"`
	// Items are files or folders of dated items, relative to the data
	// directory (../shared/data).
	Items []string `yaml:"items"`
	// Feeds, if set, keeps only the items of these feeds (by their source
	// as the items give it), to replay a window with a subset of its feeds.
	Feeds []string `yaml:"feeds"`
	// Crisis describes what happened.
	Crisis string `yaml:"crisis"`
	// Region is the crisis region, and Target the band it must reach
	// within TargetWithin of the first report of the crisis.
	Region       string        `yaml:"region"`
	Target       string        `yaml:"target"`
	TargetWithin time.Duration `yaml:"target_within"`
	// FirstReport is the link of the first report of the crisis in the
	// window's traffic.
	FirstReport string `yaml:"first_report"`
	// CrisisDays are the UTC days of the crisis (first and last): the peaks
	// must fall on them, and the East Asia gauge reach at least elevated.
	CrisisDays [2]Day `yaml:"crisis_days"`
	// QuietDays are UTC days on which the East Asia gauge must stay calm,
	// and Quiet says why they count as quiet.
	QuietDays []Day  `yaml:"quiet_days"`
	Quiet     string `yaml:"quiet"`
}

// Day is a UTC calendar day, written 2006-01-02.
type Day struct{ time.Time }

// UnmarshalYAML reads a day.
func (d *Day) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil {
		return fmt.Errorf("line %d: want a day such as 2024-05-23, got %q", n.Line, n.Value)
	}
	d.Time = t
	return nil
}

func (d Day) String() string { return d.Format(time.DateOnly) }

// ReadWindows reads a list of windows and checks each against the taxonomy.
func ReadWindows(path string, tx *events.Taxonomy) ([]Window, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var ws []Window
	if err := dec.Decode(&ws); err != nil {
		return nil, fmt.Errorf("backtest: %s: %w", path, err)
	}
	for _, w := range ws {
		switch {
		case w.Name == "" || len(w.Items) == 0:
			return nil, fmt.Errorf("backtest: %s: window %q: name and items are required", path, w.Name)
		case tx.RegionByID(w.Region) == nil:
			return nil, fmt.Errorf("backtest: %s: window %s: unknown region %q", path, w.Name, w.Region)
		case bandMin(tx, w.Target) < 0:
			return nil, fmt.Errorf("backtest: %s: window %s: unknown band %q", path, w.Name, w.Target)
		case w.CrisisDays[1].Before(w.CrisisDays[0].Time) || w.CrisisDays[0].IsZero():
			return nil, fmt.Errorf("backtest: %s: window %s: crisis_days must be [first, last]", path, w.Name)
		case w.FirstReport == "" || w.TargetWithin <= 0:
			return nil, fmt.Errorf("backtest: %s: window %s: first_report and target_within are required", path, w.Name)
		}
	}
	return ws, nil
}

func bandMin(tx *events.Taxonomy, name string) float64 {
	for _, b := range tx.Index.Bands {
		if b.Name == name {
			return b.Min
		}
	}
	return -1
}

// Load reads a window's items from the data directory, keeping only its
// Feeds when it lists some.
func (w Window) Load(dataDir string) ([]Item, error) {
	var paths []string
	for _, p := range w.Items {
		paths = append(paths, filepath.Join(dataDir, p))
	}
	items, _, err := ReadItems(paths)
	if err != nil {
		return nil, err
	}
	if len(w.Feeds) > 0 {
		items = KeepFeeds(items, w.Feeds)
	}
	return items, nil
}

// Feeds returns the distinct feeds (sources) of items, sorted.
func Feeds(items []Item) []string {
	seen := map[string]bool{}
	for _, it := range items {
		seen[it.Source] = true
	}
	out := make([]string, 0, len(seen))
	for o := range seen {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// KeepFeeds returns the items of the given feeds (sources).
func KeepFeeds(items []Item, feeds []string) []Item {
	var out []Item
	for _, it := range items {
		if slices.Contains(feeds, it.Source) {
			out = append(out, it)
		}
	}
	return out
}

// Result is what a replay of a window shows against its targets.
type Result struct {
	Window string
	Feeds  []string
	// Region's and the gauge's peaks and their times.
	RegionPeak, GaugePeak     float64
	RegionPeakAt, GaugePeakAt time.Time
	// FirstReport is when the crisis was first reported; Reached when the
	// region first reached the target band (zero if never).
	FirstReport, Reached time.Time
	// CrisisRegionBand and CrisisGaugeBand are the highest bands of the
	// region and of the gauge on the crisis days.
	CrisisRegionBand, CrisisGaugeBand string
	// QuietMax is the gauge's highest value on the quiet days.
	QuietMax   float64
	QuietMaxAt time.Time
}

// Evaluate replays a window's items, hour by hour, and measures it. When the
// items lack the window's first report (a subset of its feeds), FirstReport
// and Reached stay zero.
func Evaluate(w Window, tx *events.Taxonomy, c *classify.Classifier, items []Item) Result {
	r := Result{Window: w.Name, Feeds: Feeds(items)}
	for _, it := range items {
		if it.Link == w.FirstReport {
			r.FirstReport = it.Date
		}
	}
	rows := Replay(tx, Events(items, c, DefaultCredibility), time.Hour)
	col := slices.IndexFunc(tx.Regions, func(x events.Region) bool { return x.ID == w.Region })
	target := bandMin(tx, w.Target)
	first, last := w.CrisisDays[0].Time, w.CrisisDays[1].Add(24*time.Hour)
	regionBand, gaugeBand := -1.0, -1.0
	for _, row := range rows {
		v, g := row.Regions[col], row.Index
		if v > r.RegionPeak {
			r.RegionPeak, r.RegionPeakAt = v, row.Time
		}
		if g > r.GaugePeak {
			r.GaugePeak, r.GaugePeakAt = g, row.Time
		}
		if r.Reached.IsZero() && !r.FirstReport.IsZero() && v >= target && !row.Time.Before(r.FirstReport) {
			r.Reached = row.Time
		}
		if !row.Time.Before(first) && row.Time.Before(last) {
			regionBand, gaugeBand = math.Max(regionBand, v), math.Max(gaugeBand, g)
		}
		day := Day{row.Time.UTC().Truncate(24 * time.Hour)}
		if slices.Contains(w.QuietDays, day) && g > r.QuietMax {
			r.QuietMax, r.QuietMaxAt = g, row.Time
		}
	}
	r.CrisisRegionBand, r.CrisisGaugeBand = tx.Band(max(0, regionBand)), tx.Band(max(0, gaugeBand))
	return r
}

// Failures lists the targets a result misses: the region reaching its
// target band within target_within of the first report, the East Asia
// gauge at least elevated on the crisis days, both peaks on the crisis
// days, and the gauge calm on the quiet days.
func (w Window) Failures(tx *events.Taxonomy, r Result) []string {
	var out []string
	switch {
	case r.FirstReport.IsZero():
		out = append(out, fmt.Sprintf("the first report %s is not among the items", w.FirstReport))
	case r.Reached.IsZero():
		out = append(out, fmt.Sprintf("%s never reached %s (peak %.1f)", w.Region, w.Target, r.RegionPeak))
	case r.Reached.Sub(r.FirstReport) > w.TargetWithin:
		out = append(out, fmt.Sprintf("%s reached %s %s after the first report (allowed %s)", w.Region, w.Target,
			r.Reached.Sub(r.FirstReport), w.TargetWithin))
	}
	if bandRank(tx, r.CrisisGaugeBand) < bandRank(tx, "elevated") {
		out = append(out, fmt.Sprintf("the East Asia gauge was %s on the crisis days", r.CrisisGaugeBand))
	}
	first, last := w.CrisisDays[0].Time, w.CrisisDays[1].Add(24*time.Hour)
	for _, p := range []struct {
		what string
		at   time.Time
	}{{w.Region + " peak", r.RegionPeakAt}, {"gauge peak", r.GaugePeakAt}} {
		if p.at.Before(first) || !p.at.Before(last) {
			out = append(out, fmt.Sprintf("%s at %s, outside the crisis days %s..%s", p.what, p.at.Format(time.RFC3339), w.CrisisDays[0], w.CrisisDays[1]))
		}
	}
	if r.QuietMax >= bandMin(tx, "elevated") {
		out = append(out, fmt.Sprintf("the gauge read %.1f on a quiet day (%s)", r.QuietMax, r.QuietMaxAt.Format(time.RFC3339)))
	}
	return out
}

func bandRank(tx *events.Taxonomy, name string) int {
	return slices.IndexFunc(tx.Index.Bands, func(b events.Band) bool { return b.Name == name })
}

// Subsets returns the feed subsets to replay a window with, for the
// invariance check: every subset of at least minSize of feeds (the full
// set first) when there are at most max of them, else the full set and
// max−1 random subsets of at least minSize, drawn with a fixed seed.
func Subsets(feeds []string, minSize, max int, seed uint64) [][]string {
	n := len(feeds)
	if n < minSize {
		return [][]string{feeds}
	}
	var all [][]string
	if n <= 16 {
		for mask := 1; mask < 1<<n; mask++ {
			var s []string
			for i := range n {
				if mask&(1<<i) != 0 {
					s = append(s, feeds[i])
				}
			}
			if len(s) >= minSize {
				all = append(all, s)
			}
		}
	}
	if len(all) > 0 && len(all) <= max {
		sort.Slice(all, func(i, j int) bool { // the full set first
			if len(all[i]) != len(all[j]) {
				return len(all[i]) > len(all[j])
			}
			return strings.Join(all[i], "\x00") < strings.Join(all[j], "\x00")
		})
		return all
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := [][]string{feeds}
	seen := map[string]bool{strings.Join(feeds, "\x00"): true}
	for len(out) < max {
		size := minSize + rng.IntN(n-minSize+1)
		perm := rng.Perm(n)[:size]
		sort.Ints(perm)
		var s []string
		for _, i := range perm {
			s = append(s, feeds[i])
		}
		if k := strings.Join(s, "\x00"); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// Invariance is how the crisis-day bands of a window's feed subsets
// compare with those of all its feeds.
type Invariance struct {
	Runs int
	// Agree counts the subsets whose crisis-day band (of the region and of
	// the gauge) equals the full set's; MaxApart is the largest difference
	// in bands seen.
	AgreeRegion, AgreeGauge int
	MaxApart                int
	Results                 []Result
}

// CheckInvariance replays a window with each subset of its feeds (the
// first subset must be the full set).
func CheckInvariance(w Window, tx *events.Taxonomy, c *classify.Classifier, items []Item, subsets [][]string) Invariance {
	var inv Invariance
	for _, s := range subsets {
		r := Evaluate(w, tx, c, KeepFeeds(items, s))
		r.Feeds = s
		inv.Results = append(inv.Results, r)
	}
	full := inv.Results[0]
	for _, r := range inv.Results[1:] {
		inv.Runs++
		dr := abs(bandRank(tx, r.CrisisRegionBand) - bandRank(tx, full.CrisisRegionBand))
		dg := abs(bandRank(tx, r.CrisisGaugeBand) - bandRank(tx, full.CrisisGaugeBand))
		if dr == 0 {
			inv.AgreeRegion++
		}
		if dg == 0 {
			inv.AgreeGauge++
		}
		inv.MaxApart = max(inv.MaxApart, dr, dg)
	}
	return inv
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
