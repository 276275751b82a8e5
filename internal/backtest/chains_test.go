package backtest

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tensionwatch/tensionwatch/internal/chain"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// labelledIncident is an incident of testdata/chains: it matches a
// computed incident that holds any of its reports.
type labelledIncident struct {
	What   string   `yaml:"what"`
	Actor  string   `yaml:"actor"`
	Target string   `yaml:"target"`
	URLs   []string `yaml:"urls"`
}

// labelledLink is a link a reader drew (expected.yaml: answer, answering)
// or would not draw (unrelated.yaml: later, earlier).
type labelledLink struct {
	Window    string           `yaml:"window"`
	Answer    labelledIncident `yaml:"answer"`
	Answering labelledIncident `yaml:"answering"`
	Later     labelledIncident `yaml:"later"`
	Earlier   labelledIncident `yaml:"earlier"`
	Why       string           `yaml:"why"`
}

func readLinks(t *testing.T, path string) []labelledLink {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []labelledLink
	if err := yaml.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// chainWindow is a development window's incidents, replayed to its end.
type chainWindow struct {
	name    string
	end     time.Time
	moves   []chain.Move
	reports map[string]map[string]bool // incident ID → its reports' links
}

func (w chainWindow) holds(id string, in labelledIncident) bool {
	for _, u := range in.URLs {
		if w.reports[id][u] {
			return true
		}
	}
	return false
}

// linkScore counts a run of the chains against the labels.
type linkScore struct {
	found, correct   int // links drawn; of them, a reader's
	expected, missed int // links a reader drew; of them, not drawn
	unrelated        int // links drawn between a pair a reader would not link
}

func (s *linkScore) add(o linkScore) {
	s.found += o.found
	s.correct += o.correct
	s.expected += o.expected
	s.missed += o.missed
	s.unrelated += o.unrelated
}

func (s linkScore) precision() float64 { return float64(s.correct) / max(1, float64(s.found)) }
func (s linkScore) recall() float64 {
	return float64(s.expected-s.missed) / max(1, float64(s.expected))
}
func (s linkScore) f1() float64 {
	p, r := s.precision(), s.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// scoreLinks finds the chains of w's incidents under tx's parameters and
// scores the links they draw.
func scoreLinks(tx *events.Taxonomy, w chainWindow, exp, neg []labelledLink) linkScore {
	res := chain.Find(tx, w.moves, w.end)
	var s linkScore
	matched := map[int]bool{}
	for y, m := range res.Moves {
		x := m.Answering
		if x == "" {
			continue
		}
		s.found++
		ok := false
		for k, l := range exp {
			if l.Window == w.name && w.holds(y, l.Answer) && w.holds(x, l.Answering) {
				ok, matched[k] = true, true
			}
		}
		if ok {
			s.correct++
		}
		for _, l := range neg {
			if l.Window == w.name && w.holds(y, l.Later) && w.holds(x, l.Earlier) {
				s.unrelated++
			}
		}
	}
	for k, l := range exp {
		if l.Window == w.name {
			s.expected++
			if !matched[k] {
				s.missed++
			}
		}
	}
	return s
}

// newChainWindow replays a window's events into an index and keeps its
// incidents as the chains see them at the window's end.
func newChainWindow(tx *events.Taxonomy, name string, evs []events.Event) chainWindow {
	ix := index.New(tx)
	cw := chainWindow{name: name, reports: map[string]map[string]bool{}}
	for _, e := range evs {
		ix.Add(e)
		if et := index.EventTime(e); et.After(cw.end) {
			cw.end = et
		}
	}
	cw.moves = ix.Moves(cw.end)
	for _, in := range ix.Incidents() {
		cw.reports[in.ID] = map[string]bool{}
		for _, r := range in.Reports {
			cw.reports[in.ID][r.Link] = true
		}
	}
	return cw
}

// TestChains measures the action–reaction chains against the links a
// reader drew, before any code computed chains, on the development windows
// (testdata/chains: the four windows of ../shared/data/windows and the April
// 2023 capture): every item classified, clustered and chained as the
// product does. It also measures the actors and targets against the
// reader's labels, and the chains' two parameters left one window out:
// chosen on four windows, scored on the fifth; and it logs, to show where
// the errors come from, the links drawn from the reader's relevant items
// alone, and from those with the reader's sides.
func TestChains(t *testing.T) {
	data := testtool.SharedData(t)
	tx, c := classifier(t)
	exp := readLinks(t, "../../testdata/chains/expected.yaml")
	neg := readLinks(t, "../../testdata/chains/unrelated.yaml")
	if len(exp) < 25 || len(neg) < 10 {
		t.Fatalf("%d expected links and %d unrelated pairs, want the labelled 31 and 15", len(exp), len(neg))
	}
	type sideLabel struct{ Window, URL, Actor, Target string }
	sides := map[string]sideLabel{}
	b, err := os.ReadFile("../../testdata/chains/sides.labels.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var l sideLabel
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		sides[l.URL] = l
	}
	ws, err := ReadWindows(windowsFile, tx)
	if err != nil {
		t.Fatal(err)
	}
	var cws []chainWindow
	var oracle [2][]chainWindow
	var labelled, actors, targets int
	for _, w := range ws {
		if !slices.ContainsFunc(exp, func(l labelledLink) bool { return l.Window == w.Name }) {
			continue // joint-sword-2023-4feeds: a subset of joint-sword-2023's feeds
		}
		items, err := w.Load(data)
		if err != nil {
			t.Fatal(err)
		}
		evs := Events(items, c, DefaultCredibility)
		for _, e := range evs {
			if l, ok := sides[e.Link]; ok && l.Window == w.Name {
				labelled++
				if e.Classification.Actor == l.Actor {
					actors++
				}
				if e.Classification.Target == l.Target {
					targets++
				}
			}
		}
		cw := newChainWindow(tx, w.Name, evs)
		// The diagnostics: only the items the reader found relevant (those
		// with side labels), and those with the reader's sides as well.
		var rel, relSides []events.Event
		for _, e := range evs {
			if l, ok := sides[e.Link]; ok && l.Window == w.Name {
				rel = append(rel, e)
				e.Classification.Actor, e.Classification.Target = l.Actor, l.Target
				relSides = append(relSides, e)
			}
		}
		oracle[0] = append(oracle[0], newChainWindow(tx, w.Name, rel))
		oracle[1] = append(oracle[1], newChainWindow(tx, w.Name, relSides))
		cws = append(cws, cw)
	}
	if len(cws) != 5 {
		t.Fatalf("%d windows with labelled links, want 5", len(cws))
	}

	// Who acted toward whom, on the labelled items the classifier finds
	// relevant.
	actorAcc, targetAcc := float64(actors)/float64(labelled), float64(targets)/float64(labelled)
	t.Logf("sides of %d labelled relevant items: actor %.3f, target %.3f", labelled, actorAcc, targetAcc)
	if labelled < 200 || actorAcc < 0.88 || targetAcc < 0.72 {
		t.Errorf("sides: %d items, actor %.3f (want ≥ 0.88), target %.3f (want ≥ 0.72)", labelled, actorAcc, targetAcc)
	}

	// The published parameters, on every window.
	var all linkScore
	for _, w := range cws {
		s := scoreLinks(tx, w, exp, neg)
		t.Logf("%s: %d links drawn, %d a reader's; %d of the reader's %d found", w.name, s.found, s.correct, s.expected-s.missed, s.expected)
		all.add(s)
	}
	t.Logf("published parameters (window %s, min_outlets %d): precision %.2f, recall %.2f (%d drawn, %d correct, %d of %d found); unrelated pairs linked %d",
		tx.Chains.Window, tx.Chains.MinOutlets, all.precision(), all.recall(), all.found, all.correct, all.expected-all.missed, all.expected, all.unrelated)
	for k, what := range []string{"the reader's relevance", "the reader's relevance and sides"} {
		var o linkScore
		for _, w := range oracle[k] {
			o.add(scoreLinks(tx, w, exp, neg))
		}
		t.Logf("with %s in place of the classifier's: precision %.2f, recall %.2f (%d drawn, %d correct)", what, o.precision(), o.recall(), o.found, o.correct)
	}
	if all.precision() < 0.45 || all.recall() < 0.55 || all.unrelated > 0 {
		t.Errorf("chains: precision %.2f (want ≥ 0.45), recall %.2f (want ≥ 0.55), %d unrelated pairs linked (want 0)", all.precision(), all.recall(), all.unrelated)
	}

	// Left one window out: window and min_outlets chosen on four windows'
	// links, scored on the fifth's.
	type params struct {
		window  time.Duration
		outlets int
	}
	var grid []params
	for _, h := range []int{72, 96, 120, 168} {
		for _, o := range []int{1, 2, 3} {
			grid = append(grid, params{time.Duration(h) * time.Hour, o})
		}
	}
	with := func(p params) *events.Taxonomy {
		t2 := *tx
		t2.Chains.Window, t2.Chains.MinOutlets = p.window, p.outlets
		return &t2
	}
	var held linkScore
	for i, w := range cws {
		best, bestF := grid[0], -1.0
		for _, p := range grid {
			var s linkScore
			for j, o := range cws {
				if j != i {
					s.add(scoreLinks(with(p), o, exp, neg))
				}
			}
			if s.f1() > bestF {
				best, bestF = p, s.f1()
			}
		}
		s := scoreLinks(with(best), w, exp, neg)
		t.Logf("held out %s: window %s, min_outlets %d chosen on the others; precision %.2f recall %.2f", w.name, best.window, best.outlets, s.precision(), s.recall())
		held.add(s)
	}
	t.Logf("leave one window out: precision %.2f, recall %.2f (%d drawn, %d correct, %d of %d found)", held.precision(), held.recall(), held.found, held.correct, held.expected-held.missed, held.expected)
	if held.precision() < 0.35 || held.recall() < 0.45 {
		t.Errorf("leave one window out: precision %.2f (want ≥ 0.35), recall %.2f (want ≥ 0.45)", held.precision(), held.recall())
	}
}
