package index

import (
	"math"
	"math/bits"
	"slices"
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
	Start   time.Time      // time of its first report
	Reports []events.Event // by time, then ID
	words   []wordSet      // of each report's title, for comparison
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
	// Of each report, for scoring without touching the reports: its
	// EventTime (Unix nanoseconds) and its region/class key (see acc).
	times []int64
	keys  []int32
	ty    *events.Type
}

// reportsAt returns how many reports the incident had at now.
func (in *Incident) reportsAt(now time.Time) int {
	n := len(in.times)
	t := now.UnixNano()
	if n == 0 || in.times[n-1] <= t {
		return n
	}
	return sort.Search(n, func(i int) bool { return in.times[i] > t })
}

// A clusterer groups events into incidents. Fed the events of each family
// of types in time order (ties by ID), its result depends only on the set
// of events, never on the order they arrived in. An event joins the open
// incident of its story (region and family) whose reports' titles it
// overlaps most (see joins), or opens a new one. Families never mix, so
// each family's events may come in their own order: all is then put back
// in order of first reports by sortTail.
type clusterer struct {
	ix     *Index
	tx     *events.Taxonomy
	openBy map[string][]*Incident // of each family, by Start, from a point on: the ones that may take a report
	all    []*Incident            // by Start (first report's time, then ID)
	last   events.Event
	lastBy map[string]events.Event // of each family
	count  int
}

// maxCandidates is how many of the most recent open incidents of its
// region and family a report is compared with, and maxCompared how many of an incident's reports (its
// first and latest): reports of one story come within hours, and the caps
// keep a flood of news linear.
const (
	maxCandidates = 64
	maxCompared   = 16
)

func newClusterer(ix *Index) *clusterer {
	return &clusterer{ix: ix, tx: ix.tx, lastBy: map[string]events.Event{}, openBy: map[string][]*Incident{}}
}

// family is the family of an event's type.
func (c *clusterer) family(e events.Event) string {
	return c.tx.TypeByID(e.Classification.Type).Family
}

// canExtend reports whether e comes after every event of its family added
// so far.
func (c *clusterer) canExtend(e events.Event) bool {
	last, ok := c.lastBy[c.family(e)]
	return !ok || !eventLess(e, last)
}

// longest is how long after its first report an incident may stay open.
func (c *clusterer) longest() time.Duration {
	return max(c.tx.Index.ClusterWindow, c.tx.Index.ClusterSpan)
}

// isOpen reports whether in still takes a report at t.
func (c *clusterer) isOpen(in *Incident, t time.Time) bool {
	spec := c.tx.Index
	if !in.ty.Ongoing {
		return t.Sub(in.Start) <= spec.ClusterWindow
	}
	latest := in.times[len(in.times)-1]
	return t.Sub(in.Start) <= spec.ClusterSpan && time.Duration(t.UnixNano()-latest) <= spec.ClusterGap
}

// sameStory reports whether report e may belong to incident in at all:
// the same region (either may be the region as a whole) and the same
// family of types.
func (c *clusterer) sameStory(in *Incident, e events.Event, ety *events.Type) bool {
	r, def := e.Classification.Region, c.tx.Rules.DefaultRegion
	return (in.Region == r || in.Region == def || r == def) && in.ty.Family == ety.Family
}

// joins returns how well report e (at t, with title words w) fits
// incident in (of its story, see sameStory), and whether it may join it at
// all: open, and a title that overlaps one of its reports' by the
// threshold of the incident's type (of the family, if the types differ). A report that says it is a new act
// ("another", "again") joins an incident of an act of a moment only if the
// incident's first report said so too.
func (c *clusterer) joins(in *Incident, e events.Event, ety *events.Type, repeat bool, t time.Time, w wordSet) (float64, bool) {
	cls := e.Classification
	ity := in.ty
	if !c.isOpen(in, t) ||
		!ity.Ongoing && repeat && !in.Reports[0].Classification.HasSignal("repeat") {
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
		// The signatures bound the words in common from above: a report
		// that cannot reach the bar, or beat the best, is not compared.
		if m := min(len(w.ids), len(rw.ids)); m > 0 {
			if ub := float64(bits.OnesCount64(w.sig&rw.sig)+min(w.dup, rw.dup)) / float64(m); ub < bar || ub <= best {
				continue
			}
		}
		best = max(best, overlap(w, rw))
	}
	return best, best >= bar
}

