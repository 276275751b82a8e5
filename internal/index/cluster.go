package index

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Incident is one happening, reported by one or more items: reports of one
// region (or of the region as a whole) and of one family of types, close
// in time, whose titles share enough words. Its type, region and section
// are those of its first report.
type Incident struct {
	ID      string // the ID of its first report
	Type    string
	Region  string
	Section string
	Start   time.Time         // time of its first report
	Reports []events.Event    // by time, then ID
	words   []map[string]bool // of each report's title, for comparison
	// Running over Reports: the index of the first report of the highest
	// level so far (the incident's level and class, and when it reached
	// them), and the effective number of distinct outlets (see
	// Index.outletWeight).
	prefTop     []int
	prefOutlets []float64
	// prefFresh (ongoing types): the highest level × 2^((t − Start) /
	// half-life) of the reports so far, for decay from the latest report
	// of the strongest activity.
	prefFresh []float64
	outlets   map[string]float64
	levels    []float64 // of each report
}

// reportsAt returns how many reports the incident had at now.
func (in *Incident) reportsAt(now time.Time) int {
	n := len(in.Reports)
	if n == 0 || !EventTime(in.Reports[n-1]).After(now) {
		return n
	}
	return sort.Search(n, func(i int) bool { return EventTime(in.Reports[i]).After(now) })
}

// A clusterer groups events into incidents. Fed events in time order (ties
// by ID), its result depends only on the set of events, never on the order
// they arrived in. An event joins the open incident whose reports' titles
// it overlaps most (see join), or opens a new one.
type clusterer struct {
	ix    *Index
	tx    *events.Taxonomy
	open  []*Incident // by Start
	all   []*Incident
	last  events.Event
	count int
}

// maxCandidates is how many of the most recent open incidents a report is
// compared with, and maxCompared how many of an incident's reports (its
// first and latest): reports of one story come within hours, and the caps
// keep a flood of news linear.
const (
	maxCandidates = 64
	maxCompared   = 16
)

func newClusterer(ix *Index) *clusterer {
	return &clusterer{ix: ix, tx: ix.tx}
}

// canExtend reports whether e comes after every event added so far.
func (c *clusterer) canExtend(e events.Event) bool {
	return c.count == 0 || !eventLess(e, c.last)
}

// longest is how long after its first report an incident may stay open.
func (c *clusterer) longest() time.Duration {
	return max(c.tx.Index.ClusterWindow, c.tx.Index.ClusterSpan)
}

// isOpen reports whether in still takes a report at t.
func (c *clusterer) isOpen(in *Incident, t time.Time) bool {
	spec := c.tx.Index
	if !c.tx.TypeByID(in.Type).Ongoing {
		return t.Sub(in.Start) <= spec.ClusterWindow
	}
	latest := EventTime(in.Reports[len(in.Reports)-1])
	return t.Sub(in.Start) <= spec.ClusterSpan && t.Sub(latest) <= spec.ClusterGap
}

// joins returns how well report e (at t, with title words w) fits
// incident in, and whether it may join it at all: same region (either may
// be the region as a whole), same family of types, open, and a title that
// overlaps one of its reports' by the threshold of the incident's type (of
// the family, if the types differ). A report that says it is a new act
// ("another", "again") joins an incident of an act of a moment only if the
// incident's first report said so too.
func (c *clusterer) joins(in *Incident, e events.Event, t time.Time, w map[string]bool) (float64, bool) {
	cls := e.Classification
	if in.Region != cls.Region && in.Region != c.tx.Rules.DefaultRegion && cls.Region != c.tx.Rules.DefaultRegion {
		return 0, false
	}
	ity, ety := c.tx.TypeByID(in.Type), c.tx.TypeByID(cls.Type)
	if ity.Family != ety.Family || !c.isOpen(in, t) ||
		!ity.Ongoing && cls.HasSignal("repeat") && !in.Reports[0].Classification.HasSignal("repeat") {
		return 0, false
	}
	bar := c.tx.Index.ClusterSimilarity
	if ity.ClusterSimilarity > 0 {
		bar = ity.ClusterSimilarity
	}
	if in.Type != cls.Type {
		bar = max(bar, c.tx.Index.ClusterSimilarityOtherType)
	}
	best := 0.0
	n := len(in.words)
	for i, rw := range in.words {
		if i >= maxCompared/2 && i < n-maxCompared/2 {
			continue // the first and the latest reports stand for the rest
		}
		best = max(best, overlap(w, rw))
	}
	return best, best >= bar
}

