package index

import (
	"cmp"
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
	// votes and prefSides (running over Reports): who acted toward whom,
	// by the reports' votes (see Incident.vote).
	votes     votes
	prefSides []sides
	// prefNOutlets: the distinct outlets of the reports so far.
	prefNOutlets []int32
	// dyadAll is the dyad's index with all the reports (prefSides' last):
	// a snapshot reads it for most incidents without touching prefSides.
	dyadAll int
	levels  []float64 // of each report
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

// isOpenAt reports whether in, holding only its first k reports, takes a
// report at t.
func (c *clusterer) isOpenAt(in *Incident, k int, t time.Time) bool {
	spec := c.tx.Index
	if !in.ty.Ongoing {
		return t.Sub(in.Start) <= spec.ClusterWindow
	}
	latest := in.times[k-1]
	return t.Sub(in.Start) <= spec.ClusterSpan && time.Duration(t.UnixNano()-latest) <= spec.ClusterGap
}

// sameStory reports whether report e may belong to incident in at all:
// the same region (either may be the region as a whole), the same family
// of types, and, but for joint acts (chains.joint_families), not an act of
// the other camp than the incident's first report's (a launch and the
// allies' answering launch are two incidents).
func (c *clusterer) sameStory(in *Incident, e events.Event, ety *events.Type) bool {
	r, def := e.Classification.Region, c.tx.Rules.DefaultRegion
	return (in.Region == r || in.Region == def || r == def) && in.ty.Family == ety.Family &&
		(c.tx.Joint(ety.Family) || !c.tx.Opposed(in.Reports[0].Classification.Actor, e.Classification.Actor))
}

// joins returns how well report e (at t, with title words w) fits
// incident in (of its story, see sameStory), and whether it may join it at
// all: open, and a title that overlaps one of its reports' by the
// threshold of the incident's type (of the family, if the types differ). A report that says it is a new act
// ("another", "again") joins an incident of an act of a moment only if the
// incident's first report said so too.
func (c *clusterer) joins(in *Incident, e events.Event, ety *events.Type, repeat bool, t time.Time, w wordSet) (float64, bool) {
	return c.joinsAt(in, len(in.words), e, ety, repeat, t, w)
}

// joinsAt is joins with in as it stood with its first k reports.
func (c *clusterer) joinsAt(in *Incident, k int, e events.Event, ety *events.Type, repeat bool, t time.Time, w wordSet) (float64, bool) {
	cls := e.Classification
	ity := in.ty
	if !c.isOpenAt(in, k, t) ||
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
	n := k
	for i, rw := range in.words[:k] {
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
	in.prefNOutlets = append(in.prefNOutlets, int32(len(in.outlets)))
	in.vote(ix, n)
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

// insertLate adds a family's late reports (list, sorted; the first comes
// before a report of the family already clustered) where they belong, and
// returns the regions whose incidents changed. The result is that of
// clustering every report of the family in order from scratch; the cost is
// that of the reports a change can reach, not of every report after the
// late ones.
//
// The family's reports from the first late one on are gone through in
// order. At each, the incidents hold, before it, exactly what clustering
// from scratch holds at that point: every change (a late report placed, a
// report moved) is made at that point, so an incident's reports before it
// are the new clustering's, and those after it are still to be gone
// through. A report already clustered decides as it did unless an incident
// it is compared with (of its story, started within longest before it)
// changed, or is gone or new: only then is it clustered again, looking at
// each incident as it stood just before it (joinsAt), and moved if it now
// goes elsewhere. An incident whose first report moves is gone; its later
// reports are clustered again when their turn comes.
func (c *clusterer) insertLate(list []entry) map[string]bool {
	first := list[0].e
	fam := c.family(first)
	tL := EventTime(first)
	i0 := sort.Search(len(c.all), func(i int) bool { return !c.all[i].Start.Before(tL.Add(-c.longest())) })
	var steps []pass
	var open []*Incident
	for _, in := range c.all[i0:] {
		if in.ty.Family != fam {
			continue
		}
		open = append(open, in)
		k := sort.Search(len(in.Reports), func(j int) bool { return !eventLessP(&in.Reports[j], &first) })
		steps = in.passes(steps, k)
	}
	for i := range list {
		steps = append(steps, pass{&list[i].e, &list[i].w, nil, eventNanos(&list[i].e)})
	}
	last := list[len(list)-1].e
	changed := c.recluster(fam, tL, eventNanos(&last), steps, open)
	if l, ok := c.lastBy[fam]; !ok || eventLess(l, last) {
		c.lastBy[fam] = last
	}
	if c.count == 0 || eventLess(c.last, last) {
		c.last = last
	}
	c.count += len(list)
	return changed
}

// pass is a report to go through: one already clustered, in incident in,
// or a late one (in nil).
type pass struct {
	e  *events.Event // the incidents' arrays are copied, never changed, when a report moves
	w  *wordSet
	in *Incident
	tn int64 // its EventTime, Unix nanoseconds
}

// passes appends the incident's reports from its k-th on.
func (in *Incident) passes(out []pass, k int) []pass {
	for j := k; j < len(in.Reports); j++ {
		out = append(out, pass{&in.Reports[j], &in.words[j], in, in.times[j]})
	}
	return out
}

// recluster goes through family fam's reports from tL on (steps, in any
// order) as insertLate describes, until no change can reach the reports
// left and none is later than lastLate (Unix nanoseconds). open is the
// family's incidents that can take a report from tL on (by first report).
// It returns the regions whose incidents changed.
func (c *clusterer) recluster(fam string, tL time.Time, lastLate int64, steps []pass, open []*Incident) map[string]bool {
	longest := c.longest()
	slices.SortFunc(steps, func(a, b pass) int {
		if a.tn != b.tn {
			return cmp.Compare(a.tn, b.tn)
		}
		return strings.Compare(a.e.ID, b.e.ID)
	})
	c.openBy[fam] = open

	var changes, goneChanges []change // every change; the gone incidents among them
	var horizon int64                 // the last time a change can reach
	changed := map[string]bool{}
	dirty := map[*Incident]bool{}
	var dirtyList []*Incident
	gone := map[*Incident]bool{}
	mark := func(in *Incident) {
		changed[in.Region] = true
		if !dirty[in] {
			dirty[in] = true
			dirtyList = append(dirtyList, in)
			changes = append(changes, change{in.times[0], in.Region})
			horizon = max(horizon, in.times[0]+int64(longest))
		}
	}
	for _, st := range steps {
		if st.tn > lastLate && st.tn > horizon {
			break // no changed incident is compared with these reports
		}
		was := st.in
		if was != nil && !gone[was] && c.reaching(changes, st.e, st.tn) == 0 {
			continue // compared with the same incidents as before: the same decision
		}
		r := entry{*st.e, *st.w}
		if was != nil && !gone[was] && !dirty[was] && c.decidesAsBefore(r, was, fam, dirtyList, c.reaching(goneChanges, st.e, st.tn)) {
			continue
		}
		to := c.decideAt(r.e, r.w, fam)
		switch {
		case was != nil && to == was:
			continue // joins the same incident
		case was != nil && to == nil && was.ID == r.e.ID && !gone[was]:
			continue // opens the same incident
		}
		if was != nil {
			if was.ID == r.e.ID && !gone[was] {
				// Its first report leaves it: the incident is gone, and its
				// later reports find their places when their turn comes.
				gone[was] = true
				changed[was.Region] = true
				changes = append(changes, change{was.times[0], was.Region})
				horizon = max(horizon, was.times[0]+int64(longest))
				goneChanges = append(goneChanges, change{was.times[0], was.Region})
				c.openBy[fam] = removeIncident(c.openBy[fam], was)
			} else if !gone[was] {
				was.remove(c.ix, r.e.ID)
				mark(was)
			}
		}
		if to == nil {
			to = c.newIncident(r.e)
			to.insert(c.ix, r)
			c.openBy[fam] = insertIncident(c.openBy[fam], to)
			c.all = append(c.all, to)
		} else {
			to.insert(c.ix, r)
		}
		mark(to)
	}
	if len(gone) > 0 {
		keep := c.all[:0]
		for _, in := range c.all {
			if !gone[in] {
				keep = append(keep, in)
			}
		}
		c.all = keep
	}
	c.sortTail(tL.Add(-longest))
	return changed
}

// change is an incident that changed, appeared or went, by its start (Unix
// nanoseconds) and region: what decides whether a report compares itself
// with it.
type change struct {
	start  int64
	region string
}

// reaching counts the changes that report e (at tn) compares itself with:
// of its story, started within longest before it.
func (c *clusterer) reaching(changes []change, e *events.Event, tn int64) int {
	from := tn - int64(c.longest())
	reg, def := e.Classification.Region, c.tx.Rules.DefaultRegion
	n := 0
	for _, ch := range changes {
		if ch.start >= from && ch.start <= tn && (ch.region == reg || ch.region == def || reg == def) {
			n++
		}
	}
	return n
}

// decidesAsBefore reports, for report r of incident was (which has not
// changed), whether decideAt would put it into was again, comparing it
// with was and the changed incidents (dirty) only. That holds when every
// incident of its story is compared (no more than maxCandidates now, and
// counting those gone (goneIn), before), and no changed one takes it as
// well as was (ties go to the newer incident); the unchanged ones lost to
// was before and still do.
func (c *clusterer) decidesAsBefore(r entry, was *Incident, fam string, dirty []*Incident, goneIn int) bool {
	e := r.e
	t := EventTime(e)
	ety, repeat := c.tx.TypeByID(e.Classification.Type), e.Classification.HasSignal("repeat")
	live := c.openBy[fam]
	tn := t.UnixNano()
	hi := sort.Search(len(live), func(i int) bool { return live[i].startsAt(tn, e.ID) })
	n := goneIn
	longest := int64(c.longest())
	for i := hi - 1; i >= 0; i-- {
		in := live[i]
		if tn-in.times[0] > longest {
			break
		}
		if c.sameStory(in, e, ety) {
			if n++; n > maxCandidates {
				return false
			}
		}
	}
	opened := was.ID == e.ID // it opened was: nothing took it
	best := 0.0
	if !opened {
		s, ok := c.joinsAt(was, was.reportsBefore(tn, e.ID), e, ety, repeat, t, r.w)
		if !ok {
			return false
		}
		best = s
	}
	for _, d := range dirty {
		k := d.reportsBefore(tn, e.ID)
		if k == 0 || tn-d.times[0] > longest || !c.sameStory(d, e, ety) {
			continue
		}
		if s, ok := c.joinsAt(d, k, e, ety, repeat, t, r.w); ok && (opened || s > best || s == best && eventLessP(&was.Reports[0], &d.Reports[0])) {
			return false
		}
	}
	return true
}

// decideAt returns the incident of family fam that report e (with title
// words w) joins, each looked at as it stood just before e, or nil when e
// opens one: what addReport decides when e comes in order.
func (c *clusterer) decideAt(e events.Event, w wordSet, fam string) *Incident {
	t := EventTime(e)
	ety, repeat := c.tx.TypeByID(e.Classification.Type), e.Classification.HasSignal("repeat")
	live := c.openBy[fam]
	tn := t.UnixNano()
	hi := sort.Search(len(live), func(i int) bool { return live[i].startsAt(tn, e.ID) })
	var best *Incident
	bestSim := 0.0
	n := 0
	longest := int64(c.longest())
	for i := hi - 1; i >= 0 && n < maxCandidates; i-- {
		in := live[i]
		if tn-in.times[0] > longest {
			break
		}
		if !c.sameStory(in, e, ety) {
			continue
		}
		n++
		if s, ok := c.joinsAt(in, in.reportsBefore(tn, e.ID), e, ety, repeat, t, w); ok && s > bestSim {
			best, bestSim = in, s
		}
	}
	return best
}

// reportsBefore returns how many of the incident's reports come before the
// event at tn (Unix nanoseconds of its EventTime) with ID id.
func (in *Incident) reportsBefore(tn int64, id string) int {
	return sort.Search(len(in.times), func(j int) bool { return in.times[j] > tn || in.times[j] == tn && in.Reports[j].ID >= id })
}

// startsAt reports whether the incident's first report comes at or after
// the event at tn with ID id.
func (in *Incident) startsAt(tn int64, id string) bool {
	return in.times[0] > tn || in.times[0] == tn && in.Reports[0].ID >= id
}

// newIncident is an incident for report e to open (without e yet).
func (c *clusterer) newIncident(e events.Event) *Incident {
	cls := e.Classification
	ety := c.tx.TypeByID(cls.Type)
	section := cls.Section
	if c.tx.SectionByID(section) == nil {
		section = ety.Section
	}
	return &Incident{ID: e.ID, Type: cls.Type, Region: cls.Region, Section: section, Start: EventTime(e), outlets: map[string]float64{}, ty: ety}
}

// insert puts report r into the incident in its place (by time, then ID).
func (in *Incident) insert(ix *Index, r entry) {
	tn := EventTime(r.e).UnixNano()
	k := in.reportsBefore(tn, r.e.ID)
	if k == len(in.Reports) {
		in.words = append(in.words, r.w)
		in.add(ix, r.e)
		return
	}
	class, level := ix.tx.Level(r.e.Classification)
	in.Reports = slices.Insert(slices.Clone(in.Reports), k, r.e)
	in.words = slices.Insert(slices.Clone(in.words), k, r.w)
	in.levels = slices.Insert(slices.Clone(in.levels), k, level)
	in.times = slices.Insert(slices.Clone(in.times), k, tn)
	in.keys = slices.Insert(slices.Clone(in.keys), k, ix.key(in.Region, class))
	in.refresh(ix)
}

// remove takes the report with ID id out of the incident.
func (in *Incident) remove(ix *Index, id string) {
	k := slices.IndexFunc(in.Reports, func(e events.Event) bool { return e.ID == id })
	if k < 0 {
		return
	}
	in.Reports = slices.Delete(slices.Clone(in.Reports), k, k+1)
	in.words = slices.Delete(slices.Clone(in.words), k, k+1)
	in.levels = slices.Delete(slices.Clone(in.levels), k, k+1)
	in.times = slices.Delete(slices.Clone(in.times), k, k+1)
	in.keys = slices.Delete(slices.Clone(in.keys), k, k+1)
	in.refresh(ix)
}

// refresh recomputes the running maxima over the reports (see add) from
// their levels and times.
func (in *Incident) refresh(ix *Index) {
	n := len(in.Reports)
	in.prefTop, in.prefOutlets, in.prefFresh = make([]int, n), make([]float64, n), make([]float64, n)
	in.outlets = map[string]float64{}
	in.votes, in.prefSides, in.prefNOutlets = votes{}, make([]sides, 0, n), make([]int32, n)
	hl := float64(ix.tx.TypeByID(in.Type).HalfLife)
	start := in.Start.UnixNano()
	sum := 0.0
	for j, e := range in.Reports {
		level := in.levels[j]
		top := j
		if j > 0 && in.levels[in.prefTop[j-1]] >= level {
			top = in.prefTop[j-1]
		}
		in.prefTop[j] = top
		fresh := level * math.Exp2(float64(time.Duration(in.times[j]-start))/hl)
		if j > 0 {
			fresh = max(fresh, in.prefFresh[j-1])
		}
		in.prefFresh[j] = fresh
		o := outletOf(e)
		if w := ix.outletWeight(e); w > in.outlets[o] {
			sum += w - in.outlets[o]
			in.outlets[o] = w
		}
		in.prefOutlets[j] = sum
		in.prefNOutlets[j] = int32(len(in.outlets))
		in.vote(ix, j)
	}
}

// insertIncident puts in into list (in order of first reports).
func insertIncident(list []*Incident, in *Incident) []*Incident {
	k := sort.Search(len(list), func(i int) bool { return !eventLessP(&list[i].Reports[0], &in.Reports[0]) })
	return slices.Insert(list, k, in)
}

func removeIncident(list []*Incident, in *Incident) []*Incident {
	if k := slices.Index(list, in); k >= 0 {
		return slices.Delete(list, k, k+1)
	}
	return list
}
