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

// Score returns one report's value at now on its own, as a single-outlet
// incident would read it: its level × the confidence of one outlet of its
// credibility × its decay (0 for a report dated after now).
func (ix *Index) Score(e events.Event, now time.Time) float64 {
	ty := ix.tx.TypeByID(e.Classification.Type)
	if ty == nil {
		return 0
	}
	age := now.Sub(EventTime(e))
	if age < 0 {
		return 0
	}
	_, level := ix.tx.Level(e.Classification)
	return level * ix.corroboration(ix.outletWeight(e)) * math.Exp2(-float64(age)/float64(ty.HalfLife))
}

// outletWeight is how much of one corroborating outlet a report's source
// counts as: min(1, credibility / full_credibility).
func (ix *Index) outletWeight(e events.Event) float64 {
	return math.Min(1, e.Source.Credibility/ix.tx.Index.FullCredibility)
}

// corroboration is the confidence of an incident reported by n (effective)
// independent outlets: the taxonomy's table, linear in between, c[0]·n
// below one outlet, and its last entry (1) beyond.
func (ix *Index) corroboration(n float64) float64 {
	c := ix.tx.Index.Corroboration
	switch {
	case n <= 0:
		return 0
	case n < 1:
		return c[0] * n
	case n >= float64(len(c)):
		return c[len(c)-1]
	}
	i := int(n) // 1 ≤ n < len(c): between c[i-1] and c[i]
	f := n - float64(i)
	return c[i-1] + f*(c[i]-c[i-1])
}

// incidentScore is an incident's value at now: its level times the
// confidence its distinct outlets give, fading by its type's half-life.
// An act of a moment (a launch, a clash, a statement) fades from the report
// that first gave it its level (the highest of its reports' levels so
// far): later reports raise its level or its confidence but do not refresh
// it, for the news of a clash the day after does not make it happen again.
// An ongoing incident (drills, a visit, a summit) fades from its latest
// report of that level: drills reported on their third day are still
// going on. Either way the cost is one search and one exponential,
// whatever the number of reports.
func (ix *Index) incidentScore(in *Incident, now time.Time) (score float64, reports int) {
	reports = in.reportsAt(now)
	if reports == 0 {
		return 0, 0
	}
	ty := ix.tx.TypeByID(in.Type)
	hl := float64(ty.HalfLife)
	conf := ix.corroboration(in.prefOutlets[reports-1])
	if ty.Ongoing {
		return in.prefFresh[reports-1] * math.Exp2(-float64(now.Sub(in.Start))/hl) * conf, reports
	}
	top := in.prefTop[reports-1]
	age := now.Sub(EventTime(in.Reports[top]))
	return in.levels[top] * math.Exp2(-float64(age)/hl) * conf, reports
}

// classOf returns an incident's class with the reports it has at now.
func (ix *Index) classOf(in *Incident, reports int) string {
	class, _ := ix.tx.Level(in.Reports[in.prefTop[reports-1]].Classification)
	return class
}

func outletOf(e events.Event) string {
	if e.Source.Outlet != "" {
		return e.Source.Outlet
	}
	return e.Source.FeedID
}

// Aggregate combines incident values into one number: the values weighed,
// strongest first, by 1, aggregation, aggregation², …, capped at 100. It
// sorts values in place.
func (ix *Index) Aggregate(values []float64) float64 {
	sort.Sort(sort.Reverse(sort.Float64Slice(values)))
	sum, w := 0.0, 1.0
	for _, v := range values {
		sum += w * v
		w *= ix.tx.Index.Aggregation
		if w < 1e-6 {
			break
		}
	}
	return math.Min(100, sum)
}

// Gauge combines the escalatory and de-escalatory incident values of a
// number: each side aggregated, the de-escalatory one cancelling at most
// max_deescalation of the escalatory one. It sorts both slices in place.
func (ix *Index) Gauge(esc, de []float64) float64 {
	e, d := ix.Aggregate(esc), ix.Aggregate(de)
	return e - math.Min(d, ix.tx.Index.MaxDeescalation*e)
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
	Band  string  `json:"band"`
	// ZScore compares Value with its own trailing baseline (regions only).
	ZScore    *float64       `json:"zscore,omitempty"`
	Incidents int            `json:"incidents"`
	Events    int            `json:"events"`
	Top       []Contribution `json:"top"`
}