// entry is a report: an event with its title's words, computed once.
type entry struct {
	e events.Event
	w wordSet
}

func (c *clusterer) add(e events.Event) *Incident {
	return c.addReport(entry{e, c.ix.vocab.set(e.Title)})
}

// addReport adds a report after every one added so far and returns the
// incident it joined or opened.
func (c *clusterer) addReport(r entry) *Incident {
	e, w := r.e, r.w
	if c.count == 0 || eventLess(c.last, e) {
		c.last = e
	}
	c.count++
	t := EventTime(e)
	ety, repeat := c.tx.TypeByID(e.Classification.Type), e.Classification.HasSignal("repeat")
	live := c.openBy[ety.Family] // in order of Start: drop those too old to take a report from the front
	for len(live) > 0 && t.Sub(live[0].Start) > c.longest() {
		live = live[1:]
	}
	c.openBy[ety.Family] = live
	var best *Incident
	bestSim := 0.0
	// The newest maxCandidates incidents of its region and family are
	// compared: counting only those keeps what happens elsewhere from
	// changing what a report joins.
	n := 0
	for i := len(live) - 1; i >= 0 && n < maxCandidates; i-- {
		if !c.sameStory(live[i], e, ety) {
			continue
		}
		n++
		if s, ok := c.joins(live[i], e, ety, repeat, t, w); ok && s > bestSim {
			best, bestSim = live[i], s
		}
	}
	if best == nil {
		cls := e.Classification
		section := cls.Section
		if c.tx.SectionByID(section) == nil {
			section = c.tx.TypeByID(cls.Type).Section
		}
		best = &Incident{ID: e.ID, Type: cls.Type, Region: cls.Region, Section: section, Start: t, outlets: map[string]float64{}, ty: ety}
		c.openBy[ety.Family] = append(c.openBy[ety.Family], best)
		c.all = append(c.all, best)
	}
	best.words = append(best.words, w)
	best.add(c.ix, e)
	c.lastBy[ety.Family] = e
	return best
}

// sortTail puts all back in order of first reports from the first
// incident that may have moved, one starting at or after from.
func (c *clusterer) sortTail(from time.Time) {
	i0 := sort.Search(len(c.all), func(i int) bool { return !c.all[i].Start.Before(from) })
	tail := c.all[i0:]
	less := func(i, j int) bool { return eventLessP(&tail[i].Reports[0], &tail[j].Reports[0]) }
	if !sort.SliceIsSorted(tail, less) {
		sort.SliceStable(tail, less)
	}
}

