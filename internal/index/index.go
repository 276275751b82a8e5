// Package index computes the tension index: a pure, deterministic function of
// the events it holds and the time it is evaluated at. It does no I/O and
// reads no clock, so a restarted scorer that holds the same events reports
// the same numbers. METHODOLOGY.md at the repository root explains the
// formula with a worked example.
//
// Reports are first grouped into incidents (see cluster.go). For an incident
// I at time now:
//
//	score(I) = max over its reports e of weight(type) × magnitude(e) × credibility(e) × confidence(e)
//	           × 0.5^(age(e) / half_life(type))
//	           × (1 + corroboration × log2(distinct outlets))
//	magnitude(e) = min(magnitude_cap, 1 + log2(1 + (aircraft+ships+missiles)/10) + 0.5·live_fire)
//
// For a set S of incidents (a region, a paper section, or everything):
//
//	raw(S)   = esc(S) − min(de(S), max_deescalation × esc(S))
//	gauge(S) = 100 × (1 − exp(−raw(S)/scale))
//
// where esc sums the escalatory incidents' scores and de the de-escalatory ones.
package index

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Index holds events and computes the gauge from them.
type Index struct {
	tx     *events.Taxonomy
	mu     sync.Mutex
	events map[string]events.Event
	seen   map[string]time.Time // IDs pruned from events, kept for the window
	// incidents is the clustering of events, rebuilt when events change.
	incidents []*Incident
	dirty     bool
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
	ix.dirty = true
	return true
}

// Known reports whether an event ID was added (and not yet forgotten).
func (ix *Index) Known(id string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	_, a := ix.events[id]
	_, b := ix.seen[id]
	return a || b
}

// Len returns the number of events held.
func (ix *Index) Len() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return len(ix.events)
}

// Prune drops events older than the taxonomy's window, remembering their
// IDs for one more window so that a late duplicate stays ignored.
func (ix *Index) Prune(now time.Time) int {
	cutoff := now.Add(-ix.tx.Index.Window)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	n := 0
	for id, e := range ix.events {
		if EventTime(e).Before(cutoff) {
			delete(ix.events, id)
			ix.seen[id] = EventTime(e)
			n++
		}
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
	decay := math.Exp2(-float64(age) / float64(ty.HalfLife))
	return ty.Weight * ix.magnitude(e.Classification.Magnitude) * e.Source.Credibility * e.Classification.Confidence * decay
}

func (ix *Index) magnitude(m events.Magnitude) float64 {
	v := 1 + math.Log2(1+float64(m.Aircraft+m.Ships+m.Missiles)/10)
	if m.LiveFire {
		v += 0.5
	}
	return math.Min(v, ix.tx.Index.MagnitudeCap)
}

// incidentScore is an incident's contribution at now: its strongest report
// so far, raised less than linearly by independent corroboration.
func (ix *Index) incidentScore(in *Incident, now time.Time) (score float64, reports int) {
	best := 0.0
	var outlets [16]string // distinct outlets beyond 16 add nothing measurable
	n := 0
	for _, e := range in.Reports {
		if EventTime(e).After(now) {
			break // reports are in time order
		}
		s := ix.Score(e, now)
		reports++
		best = math.Max(best, s)
		o := outletOf(e)
		known := false
		for _, x := range outlets[:n] {
			if x == o {
				known = true
				break
			}
		}
		if !known && n < len(outlets) {
			outlets[n] = o
			n++
		}
	}
	if reports == 0 {
		return 0, 0
	}
	return best * (1 + ix.tx.Index.Corroboration*math.Log2(float64(n))), reports
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
	return 100 * (1 - math.Exp(-raw/ix.tx.Index.Scale)), raw
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
	Sources      []Source  `json:"sources"`
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

// clustered returns the incidents, rebuilding them if events changed.
// The caller holds ix.mu.
func (ix *Index) clustered() []*Incident {
	if ix.dirty || ix.incidents == nil {
		ix.incidents = cluster(ix.tx, ix.events)
		ix.dirty = false
	}
	return ix.incidents
}

// Snapshot computes every number at now, listing each number's topN
// largest incidents. With withZ it also computes the regions' z-scores.
func (ix *Index) Snapshot(now time.Time, topN int) Snapshot {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.snapshot(now, topN, true)
}

func (ix *Index) snapshot(now time.Time, topN int, withZ bool) Snapshot {
	incidents := ix.clustered()
	total := &acc{}
	regions := map[string]*acc{}
	cats := map[string]*acc{}
	for _, r := range ix.tx.Regions {
		regions[r.ID] = &acc{}
	}
	for _, s := range ix.tx.Sections {
		cats[s.ID] = &acc{}
	}
	for _, in := range incidents { // in ID order: sums do not depend on arrival order
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
		Gauge:   ix.number(total, topN),
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
		if len(c.Sources) == 10 {
			break
		}
		c.Sources = append(c.Sources, Source{Outlet: outletOf(e), Title: e.Title, Link: e.Link})
	}
	return c
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
	ix.mu.Lock()
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
	ix.mu.Unlock()
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
	return append([]*Incident(nil), ix.clustered()...)
}
