package index

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Incident is one happening, reported by one or more items: the reports of
// the same type and region, close in time, whose titles share enough words.
type Incident struct {
	ID      string // the ID of its first report
	Type    string
	Region  string
	Section string
	Start   time.Time      // time of its first report
	Reports []events.Event // by time, then ID
	words   map[string]bool
	// Running over Reports: the best base score, discounted to Start by the
	// half-life, and the number of distinct outlets.
	prefBest    []float64
	prefOutlets []int
	outlets     map[string]bool
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
// they arrived in. An event joins the open incident of its type and region
// whose title words overlap its own most, if the overlap is at least
// index.cluster_similarity and the incident started at most
// index.cluster_window before it; otherwise it opens a new incident.
type clusterer struct {
	tx    *events.Taxonomy
	open  map[clusterKey][]*Incident
	all   []*Incident
	last  events.Event
	count int
}

type clusterKey struct{ ty, region string }

// maxCandidates is how many of the most recent open incidents of a type and
// region a report is compared with.
const maxCandidates = 64

func newClusterer(tx *events.Taxonomy) *clusterer {
	return &clusterer{tx: tx, open: map[clusterKey][]*Incident{}}
}

// canExtend reports whether e comes after every event added so far.
func (c *clusterer) canExtend(e events.Event) bool {
	return c.count == 0 || !eventLess(e, c.last)
}

func (c *clusterer) add(e events.Event) {
	c.last = e
	c.count++
	k := clusterKey{e.Classification.Type, e.Classification.Region}
	t := EventTime(e)
	w := titleWords(e.Title)
	live := c.open[k] // in order of Start: drop those too old to join from the front
	for len(live) > 0 && t.Sub(live[0].Start) > c.tx.Index.ClusterWindow {
		live = live[1:]
	}
	c.open[k] = live
	var best *Incident
	bestSim := 0.0
	// Compare with the most recent open incidents only: reports of one story
	// come within hours, and the cap keeps a flood of news linear.
	for i := len(live) - 1; i >= 0 && i >= len(live)-maxCandidates; i-- {
		in := live[i]
		if s := overlap(w, in.words); s >= c.tx.Index.ClusterSimilarity && s > bestSim {
			best, bestSim = in, s
		}
	}
	if best == nil {
		section := e.Classification.Section
		if c.tx.SectionByID(section) == nil {
			section = c.tx.TypeByID(k.ty).Section
		}
		best = &Incident{ID: e.ID, Type: k.ty, Region: k.region, Section: section, Start: t,
			words: map[string]bool{}, outlets: map[string]bool{}}
		c.open[k] = append(c.open[k], best)
		c.all = append(c.all, best)
	}
	best.Reports = append(best.Reports, e)
	hl := float64(c.tx.TypeByID(k.ty).HalfLife)
	v := baseScore(c.tx, e) * math.Exp2(float64(t.Sub(best.Start))/hl) // ≤ 2^(window/half-life)
	if n := len(best.prefBest); n > 0 {
		v = math.Max(v, best.prefBest[n-1])
	}
	best.prefBest = append(best.prefBest, v)
	best.outlets[outletOf(e)] = true
	best.prefOutlets = append(best.prefOutlets, len(best.outlets))
	for x := range w {
		best.words[x] = true
	}
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

// titleWords are a title's content words: normalised, demonyms folded to
// their country, stop words dropped.
func titleWords(title string) map[string]bool {
	out := map[string]bool{}
	for _, w := range events.Words(title) {
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

var fold = map[string]string{
	"chinese": "china", "beijing": "china", "pla": "china", "taiwanese": "taiwan", "taipei": "taiwan",
	"japanese": "japan", "tokyo": "japan", "korean": "korea", "pyongyang": "korea", "seoul": "korea",
	"philippine": "philippines", "manila": "philippines", "russian": "russia", "moscow": "russia",
	"american": "us", "washington": "us", "warplane": "aircraft", "jet": "aircraft", "plane": "aircraft",
	"warship": "ship", "vessel": "ship", "exercise": "drill", "launche": "launch", "fire": "launch",
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
