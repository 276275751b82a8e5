package index

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Index holds events and computes the gauge from them.
//
// It is safe for concurrent use. Reads that only look at the events held
// (Known, Len, Events) share a read lock; Snapshot takes the write lock
// because it brings the cached clustering up to date.
type Index struct {
	tx     *events.Taxonomy
	mu     sync.RWMutex
	events map[string]events.Event
	seen   map[string]time.Time // IDs pruned from events, kept for the window
	// clu is the clustering of events; pending holds events added since.
	// In-order additions extend it, anything else rebuilds it.
	pending []events.Event
	clu     *clusterer
	dirty   bool
	oldest  time.Time // of the events held; Prune has nothing to do before it
}

// New returns an empty index for the taxonomy.
func New(tx *events.Taxonomy) *Index {
	return &Index{tx: tx, events: map[string]events.Event{}, seen: map[string]time.Time{}}
}

// Add adds e and reports whether it was new. A duplicate ID, an irrelevant
// event, or one whose type or region the taxonomy does not know changes
// nothing and returns false.
func (ix *Index) Add(e events.Event) bool {
	c := e.Classification
	if !c.Relevant || ix.tx.TypeByID(c.Type) == nil || ix.tx.RegionByID(c.Region) == nil {
		return false
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, ok := ix.events[e.ID]; ok {
		return false
	}
	if _, ok := ix.seen[e.ID]; ok {
		return false
	}
	ix.events[e.ID] = e
	ix.pending = append(ix.pending, e)
	if t := EventTime(e); ix.oldest.IsZero() || t.Before(ix.oldest) {
		ix.oldest = t
	}
	return true
}

// Known reports whether an event ID was added (and not yet forgotten).
func (ix *Index) Known(id string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	_, a := ix.events[id]
	_, b := ix.seen[id]
	return a || b
}

// Len returns the number of events held.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.events)
}

// Cutoff is the oldest event time the index holds at now: the taxonomy's
// window back from now, rounded down to a whole UTC day. Rounding makes the
// set of events held a function of the day, not of the moment, so a scorer
// that restarts and replays from Cutoff holds exactly what a scorer that ran
// all along holds, and pruning (which re-clusters) happens once a day.
func Cutoff(tx *events.Taxonomy, now time.Time) time.Time {
	return now.Add(-tx.Index.Window).UTC().Truncate(24 * time.Hour)
}

// Prune drops events older than Cutoff, remembering their IDs for one more
// window so that a late duplicate stays ignored.
func (ix *Index) Prune(now time.Time) int {
	cutoff := Cutoff(ix.tx, now)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.oldest.Before(cutoff) {
		return 0
	}
	n := 0
	ix.oldest = time.Time{}
	for id, e := range ix.events {
		if t := EventTime(e); !t.Before(cutoff) {
			if ix.oldest.IsZero() || t.Before(ix.oldest) {
				ix.oldest = t
			}
			continue
		}
		delete(ix.events, id)
		ix.seen[id] = EventTime(e)
		n++
	}
	for id, t := range ix.seen {
		if t.Before(cutoff.Add(-ix.tx.Index.Window)) {
			delete(ix.seen, id)
		}
	}
	if n > 0 {
		ix.dirty = true
	}
	return n
}

// EventTime is when an event happened for the index: its publication time,
// unless the feed dates it after it was fetched.
func EventTime(e events.Event) time.Time {
	if e.Published.After(e.Fetched) {
		return e.Fetched
	}
	return e.Published
}

// Score returns one report's contribution at now, before corroboration
// (positive for both kinds; see the type's Deescalatory). Reports dated
// after now count nothing.
func (ix *Index) Score(e events.Event, now time.Time) float64 {
	ty := ix.tx.TypeByID(e.Classification.Type)
	if ty == nil {
		return 0
	}
	age := now.Sub(EventTime(e))
	if age < 0 {
		return 0
	}
	return baseScore(ix.tx, e) * math.Exp2(-float64(age)/float64(ty.HalfLife))
}

// baseScore is a report's score at age 0.
func baseScore(tx *events.Taxonomy, e events.Event) float64 {
	ty := tx.TypeByID(e.Classification.Type)
	m := e.Classification.Magnitude
	mag := 1 + math.Log2(1+float64(m.Aircraft+m.Ships+m.Missiles)/10)
	if m.LiveFire {
		mag += 0.5
	}
	mag = math.Min(mag, tx.Index.MagnitudeCap)
	return ty.Weight * mag * e.Source.Credibility * e.Classification.Confidence
}