// add appends report e (not dated before any report it has) and updates
// the running maxima.
func (in *Incident) add(ix *Index, e events.Event) {
	in.Reports = append(in.Reports, e)
	n := len(in.Reports) - 1
	class, level := ix.tx.Level(e.Classification)
	in.levels = append(in.levels, level)
	in.times = append(in.times, EventTime(e).UnixNano())
	in.keys = append(in.keys, ix.key(in.Region, class))
	if in.ty == nil {
		in.ty = ix.tx.TypeByID(in.Type)
	}
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

func eventLess(a, b events.Event) bool { return eventLessP(&a, &b) }

// eventLessP is eventLess without copying the events.
func eventLessP(a, b *events.Event) bool {
	ta, tb := eventNanos(a), eventNanos(b)
	if ta != tb {
		return ta < tb
	}
	return a.ID < b.ID
}

// eventNanos is EventTime in Unix nanoseconds.
func eventNanos(e *events.Event) int64 {
	if e.Published.After(e.Fetched) {
		return e.Fetched.UnixNano()
	}
	return e.Published.UnixNano()
}

func sortEvents(evs []events.Event) {
	sort.Slice(evs, func(i, j int) bool { return eventLess(evs[i], evs[j]) })
}

// overlap is the overlap coefficient |a ∩ b| / min(|a|, |b|): a short
// headline that repeats the key words of a longer one is the same story.
func overlap(ws, vs wordSet) float64 {
	a, b := ws.ids, vs.ids
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(n) / float64(min(len(a), len(b)))
}

// Similarity is the overlap of two titles' content words, as clustering
// compares them.
func Similarity(a, b string) float64 {
	v := vocab{}
	return overlap(v.set(a), v.set(b))
}

// A wordSet is a title's content words, numbered by a vocab and sorted,
// with a signature.
type wordSet struct {
	ids []uint32
	// sig has bit id%64 of each word, and dup counts the words whose bit
	// another had already set: |a ∩ b| ≤ popcount(a.sig & b.sig) +
	// min(a.dup, b.dup), for two common words that share a bit share it
	// in both.
	sig uint64
	dup int
}

// vocab numbers words.
type vocab map[string]uint32

// set returns the content words of a title.
func (v vocab) set(title string) wordSet {
	words := titleWords(title)
	out := wordSet{ids: make([]uint32, 0, len(words))}
	for w := range words {
		id, ok := v[w]
		if !ok {
			id = uint32(len(v))
			v[w] = id
		}
		out.ids = append(out.ids, id)
		out.sig |= 1 << (id % 64)
	}
	slices.Sort(out.ids)
	out.dup = len(out.ids) - bits.OnesCount64(out.sig)
	return out
}

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

// rewind takes the clustering of from's family back to just before event
// from: every report of the family at or after it (in time order, ties by
// ID) leaves its incident, and the incidents it opened go; other families
// are untouched. It returns the reports taken out, for the caller
// to add again with the events that come between them, and what it undid,
// for changed to compare with after. Only incidents that were open at
// from's time can hold such reports, so the cost is that of the reports
// after from, not of the whole clustering.
func (c *clusterer) rewind(from events.Event) ([]entry, *undo) {
	t := EventTime(from)
	fam := c.family(from)
	i0 := sort.Search(len(c.all), func(i int) bool { return !c.all[i].Start.Before(t.Add(-c.longest())) })
	u := &undo{from: t.Add(-c.longest()), family: fam, kept: map[*Incident]undone{}, gone: map[string]undone{}}
	var out []entry
	keep := c.all[:i0]
	for _, in := range c.all[i0:] {
		if in.ty.Family != fam {
			keep = append(keep, in) // another family's: untouched
			continue
		}
		k := sort.Search(len(in.Reports), func(j int) bool { return !eventLessP(&in.Reports[j], &from) })
		d := undone{region: in.Region, k: k}
		for j := k; j < len(in.Reports); j++ {
			out = append(out, entry{in.Reports[j], in.words[j]})
			d.ids = append(d.ids, in.Reports[j].ID)
		}
		if k == 0 {
			u.gone[in.ID] = d // opened by a report at or after from
			continue
		}
		u.kept[in] = d
		in.truncate(c.ix, k)
		keep = append(keep, in)
	}
	c.all = keep
	// Incidents before i0 cannot take a report at or after t.
	var open []*Incident
	for _, in := range keep[i0:] {
		if in.ty.Family == fam {
			open = append(open, in)
		}
	}
	c.openBy[fam] = open
	delete(c.lastBy, fam)
	return out, u
}

// undo is what rewind took out: of each incident it kept, the reports it
// removed (after the first k), and each incident it dropped.
type undo struct {
	from   time.Time // incidents starting before it were not touched
	family string    // nor those of other families
	kept   map[*Incident]undone
	gone   map[string]undone // by incident ID
}

type undone struct {
	region string
	k      int
	ids    []string
}

// changed adds to regions those of the incidents whose reports differ
// from before the rewind u recorded.
func (c *clusterer) changed(u *undo, regions map[string]bool) {
	i0 := sort.Search(len(c.all), func(i int) bool { return !c.all[i].Start.Before(u.from) })
	same := func(in *Incident, d undone) bool {
		if len(in.Reports)-d.k != len(d.ids) {
			return false
		}
		for j, id := range d.ids {
			if in.Reports[d.k+j].ID != id {
				return false
			}
		}
		return true
	}
	for _, in := range c.all[i0:] {
		if in.ty.Family != u.family {
			continue
		}
		if d, ok := u.kept[in]; ok {
			if !same(in, d) {
				regions[in.Region] = true
			}
			continue
		}
		if d, ok := u.gone[in.ID]; ok {
			delete(u.gone, in.ID)
			if !same(in, d) || d.region != in.Region {
				regions[in.Region], regions[d.region] = true, true
			}
			continue
		}
		regions[in.Region] = true // a new incident
	}
	for _, d := range u.gone {
		regions[d.region] = true // an incident that is no more
	}
}

// truncate keeps the first k reports of an incident.
func (in *Incident) truncate(ix *Index, k int) {
	in.Reports = in.Reports[:k:k]
	in.words = in.words[:k:k]
	in.prefTop = in.prefTop[:k:k]
	in.prefOutlets = in.prefOutlets[:k:k]
	in.prefFresh = in.prefFresh[:k:k]
	in.levels = in.levels[:k:k]
	in.times = in.times[:k:k]
	in.keys = in.keys[:k:k]
	clear(in.outlets)
	for _, e := range in.Reports {
		o := outletOf(e)
		in.outlets[o] = max(in.outlets[o], ix.outletWeight(e))
	}
}

// prune drops the reports before cutoff and reports whether the
// clustering changed. An incident that ended before cutoff simply goes.
// When one straddles it (reports before and after), what its later
// reports would have formed without the earlier ones is redone from
// cutoff, until the incidents that can still take a report are the same
// as before (converged): the rest is kept as it was. The result is that of
// clustering the events from cutoff from scratch, which is what a
// restarted scorer does.
func (c *clusterer) prune(cutoff time.Time) bool {
	k := sort.Search(len(c.all), func(i int) bool { return !c.all[i].Start.Before(cutoff) })
	if k == 0 {
		return false
	}
	// The latest Start of an incident that straddles cutoff, by family:
	// families never mix, so only those families are redone.
	straddle := map[string]time.Time{}
	for _, in := range c.all[sort.Search(k, func(i int) bool { return !c.all[i].Start.Before(cutoff.Add(-c.longest())) }):k] {
		if !EventTime(in.Reports[len(in.Reports)-1]).Before(cutoff) {
			straddle[in.ty.Family] = in.Start
		}
	}
	before := c.all
	c.all = append([]*Incident(nil), c.all[k:]...)
	for f, list := range c.openBy {
		open := list[:0:0]
		for _, in := range list {
			if !in.Start.Before(cutoff) {
				open = append(open, in)
			}
		}
		c.openBy[f] = open
	}
	families := make([]string, 0, len(straddle))
	for f := range straddle {
		families = append(families, f)
	}
	sort.Strings(families)
	for _, fam := range families {
		var old []*Incident
		for _, in := range before {
			if in.ty.Family == fam {
				old = append(old, in)
			}
		}
		redone := c.redo(old, cutoff, straddle[fam])
		merged := make([]*Incident, 0, len(c.all))
		for _, in := range c.all {
			if in.ty.Family != fam {
				merged = append(merged, in)
			}
		}
		c.all = append(merged, redone...)
		sort.SliceStable(c.all, func(i, j int) bool { return eventLessP(&c.all[i].Reports[0], &c.all[j].Reports[0]) })
	}
	return true
}

// redo clusters a family's reports from cutoff from scratch, a window of
// reports at a time, until the family's incidents that can still take a
// report are the same as in old (its incidents before the prune); from
// there on it keeps old's. It returns the family's incidents, in order,
// and sets the family's open list and last event.
func (c *clusterer) redo(old []*Incident, cutoff, straddle time.Time) []*Incident {
	fam := old[0].ty.Family
	last := c.lastBy[fam]
	f := newClusterer(c.ix)
	checkFrom := straddle.Add(c.longest()) // before it, a straddler is still open in old
	span := 2 * c.longest()
	n := -1
	for lo := cutoff; !lo.After(EventTime(last)); lo = lo.Add(span) {
		hi := lo.Add(span)
		var win []entry
		a := sort.Search(len(old), func(i int) bool { return !old[i].Start.Before(lo.Add(-c.longest())) })
		b := sort.Search(len(old), func(i int) bool { return !old[i].Start.Before(hi) })
		for _, in := range old[a:b] {
			for j, e := range in.Reports {
				if t := EventTime(e); !t.Before(lo) && t.Before(hi) {
					win = append(win, entry{e, in.words[j]})
				}
			}
		}
		sortReports(win)
		for _, r := range win {
			// Checking costs the open incidents' reports: check every
			// convergeEvery reports (convergence at any point suffices).
			if t := EventTime(r.e); t.After(checkFrom) {
				if n++; n%convergeEvery == 0 && c.converged(f, old, r.e) {
					out := c.splice(f, old, r.e)
					from := EventTime(last).Add(-c.longest())
					c.openBy[fam] = out[sort.Search(len(out), func(i int) bool { return !out[i].Start.Before(from) }):]
					c.openBy[fam] = append([]*Incident(nil), c.openBy[fam]...)
					return out
				}
			}
			f.addReport(r)
		}
	}
	c.openBy[fam] = f.openBy[fam]
	return f.all
}

// convergeEvery is how many reports prune redoes between two checks for
// convergence.
const convergeEvery = 32

// converged reports whether the incidents that can take event next are the
// same in f (redone up to next) and in old (as it stood before next):
// same incidents, same reports. From there on, clustering the rest gives
// the same result in both.
func (c *clusterer) converged(f *clusterer, old []*Incident, next events.Event) bool {
	from := EventTime(next).Add(-c.longest())
	fi := sort.Search(len(f.all), func(i int) bool { return !f.all[i].Start.Before(from) })
	oi := sort.Search(len(old), func(i int) bool { return !old[i].Start.Before(from) })
	fo := f.all[fi:]
	var oo []*Incident
	for _, in := range old[oi:] {
		if !eventLess(in.Reports[0], next) {
			break
		}
		oo = append(oo, in)
	}
	if len(fo) != len(oo) {
		return false
	}
	for i, a := range fo {
		b := oo[i]
		if a.ID != b.ID || len(b.Reports) < len(a.Reports) ||
			len(b.Reports) > len(a.Reports) && eventLess(b.Reports[len(a.Reports)], next) {
			return false
		}
		for j := range a.Reports {
			if a.Reports[j].ID != b.Reports[j].ID {
				return false
			}
		}
	}
	return true
}

// splice returns f's incidents that can no longer take event next and
// old's from there on (converged said they are the same up to next).
func (c *clusterer) splice(f *clusterer, old []*Incident, next events.Event) []*Incident {
	from := EventTime(next).Add(-c.longest())
	fi := sort.Search(len(f.all), func(i int) bool { return !f.all[i].Start.Before(from) })
	oi := sort.Search(len(old), func(i int) bool { return !old[i].Start.Before(from) })
	out := make([]*Incident, 0, fi+len(old)-oi)
	out = append(out, f.all[:fi]...)
	return append(out, old[oi:]...)
}

func sortReports(rs []entry) {
	sort.Slice(rs, func(i, j int) bool { return eventLessP(&rs[i].e, &rs[j].e) })
}
