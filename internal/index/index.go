// Package index computes the tension index: a pure, deterministic function of
// the events it holds and the time it is evaluated at. It does no I/O and
// reads no clock, so a restarted scorer that holds the same events reports
// the same numbers.
//
// For one event e at time now:
//
//	score(e) = weight(type) × magnitude(e) × credibility(source) × confidence
//	           × 0.5^(age / half_life(type))
//	magnitude(e) = min(magnitude_cap, 1 + log2(1 + (aircraft+ships+missiles)/10) + 0.5·live_fire)
//
// For a set S (a region, a paper section, or everything):
//
//	raw(S)   = esc(S) − min(de(S), max_deescalation × esc(S))
//	gauge(S) = 100 × (1 − exp(−raw(S)/scale))
//
// where esc sums the escalatory events' scores and de the de-escalatory ones.
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
	mu     sync.RWMutex
	events map[string]events.Event
	seen   map[string]time.Time // IDs pruned from events, kept for the window
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

// Prune drops events older than the taxonomy's window, remembering their
// IDs for one more window so that a late duplicate stays ignored.
func (ix *Index) Prune(now time.Time) int {
	cutoff := now.Add(-ix.tx.Index.Window)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	n := 0
	for id, e := range ix.events {
		if eventTime(e).Before(cutoff) {
			delete(ix.events, id)
			ix.seen[id] = eventTime(e)
			n++
		}
	}
	for id, t := range ix.seen {
		if t.Before(cutoff.Add(-ix.tx.Index.Window)) {
			delete(ix.seen, id)
		}
	}
	return n
}

// eventTime is when an event happened for the index: its publication time,
// unless the feed dates it after it was fetched.
func eventTime(e events.Event) time.Time {
	if e.Published.After(e.Fetched) {
		return e.Fetched
	}
	return e.Published
}

// Score returns an event's contribution at now (positive for both kinds;
// see Deescalatory).
func (ix *Index) Score(e events.Event, now time.Time) float64 {
	ty := ix.tx.TypeByID(e.Classification.Type)
	if ty == nil {
		return 0
	}
	age := now.Sub(eventTime(e))
	if age < 0 {
		age = 0
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

// Number is one gauge with the events behind it.
type Number struct {
	Value  float64        `json:"value"`
	Raw    float64        `json:"raw"`
	Band   string         `json:"band"`
	Events int            `json:"events"`
	Top    []Contribution `json:"top"`
}

// Contribution is one event's share of a number.
type Contribution struct {
	EventID      string    `json:"event_id"`
	Title        string    `json:"title"`
	Link         string    `json:"link"`
	Outlet       string    `json:"outlet"`
	Type         string    `json:"type"`
	Region       string    `json:"region"`
	Published    time.Time `json:"published"`
	Score        float64   `json:"score"`
	Deescalatory bool      `json:"deescalatory,omitempty"`
}

type acc struct {
	esc, de float64
	n       int
	contrib []Contribution
}

// Snapshot computes every number at now, listing each number's topN
// largest contributions.
func (ix *Index) Snapshot(now time.Time, topN int) Snapshot {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	total := &acc{}
	regions := map[string]*acc{}
	cats := map[string]*acc{}
	for _, r := range ix.tx.Regions {
		regions[r.ID] = &acc{}
	}
	for _, s := range ix.tx.Sections {
		cats[s.ID] = &acc{}
	}
	// Sum in ID order: floating-point sums depend on order, and the same
	// events must give the same numbers whatever order they arrived in.
	ids := make([]string, 0, len(ix.events))
	for id := range ix.events {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		e := ix.events[id]
		ty := ix.tx.TypeByID(e.Classification.Type)
		s := ix.Score(e, now)
		if s <= 0 {
			continue
		}
		section := e.Classification.Section
		if ix.tx.SectionByID(section) == nil {
			section = ty.Section
		}
		var c Contribution
		if topN > 0 {
			c = Contribution{
				EventID: e.ID, Title: e.Title, Link: e.Link, Outlet: e.Source.Outlet,
				Type: e.Classification.Type, Region: e.Classification.Region,
				Published: e.Published, Score: round(s, 4), Deescalatory: ty.Deescalatory,
			}
		}
		for _, a := range [3]*acc{total, regions[e.Classification.Region], cats[section]} {
			if ty.Deescalatory {
				a.de += s
			} else {
				a.esc += s
			}
			a.n++
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
	for id, a := range regions {
		snap.Regions[id] = ix.number(a, topN)
	}
	for id, a := range cats {
		snap.Categories[id] = ix.number(a, topN)
	}
	return snap
}

func (ix *Index) number(a *acc, topN int) Number {
	v, raw := ix.Gauge(a.esc, a.de)
	sort.Slice(a.contrib, func(i, j int) bool {
		if a.contrib[i].Score != a.contrib[j].Score {
			return a.contrib[i].Score > a.contrib[j].Score
		}
		return a.contrib[i].EventID < a.contrib[j].EventID
	})
	top := a.contrib[:min(topN, len(a.contrib))]
	return Number{Value: round(v, 2), Raw: round(raw, 4), Band: ix.tx.Band(round(v, 2)), Events: a.n, Top: append([]Contribution{}, top...)}
}

// round rounds to d decimals, so that numbers computed from the same events
// in a different order (floating-point sums) print identically.
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