// incidentScore is an incident's contribution at now: its strongest report
// so far, raised less than linearly by independent corroboration. All of an
// incident's reports share one half-life, so which report is strongest does
// not change as they decay, and the incident keeps running maxima: the cost
// is one search and one exponential, whatever the number of reports.
func (ix *Index) incidentScore(in *Incident, now time.Time) (score float64, reports int) {
	reports = in.reportsAt(now)
	if reports == 0 {
		return 0, 0
	}
	hl := float64(ix.tx.TypeByID(in.Type).HalfLife)
	best := in.prefBest[reports-1] * math.Exp2(-float64(now.Sub(in.Start))/hl)
	return best * (1 + ix.tx.Index.Corroboration*math.Log2(float64(in.prefOutlets[reports-1]))), reports
}

func outletOf(e events.Event) string {
	if e.Source.Outlet != "" {
		return e.Source.Outlet
	}
	return e.Source.FeedID
}

// Gauge maps escalatory and de-escalatory sums to 0..100.
func (ix *Index) Gauge(esc, de float64) (value, raw float64) {
	raw = esc - math.Min(de, ix.tx.Index.MaxDeescalation*esc)
	return ix.gaugeOfRaw(raw), raw
}

func (ix *Index) gaugeOfRaw(raw float64) float64 {
	return 100 * (1 - math.Exp(-math.Pow(raw/ix.tx.Index.Scale, ix.tx.Index.Shape)))
}

// Snapshot is every number of the index at one time.
type Snapshot struct {
	ComputedAt         time.Time         `json:"computed_at"`
	MethodologyVersion string            `json:"methodology_version"`
	Gauge              Number            `json:"gauge"`
	Regions            map[string]Number `json:"regions"`
	Categories         map[string]Number `json:"categories"`
}

// Number is one gauge with the incidents behind it.
type Number struct {
	Value float64 `json:"value"`
	Raw   float64 `json:"raw"`
	Band  string  `json:"band"`
	// ZScore compares Value with its own trailing baseline (regions only).
	ZScore    *float64       `json:"zscore,omitempty"`
	Incidents int            `json:"incidents"`
	Events    int            `json:"events"`
	Top       []Contribution `json:"top"`
}

// Contribution is one incident's share of a number.
type Contribution struct {
	IncidentID   string    `json:"incident_id"`
	Title        string    `json:"title"`
	Link         string    `json:"link"`
	Outlet       string    `json:"outlet"`
	Type         string    `json:"type"`
	Region       string    `json:"region"`
	Published    time.Time `json:"published"`
	Score        float64   `json:"score"`
	Deescalatory bool      `json:"deescalatory,omitempty"`
	Reports      int       `json:"reports"`
	// Magnitude is the largest count of each kind any report gives.
	Magnitude events.Magnitude `json:"magnitude"`
	Sources   []Source         `json:"sources"`
}

// Source is one report of an incident.
type Source struct {
	Outlet string `json:"outlet"`
	Title  string `json:"title"`
	Link   string `json:"link"`
}

type acc struct {
	esc, de   float64
	incidents int
	reports   int
	contrib   []Contribution
}

// clustered returns the incidents, up to date with the events. Events added
// in time order extend the clustering; an older one, or a prune, rebuilds it
// from scratch, so the result is always that of clustering the whole set in
// time order. The caller holds ix.mu.
func (ix *Index) clustered() []*Incident {
	if ix.clu == nil {
		ix.clu = newClusterer(ix.tx)
	}
	if len(ix.pending) > 0 && !ix.dirty {
		sortEvents(ix.pending)
		if ix.clu.canExtend(ix.pending[0]) {
			for _, e := range ix.pending {
				ix.clu.add(e)
			}
		} else {
			ix.dirty = true
		}
	}
	if ix.dirty {
		ix.clu = newClusterer(ix.tx)
		all := make([]events.Event, 0, len(ix.events))
		for _, e := range ix.events {
			all = append(all, e)
		}
		sortEvents(all)
		for _, e := range all {
			ix.clu.add(e)
		}
		ix.dirty = false
	}
	ix.pending = ix.pending[:0]
	return ix.clu.all
}

// Snapshot computes every number at now, with the regions' z-scores, listing
// each number's topN largest incidents (score descending, then ID).
func (ix *Index) Snapshot(now time.Time, topN int) Snapshot {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.snapshot(now, topN, true)
}

// SnapshotNumbers computes the numbers at now without contributions or
// z-scores: what a replay step or a chart needs.
func (ix *Index) SnapshotNumbers(now time.Time) Snapshot {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.snapshot(now, 0, false)
}

