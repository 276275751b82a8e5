package index

import (
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
}

// cluster groups events into incidents. It visits events in time order (ties
// by ID), so the result depends only on the set of events, never on the order
// they arrived in. An event joins the open incident of its type and region
// whose title words overlap its own most, if the overlap is at least
// index.cluster_similarity and the incident started at most
// index.cluster_window before it; otherwise it opens a new incident.
func cluster(tx *events.Taxonomy, evs map[string]events.Event) []*Incident {
	sorted := make([]events.Event, 0, len(evs))
	for _, e := range evs {
		sorted = append(sorted, e)
	}
	sort.Slice(sorted, func(i, j int) bool {
		ti, tj := EventTime(sorted[i]), EventTime(sorted[j])
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return sorted[i].ID < sorted[j].ID
	})
	window, minSim := tx.Index.ClusterWindow, tx.Index.ClusterSimilarity
	type key struct{ ty, region string }
	open := map[key][]*Incident{}
	var out []*Incident
	for _, e := range sorted {
		k := key{e.Classification.Type, e.Classification.Region}
		t := EventTime(e)
		w := titleWords(e.Title)
		// drop incidents that are too old to join, keep the rest
		live := open[k][:0]
		for _, in := range open[k] {
			if t.Sub(in.Start) <= window {
				live = append(live, in)
			}
		}
		open[k] = live
		var best *Incident
		bestSim := 0.0
		for _, in := range live {
			if s := overlap(w, in.words); s >= minSim && s > bestSim {
				best, bestSim = in, s
			}
		}
		if best == nil {
			section := e.Classification.Section
			if tx.SectionByID(section) == nil {
				section = tx.TypeByID(k.ty).Section
			}
			best = &Incident{ID: e.ID, Type: k.ty, Region: k.region, Section: section, Start: t, words: map[string]bool{}}
			open[k] = append(open[k], best)
			out = append(out, best)
		}
		best.Reports = append(best.Reports, e)
		for x := range w {
			best.words[x] = true
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
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