func (c *clusterer) add(e events.Event) {
	c.last = e
	c.count++
	t := EventTime(e)
	w := titleWords(e.Title)
	live := c.open // in order of Start: drop those too old to take a report from the front
	for len(live) > 0 && t.Sub(live[0].Start) > c.longest() {
		live = live[1:]
	}
	c.open = live
	var best *Incident
	bestSim := 0.0
	for i := len(live) - 1; i >= 0 && i >= len(live)-maxCandidates; i-- {
		if s, ok := c.joins(live[i], e, t, w); ok && s > bestSim {
			best, bestSim = live[i], s
		}
	}
	if best == nil {
		cls := e.Classification
		section := cls.Section
		if c.tx.SectionByID(section) == nil {
			section = c.tx.TypeByID(cls.Type).Section
		}
		best = &Incident{ID: e.ID, Type: cls.Type, Region: cls.Region, Section: section, Start: t, outlets: map[string]float64{}}
		c.open = append(c.open, best)
		c.all = append(c.all, best)
	}
	best.words = append(best.words, w)
	best.add(c.ix, e)
}

// add appends report e (not dated before any report it has) and updates
// the running maxima.
func (in *Incident) add(ix *Index, e events.Event) {
	in.Reports = append(in.Reports, e)
	n := len(in.Reports) - 1
	_, level := ix.tx.Level(e.Classification)
	in.levels = append(in.levels, level)
	top, sum := n, 0.0
	if n > 0 {
		if prev := in.prefTop[n-1]; in.levels[prev] >= level {
			top = prev
		}
		sum = in.prefOutlets[n-1]
	}
	in.prefTop = append(in.prefTop, top)
	hl := float64(ix.tx.TypeByID(in.Type).HalfLife)
	fresh := level * math.Exp2(float64(EventTime(e).Sub(in.Start))/hl) // ≤ level × 2^(span/half-life)
	if n > 0 {
		fresh = max(fresh, in.prefFresh[n-1])
	}
	in.prefFresh = append(in.prefFresh, fresh)
	o := outletOf(e)
	if w := ix.outletWeight(e); w > in.outlets[o] {
		sum += w - in.outlets[o]
		in.outlets[o] = w
	}
	in.prefOutlets = append(in.prefOutlets, sum)
}

// sorted returns the incidents in ID order.
func (c *clusterer) sorted() []*Incident {
	out := append([]*Incident(nil), c.all...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func eventLess(a, b events.Event) bool {
	ta, tb := EventTime(a), EventTime(b)
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.ID < b.ID
}

func sortEvents(evs []events.Event) {
	sort.Slice(evs, func(i, j int) bool { return eventLess(evs[i], evs[j]) })
}

// overlap is the overlap coefficient |a ∩ b| / min(|a|, |b|): a short
// headline that repeats the key words of a longer one is the same story.
func overlap(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	n := 0
	for x := range a {
		if b[x] {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

// Similarity compares two titles the way clustering does.
func Similarity(a, b string) float64 { return overlap(titleWords(a), titleWords(b)) }

// titleWords are a title's content words: normalised, -ing, -ed and -es
// endings folded, synonyms and demonyms folded to one word, stop words
// dropped.
func titleWords(title string) map[string]bool {
	out := map[string]bool{}
	for _, w := range classify.Words(title) {
		if f, ok := fold[w]; ok {
			w = f
		}
		w = stemSuffix(w)
		if f, ok := fold[w]; ok {
			w = f
		}
		if stop[w] || len(w) < 2 && w[0] < 0x80 {
			continue
		}
		out[w] = true
	}
	return out
}

// stemSuffix folds an English -ing, -ed or -es ending when at least four
// letters remain ("encircling" and "encircled" → "encircl", "fired" →
// "fir"), so that tenses of one verb compare equal.
func stemSuffix(w string) string {
	for _, suf := range [...]string{"ing", "ed", "es"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 4 {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

var fold = map[string]string{
	"chinese": "china", "beijing": "china", "pla": "china", "taiwanese": "taiwan", "taipei": "taiwan",
	"japanese": "japan", "tokyo": "japan", "korean": "korea", "pyongyang": "korea", "seoul": "korea",
	"philippine": "philippines", "manila": "philippines", "russian": "russia", "moscow": "russia",
	"american": "us", "washington": "us", "warplane": "aircraft", "jet": "aircraft", "plane": "aircraft",
	"warship": "ship", "vessel": "ship", "exercise": "drill", "exercis": "drill", "war": "drill", "game": "drill",
	"maneuver": "drill", "manoeuvre": "drill", "launche": "launch", "launch": "launch", "fire": "launch", "fir": "launch",
}

var stop = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the of in on to for with as at by after from and or is are be been says said say
		its it that this these those new over amid into about will has have had his her their they we you not no near
		than more most up out off what why how when who which while before since during under again also just report
		reports s t`) {
		m[w] = true
	}
	return m
}()