func (ix *Index) snapshot(now time.Time, topN int, withZ bool) Snapshot {
	incidents := ix.clustered() // in time order of their first report
	total := &acc{}
	regions := map[string]*acc{}
	cats := map[string]*acc{}
	for _, r := range ix.tx.Regions {
		regions[r.ID] = &acc{}
	}
	for _, s := range ix.tx.Sections {
		cats[s.ID] = &acc{}
	}
	for _, in := range incidents { // a fixed order: sums do not depend on arrival order
		s, reports := ix.incidentScore(in, now)
		if s <= 0 {
			continue
		}
		ty := ix.tx.TypeByID(in.Type)
		var c Contribution
		if topN > 0 {
			c = ix.contribution(in, now, s, reports, ty.Deescalatory)
		}
		for _, a := range [3]*acc{total, regions[in.Region], cats[in.Section]} {
			if ty.Deescalatory {
				a.de += s
			} else {
				a.esc += s
			}
			a.incidents++
			a.reports += reports
			if topN > 0 {
				a.contrib = append(a.contrib, c)
			}
		}
	}
	snap := Snapshot{
		ComputedAt: now.UTC(), MethodologyVersion: ix.tx.Version,
		Gauge:   ix.eastAsia(total, regions, topN),
		Regions: map[string]Number{}, Categories: map[string]Number{},
	}
	var z map[string]float64
	if withZ {
		z = ix.zscores(incidents, now, regions)
	}
	for id, a := range regions {
		n := ix.number(a, topN)
		if withZ {
			v := z[id]
			n.ZScore = &v
		}
		snap.Regions[id] = n
	}
	for id, a := range cats {
		snap.Categories[id] = ix.number(a, topN)
	}
	return snap
}

func (ix *Index) contribution(in *Incident, now time.Time, score float64, reports int, de bool) Contribution {
	first := in.Reports[0]
	c := Contribution{
		IncidentID: in.ID, Title: first.Title, Link: first.Link, Outlet: outletOf(first),
		Type: in.Type, Region: in.Region, Published: first.Published, Score: round(score, 4),
		Deescalatory: de, Reports: reports,
	}
	for _, e := range in.Reports {
		if EventTime(e).After(now) {
			continue
		}
		m := e.Classification.Magnitude
		c.Magnitude.Aircraft = max(c.Magnitude.Aircraft, m.Aircraft)
		c.Magnitude.Ships = max(c.Magnitude.Ships, m.Ships)
		c.Magnitude.Missiles = max(c.Magnitude.Missiles, m.Missiles)
		c.Magnitude.LiveFire = c.Magnitude.LiveFire || m.LiveFire
		if c.Magnitude.Exercise == "" {
			c.Magnitude.Exercise = m.Exercise
		}
		if len(c.Sources) < 10 {
			c.Sources = append(c.Sources, Source{Outlet: outletOf(e), Title: e.Title, Link: e.Link})
		}
	}
	return c
}

// eastAsia is the whole gauge: the hottest region's raw plus a fraction of
// the others', so that scattered background does not add up to a crisis.
func (ix *Index) eastAsia(total *acc, regions map[string]*acc, topN int) Number {
	n := ix.number(total, topN)
	hottest, rest := 0.0, 0.0
	for _, r := range ix.tx.Regions { // taxonomy order: the sum is deterministic
		_, raw := ix.Gauge(regions[r.ID].esc, regions[r.ID].de)
		if raw > hottest {
			rest += hottest
			hottest = raw
		} else {
			rest += raw
		}
	}
	raw := hottest + ix.tx.Index.OtherRegions*rest
	n.Raw = round(raw, 4)
	n.Value = round(ix.gaugeOfRaw(raw), 2)
	n.Band = ix.tx.Band(n.Value)
	return n
}

func (ix *Index) number(a *acc, topN int) Number {
	v, raw := ix.Gauge(a.esc, a.de)
	sort.Slice(a.contrib, func(i, j int) bool {
		if a.contrib[i].Score != a.contrib[j].Score {
			return a.contrib[i].Score > a.contrib[j].Score
		}
		return a.contrib[i].IncidentID < a.contrib[j].IncidentID
	})
	top := a.contrib[:min(topN, len(a.contrib))]
	return Number{Value: round(v, 2), Raw: round(raw, 4), Band: ix.tx.Band(round(v, 2)),
		Incidents: a.incidents, Events: a.reports, Top: append([]Contribution{}, top...)}
}

// round rounds to d decimals, so that numbers computed from the same events
// print identically whatever the platform's last bits.
func round(x float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(x*p) / p
}

// Query selects events.
type Query struct {
	Region, Type string
	Since        time.Time
	Limit        int
}

// Events returns the events matching q, newest first (ties by ID).
func (ix *Index) Events(q Query) []events.Event {
	ix.mu.RLock()
	out := make([]events.Event, 0, 64)
	for _, e := range ix.events {
		if q.Region != "" && e.Classification.Region != q.Region || q.Type != "" && e.Classification.Type != q.Type {
			continue
		}
		if !q.Since.IsZero() && e.Published.Before(q.Since) {
			continue
		}
		out = append(out, e)
	}
	ix.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Published.Equal(out[j].Published) {
			return out[i].Published.After(out[j].Published)
		}
		return out[i].ID < out[j].ID
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

// Incidents returns the incidents (clusters of reports), in ID order.
func (ix *Index) Incidents() []*Incident {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	out := append([]*Incident(nil), ix.clustered()...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
