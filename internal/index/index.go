package index

import (
	"maps"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/chain"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Index holds events and computes the gauge from them.
//
// It is safe for concurrent use, and adding never waits on a reader: Add
// takes a short lock on the events held (mu), while Snapshot, Incidents and
// the clustering they bring up to date take another (cmu). Reads of the
// events alone (Known, Len, Events) share mu.
type Index struct {
	tx *events.Taxonomy

	mu      sync.RWMutex
	events  map[string]events.Event
	seen    map[string]time.Time // IDs pruned from events, kept for the window
	pending []events.Event       // added since the clustering last caught up
	cutoff  time.Time            // of the last Prune: no event before it is held
	oldest  time.Time            // of the events held; Prune has nothing to do before it

	cmu sync.Mutex
	// clu is the clustering of the events held (but pending), pruned to
	// cluCutoff. Events added in time order extend it; an older one is
	// put in its place, and only the reports a change can reach are
	// clustered again (see clusterer.insertLate); a prune drops what it no
	// longer needs (see clusterer.prune).
	clu       *clusterer
	cluCutoff time.Time
	// steps caches the numbers at whole baseline steps (the z-scores'
	// baseline and the history): a region's number at a step changes only
	// when its incidents at or before the step do. byRegion lists the
	// incidents of each region in order of their first report (nil when
	// the clustering changed since).
	steps    map[int64]*step
	byRegion map[string][]*Incident
	vocab    vocab // the words of the titles clustered

	// regionIdx and classIdx number the regions and the incident classes
	// (classes and types) for acc's slices of nKeys.
	regionIdx, classIdx map[string]int
	nKeys               int
	dyadIdx             map[string]int // the taxonomy's dyads, numbered
}

// step is the numbers at one baseline step.
type step struct {
	snap   *Snapshot          // numbers only (SnapshotNumbers); nil until asked for
	region map[string]float64 // a region's gauge before rounding, once computed
}

// New returns an empty index for the taxonomy.
func New(tx *events.Taxonomy) *Index {
	ix := &Index{tx: tx, events: map[string]events.Event{}, seen: map[string]time.Time{}, steps: map[int64]*step{},
		regionIdx: map[string]int{}, classIdx: map[string]int{}, vocab: vocab{}}
	for i, r := range tx.Regions {
		ix.regionIdx[r.ID] = i
	}
	ix.dyadIdx = map[string]int{}
	for i, d := range tx.Dyads {
		ix.dyadIdx[d.ID] = i
	}
	for _, ty := range tx.Types {
		ix.classIdx[ty.ID] = len(ix.classIdx)
	}
	for _, c := range tx.Classes {
		if _, ok := ix.classIdx[c.ID]; !ok {
			ix.classIdx[c.ID] = len(ix.classIdx)
		}
	}
	ix.nKeys = len(tx.Regions) * len(ix.classIdx)
	return ix
}

// Add adds e and reports whether it was new. A duplicate ID, an irrelevant
// event, or one whose type or region the taxonomy does not know changes
// nothing and returns false. A new event dated before the last Prune's
// cutoff is remembered as seen but not held.
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
	t := EventTime(e)
	if t.Before(ix.cutoff) {
		ix.seen[e.ID] = t
		return true
	}
	ix.events[e.ID] = e
	ix.pending = append(ix.pending, e)
	if ix.oldest.IsZero() || t.Before(ix.oldest) {
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

// Retention is how long the events topic must keep its messages for a
// restarted scorer to replay its whole window: the window, plus the day
// Cutoff rounds down by, plus a day's margin.
func Retention(tx *events.Taxonomy) time.Duration {
	return tx.Index.Window + 2*24*time.Hour
}

// Prune drops events older than Cutoff, remembering their IDs for one more
// window so that a late duplicate stays ignored. It returns how many it
// dropped. The clustering follows at the next Snapshot, dropping the
// incidents that ended before the cutoff without redoing the others.
func (ix *Index) Prune(now time.Time) int {
	cutoff := Cutoff(ix.tx, now)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !cutoff.After(ix.cutoff) {
		return 0
	}
	ix.cutoff = cutoff
	n := 0
	if ix.oldest.Before(cutoff) {
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
		kept := ix.pending[:0]
		for _, e := range ix.pending {
			if !EventTime(e).Before(cutoff) {
				kept = append(kept, e)
			}
		}
		ix.pending = kept
	}
	for id, t := range ix.seen {
		if t.Before(cutoff.Add(-ix.tx.Index.Window)) {
			delete(ix.seen, id)
		}
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
	ty := in.ty
	hl := float64(ty.HalfLife)
	conf := ix.corroboration(in.prefOutlets[reports-1])
	if ty.Ongoing {
		return in.prefFresh[reports-1] * math.Exp2(-float64(now.Sub(in.Start))/hl) * conf, reports
	}
	top := in.prefTop[reports-1]
	age := now.UnixNano() - in.times[top]
	return in.levels[top] * math.Exp2(-float64(age)/hl) * conf, reports
}

// key returns an incident's region and class (Index.key) with the reports
// it has at now.
func (in *Incident) key(reports int) int32 {
	return in.keys[in.prefTop[reports-1]]
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
	// Dyads are the numbers of the taxonomy's dyads: the incidents whose
	// actor and target (or actor and region) fall in each, weighed like a
	// region's.
	Dyads map[string]Number `json:"dyads"`
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
	// Who acted toward whom (by the reports' votes), the dyad they fall
	// in, and the move of the other camp this incident answers (full
	// snapshots only; see internal/chain).
	Actor     string  `json:"actor,omitempty"`
	Target    string  `json:"target,omitempty"`
	Dyad      string  `json:"dyad,omitempty"`
	Answering *Answer `json:"answering,omitempty"`
}

// Answer names the move an incident answers.
type Answer struct {
	IncidentID string    `json:"incident_id"`
	Title      string    `json:"title"`
	Link       string    `json:"link"`
	Actor      string    `json:"actor"`
	Start      time.Time `json:"start"`
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
	esc, de   []float64 // by region and class (Index.key): the strongest value, 0 if none
	incidents int
	reports   int
	// cands are the incidents behind the number, when the snapshot lists
	// them: only the topN largest become Contributions.
	cands []cand
	now   time.Time
}

// cand is an incident behind a number and its score at now.
type cand struct {
	in      *Incident
	score   float64 // rounded as Contribution.Score
	raw     float64
	reports int
	de      bool
}

func (ix *Index) newAcc() *acc {
	return &acc{esc: make([]float64, ix.nKeys), de: make([]float64, ix.nKeys)}
}

func (a *acc) add(key int32, v float64, de bool, reports int) {
	m := a.esc
	if de {
		m = a.de
	}
	m[key] = math.Max(m[key], v)
	a.incidents++
	a.reports += reports
}

// values returns the strongest value of every region and class that has
// one (incident values are positive).
func values(m []float64) []float64 {
	var out []float64
	for _, v := range m {
		if v > 0 {
			out = append(out, v)
		}
	}
	return out
}

// key numbers a region and an incident class (a class's or a type's ID)
// for acc.
func (ix *Index) key(region, class string) int32 {
	return int32(ix.regionIdx[region]*len(ix.classIdx) + ix.classIdx[class])
}

// clustered brings the clustering up to date with the events held and
// returns the incidents in order of their first report. The result is
// always that of clustering the events held in time order from scratch
// (TestIncrementalClusteringIsExact), but costs only what changed: the
// incidents that ended before a new cutoff are dropped, and a late event
// reclusters only the reports a change can reach (clusterer.insertLate).
// It invalidates the cached steps at and after the earliest time that
// changed. The caller holds cmu.
func (ix *Index) clustered() []*Incident {
	ix.mu.Lock()
	pending := ix.pending
	ix.pending = nil
	cutoff := ix.cutoff
	ix.mu.Unlock()
	if ix.clu == nil {
		ix.clu = newClusterer(ix)
	}
	if cutoff.After(ix.cluCutoff) {
		if ix.clu.prune(cutoff) {
			clear(ix.steps)
			ix.byRegion = nil
		}
		ix.cluCutoff = cutoff
		// Nothing asks for a step this far before the window (the history
		// reaches 720 h back, the baseline 28 days).
		for k := range ix.steps {
			if time.Unix(0, k).Before(cutoff.Add(-48 * time.Hour)) {
				delete(ix.steps, k)
			}
		}
	}
	if len(pending) == 0 {
		return ix.clu.all
	}
	rs := make([]entry, len(pending))
	for i, e := range pending {
		rs[i] = entry{e, ix.vocab.set(e.Title)}
	}
	sortReports(rs)
	// Each family of types clusters on its own: a late event changes its
	// own family only.
	byFamily := map[string][]entry{}
	var families []string
	for _, r := range rs {
		f := ix.clu.family(r.e)
		if _, ok := byFamily[f]; !ok {
			families = append(families, f)
		}
		byFamily[f] = append(byFamily[f], r)
	}
	sort.Strings(families)
	t := EventTime(rs[0].e)
	changed := map[string]bool{}
	for _, f := range families {
		list := byFamily[f]
		from := list[0].e
		if ix.clu.canExtend(from) {
			for _, r := range list {
				changed[ix.clu.addReport(r).Region] = true
			}
		} else {
			for r := range ix.clu.insertLate(list) {
				changed[r] = true
			}
		}
		ix.clu.sortTail(EventTime(from).Add(-ix.clu.longest()))
	}
	ix.byRegion = nil
	for k, st := range ix.steps {
		if time.Unix(0, k).Before(t) {
			continue
		}
		st.snap = nil
		for r := range changed {
			delete(st.region, r)
		}
	}
	return ix.clu.all
}

// Snapshot computes every number at now, with the regions' z-scores, listing
// each number's topN largest incidents (score descending, then ID).
func (ix *Index) Snapshot(now time.Time, topN int) Snapshot {
	ix.cmu.Lock()
	defer ix.cmu.Unlock()
	return ix.snapshot(ix.clustered(), now, topN, true)
}

// SnapshotAndChains is Snapshot and Chains at now, the chains found once.
func (ix *Index) SnapshotAndChains(now time.Time, topN int) (Snapshot, chain.Result) {
	ix.cmu.Lock()
	defer ix.cmu.Unlock()
	incidents := ix.clustered()
	res := chain.Find(ix.tx, ix.moves(incidents, now), now)
	return ix.snapshotWith(incidents, now, topN, true, nil, &res), res
}

// SnapshotNumbers computes the numbers at now without contributions or
// z-scores: what a replay step or a chart needs. At a whole hour or
// baseline step it answers from the cache.
func (ix *Index) SnapshotNumbers(now time.Time) Snapshot {
	ix.cmu.Lock()
	defer ix.cmu.Unlock()
	incidents := ix.clustered()
	if !now.Equal(now.Truncate(time.Hour)) && !now.Equal(now.Truncate(ix.tx.Index.BaselineStep)) {
		return ix.snapshot(incidents, now, 0, false)
	}
	st := ix.step(now)
	if st.snap == nil {
		snap := ix.snapshotInto(incidents, now, 0, false, st.region)
		st.snap = &snap
	}
	return copySnapshot(*st.snap)
}

// copySnapshot copies a snapshot's maps, so that the cached one stays as
// it is whatever the caller does.
func copySnapshot(s Snapshot) Snapshot {
	s.Regions, s.Categories, s.Dyads = maps.Clone(s.Regions), maps.Clone(s.Categories), maps.Clone(s.Dyads)
	return s
}

// step returns the cache entry of a whole baseline step. The caller holds
// cmu.
func (ix *Index) step(t time.Time) *step {
	k := t.UnixNano()
	st, ok := ix.steps[k]
	if !ok {
		st = &step{region: map[string]float64{}}
		ix.steps[k] = st
	}
	return st
}

// regionAt returns a region's gauge before rounding at a whole baseline
// step, from the cache if its incidents at or before the step did not
// change since. The caller holds cmu.
func (ix *Index) regionAt(incidents []*Incident, t time.Time, region string) float64 {
	st := ix.step(t)
	if v, ok := st.region[region]; ok {
		return v
	}
	if ix.byRegion == nil {
		ix.byRegion = map[string][]*Incident{}
		for _, in := range incidents {
			ix.byRegion[in.Region] = append(ix.byRegion[in.Region], in)
		}
	}
	list := ix.byRegion[region]
	a := ix.newAcc()
	end := sort.Search(len(list), func(i int) bool { return list[i].Start.After(t) })
	for _, in := range list[:end] {
		if s, reports := ix.incidentScore(in, t); s > 0 {
			a.add(in.key(reports), s, in.ty.Deescalatory, reports)
		}
	}
	v := ix.Gauge(values(a.esc), values(a.de))
	st.region[region] = v
	return v
}

func (ix *Index) snapshot(incidents []*Incident, now time.Time, topN int, withZ bool) Snapshot {
	return ix.snapshotInto(incidents, now, topN, withZ, nil)
}

// snapshotInto computes a snapshot; raw, if not nil, receives each
// region's gauge before rounding.
func (ix *Index) snapshotInto(incidents []*Incident, now time.Time, topN int, withZ bool, raw map[string]float64) Snapshot {
	return ix.snapshotWith(incidents, now, topN, withZ, raw, nil)
}

// snapshotWith is snapshotInto with the chains at now, if found already
// (else, when contributions are listed, it finds them for their answering
// links).
func (ix *Index) snapshotWith(incidents []*Incident, now time.Time, topN int, withZ bool, raw map[string]float64, res *chain.Result) Snapshot {
	total := ix.newAcc()
	regions := map[string]*acc{}
	cats := map[string]*acc{}
	dyads := make([]*acc, len(ix.tx.Dyads)) // made when one has an incident
	for _, r := range ix.tx.Regions {
		regions[r.ID] = ix.newAcc()
	}
	for _, s := range ix.tx.Sections {
		cats[s.ID] = ix.newAcc()
	}
	// Incidents are in order of their first report: none after now counts.
	end := sort.Search(len(incidents), func(i int) bool { return incidents[i].Start.After(now) })
	for _, in := range incidents[:end] {
		s, reports := ix.incidentScore(in, now)
		if s <= 0 {
			continue
		}
		de := in.ty.Deescalatory
		key := in.key(reports)
		accs := [4]*acc{total, regions[in.Region], cats[in.Section], nil}
		if d := in.dyadAt(reports); d >= 0 {
			if dyads[d] == nil {
				dyads[d] = ix.newAcc()
			}
			accs[3] = dyads[d]
		}
		for _, a := range accs {
			if a == nil {
				continue // no dyad
			}
			a.add(key, s, de, reports)
			if topN > 0 {
				a.cands = append(a.cands, cand{in, round(s, 4), s, reports, de})
				a.now = now
			}
		}
	}
	snap := Snapshot{
		ComputedAt: now.UTC(), MethodologyVersion: ix.tx.Version,
		Regions: map[string]Number{}, Categories: map[string]Number{}, Dyads: map[string]Number{},
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
		if raw != nil {
			raw[id] = ix.Gauge(values(a.esc), values(a.de))
		}
	}
	for id, a := range cats {
		snap.Categories[id] = ix.section(a, topN)
	}
	for i, a := range dyads {
		if a == nil {
			a = &acc{} // no incident: 0
		}
		snap.Dyads[ix.tx.Dyads[i].ID] = ix.number(a, topN)
	}
	snap.Gauge = ix.eastAsia(regions, total, topN)
	if topN > 0 {
		if res == nil {
			r := chain.Find(ix.tx, ix.moves(incidents[:end], now), now)
			res = &r
		}
		ix.linkAnswers(&snap, *res)
	}
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
			if v > 0 {
				all = append(all, v*scale)
			}
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
		if v > 0 && v > a.esc[k] {
			all = append(all, v)
		}
	}
	n.Value = round(ix.Aggregate(all), 2)
	n.Band = ix.tx.Band(n.Value)
	return n
}

func (ix *Index) contribution(in *Incident, now time.Time, score float64, reports int, de bool) Contribution {
	// The incident is told by the report that gave it its level (the first
	// at its strongest), not by its first: "Taiwan tracks 25 Chinese
	// aircraft" opens what "China encircles Taiwan with live-fire drills"
	// makes an encirclement.
	first, top := in.Reports[0], in.Reports[in.prefTop[reports-1]]
	class, level := ix.tx.Level(top.Classification)
	sd := in.sidesAt(reports)
	c := Contribution{
		Actor: sd.actor, Target: sd.target, Dyad: sd.dyad,
		IncidentID: in.ID, Title: top.Title, Link: top.Link, Outlet: outletOf(top),
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
	sort.Slice(a.cands, func(i, j int) bool {
		if a.cands[i].score != a.cands[j].score {
			return a.cands[i].score > a.cands[j].score
		}
		return a.cands[i].in.ID < a.cands[j].in.ID
	})
	top := make([]Contribution, 0, min(topN, len(a.cands)))
	for _, c := range a.cands[:min(topN, len(a.cands))] {
		top = append(top, ix.contribution(c.in, a.now, c.raw, c.reports, c.de))
	}
	return Number{Value: v, Band: ix.tx.Band(v), Incidents: a.incidents, Events: a.reports, Top: top}
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

// Incidents returns the incidents (clusters of reports), in ID order. They
// are the index's own: the caller must not change them, nor use them after
// adding events.
func (ix *Index) Incidents() []*Incident {
	ix.cmu.Lock()
	defer ix.cmu.Unlock()
	out := append([]*Incident(nil), ix.clustered()...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