// Contribution is one incident's share of a number.
type Contribution struct {
	IncidentID string    `json:"incident_id"`
	Title      string    `json:"title"`
	Link       string    `json:"link"`
	Outlet     string    `json:"outlet"`
	Type       string    `json:"type"`
	Region     string    `json:"region"`
	Published  time.Time `json:"published"`
	// Class is the incident class of its strongest report (the type's ID
	// when no class applies) and Level what that class reads alone.
	Class string  `json:"class"`
	Level float64 `json:"level"`
	// Confidence is the corroboration its outlets give (0..1), Outlets
	// how many distinct outlets reported it.
	Confidence float64 `json:"confidence"`
	Outlets    int     `json:"outlets"`
	// Score is the incident's value now: level × confidence × decay.
	Score        float64 `json:"score"`
	Deescalatory bool    `json:"deescalatory,omitempty"`
	Reports      int     `json:"reports"`
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

// acc gathers the incidents of one number. Incidents of one class in one
// region count as one, the strongest: two reports of the same drills that
// clustering failed to join, or a run of launches, read as the strongest of
// them, so that more feeds do not make more crisis.
type acc struct {
	esc, de   map[string]float64 // by region and class: the strongest value
	incidents int
	reports   int
	contrib   []Contribution
}

func (a *acc) add(key string, v float64, de bool, reports int) {
	m := &a.esc
	if de {
		m = &a.de
	}
	if *m == nil {
		*m = map[string]float64{}
	}
	(*m)[key] = math.Max((*m)[key], v)
	a.incidents++
	a.reports += reports
}

func values(m map[string]float64) []float64 {
	out := make([]float64, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// clustered returns the incidents, up to date with the events. Events added
// in time order extend the clustering; an older one, or a prune, rebuilds it
// from scratch, so the result is always that of clustering the whole set in
// time order. The caller holds ix.mu.
func (ix *Index) clustered() []*Incident {
	if ix.clu == nil {
		ix.clu = newClusterer(ix)
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
		ix.clu = newClusterer(ix)
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
	for _, in := range incidents {
		s, reports := ix.incidentScore(in, now)
		if s <= 0 {
			continue
		}
		de := ix.tx.TypeByID(in.Type).Deescalatory
		var c Contribution
		if topN > 0 {
			c = ix.contribution(in, now, s, reports, de)
		}
		key := in.Region + "/" + ix.classOf(in, reports)
		for _, a := range [3]*acc{total, regions[in.Region], cats[in.Section]} {
			a.add(key, s, de, reports)
			if topN > 0 {
				a.contrib = append(a.contrib, c)
			}
		}
	}
	snap := Snapshot{
		ComputedAt: now.UTC(), MethodologyVersion: ix.tx.Version,
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
		snap.Categories[id] = ix.section(a, topN)
	}
	snap.Gauge = ix.eastAsia(regions, total, topN)
	return snap
}

// eastAsia is the whole gauge: the strongest incident of each class in
// each region, weighed like a region's own, hottest first, after each
// region's de-escalation has scaled its incidents. It reads at least its
// hottest region, and background spread over seven regions adds little.
func (ix *Index) eastAsia(regions map[string]*acc, total *acc, topN int) Number {
	n := ix.number(total, topN)
	var all []float64
	for _, a := range regions {
		e := ix.Aggregate(values(a.esc))
		if e == 0 {
			continue
		}
		scale := ix.Gauge(values(a.esc), values(a.de)) / e
		for _, v := range a.esc {
			all = append(all, v*scale)
		}
	}
	n.Value = round(ix.Aggregate(all), 2)
	n.Band = ix.tx.Band(n.Value)
	return n
}

// section is a paper section's number: its incidents aggregated without
// cancellation, so that the de-escalation section reads how much
// de-escalation there is.
func (ix *Index) section(a *acc, topN int) Number {
	n := ix.number(a, topN)
	all := values(a.esc)
	for k, v := range a.de {
		if v > a.esc[k] {
			all = append(all, v)
		}
	}
	n.Value = round(ix.Aggregate(all), 2)
	n.Band = ix.tx.Band(n.Value)
	return n
}

func (ix *Index) contribution(in *Incident, now time.Time, score float64, reports int, de bool) Contribution {
	first := in.Reports[0]
	class, level := ix.tx.Level(in.Reports[in.prefTop[reports-1]].Classification)
	c := Contribution{
		IncidentID: in.ID, Title: first.Title, Link: first.Link, Outlet: outletOf(first),
		Type: in.Type, Region: in.Region, Published: first.Published,
		Class: class, Level: level, Confidence: round(ix.corroboration(in.prefOutlets[reports-1]), 4),
		Score: round(score, 4), Deescalatory: de, Reports: reports,
	}
	outlets := map[string]bool{}
	for _, e := range in.Reports[:reports] {
		outlets[outletOf(e)] = true
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
	c.Outlets = len(outlets)
	return c
}

func (ix *Index) number(a *acc, topN int) Number {
	v := round(ix.Gauge(values(a.esc), values(a.de)), 2)
	sort.Slice(a.contrib, func(i, j int) bool {
		if a.contrib[i].Score != a.contrib[j].Score {
			return a.contrib[i].Score > a.contrib[j].Score
		}
		return a.contrib[i].IncidentID < a.contrib[j].IncidentID
	})
	top := a.contrib[:min(topN, len(a.contrib))]
	return Number{Value: v, Band: ix.tx.Band(v), Incidents: a.incidents, Events: a.reports,
		Top: append([]Contribution{}, top...)}
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
