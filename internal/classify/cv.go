package classify

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sync"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Scores counts how a classifier did on one set of labelled examples.
type Scores struct {
	N, TP, FP, FN, TN      int
	TypeRight, RegionRight int
	TypeBoth               int // right type among the items both call relevant
	// PerType counts, per primary type, true positives, false positives
	// and false negatives; Support the labelled examples of each type.
	PerType map[string]*[3]int
	Support map[string]int
}

// Add scores one prediction against its label.
func (s *Scores) Add(gold Example, got events.Classification) {
	if s.PerType == nil {
		s.PerType, s.Support = map[string]*[3]int{}, map[string]int{}
	}
	pt := func(ty string) *[3]int {
		if s.PerType[ty] == nil {
			s.PerType[ty] = &[3]int{}
		}
		return s.PerType[ty]
	}
	s.N++
	switch {
	case got.Relevant && gold.Relevant:
		s.TP++
	case got.Relevant:
		s.FP++
	case gold.Relevant:
		s.FN++
	default:
		s.TN++
	}
	if !gold.Relevant {
		if got.Relevant {
			pt(got.Type)[1]++
		}
		return
	}
	s.Support[gold.Type]++
	if got.Relevant && got.Type == gold.Type {
		s.TypeRight++
		pt(gold.Type)[0]++
	} else {
		pt(gold.Type)[2]++
		if got.Relevant {
			pt(got.Type)[1]++
		}
	}
	if got.Relevant && got.Region == gold.Region {
		s.RegionRight++
	}
	if got.Relevant && got.Type == gold.Type {
		s.TypeBoth++
	}
}

func div(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Precision, Recall and F1 are of relevance.
func (s Scores) Precision() float64 { return div(s.TP, s.TP+s.FP) }
func (s Scores) Recall() float64    { return div(s.TP, s.TP+s.FN) }
func (s Scores) F1() float64 {
	p, r := s.Precision(), s.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// TypeAccuracy and RegionAccuracy are over the items both the labels and
// the classifier call relevant: relevance has its own figures.
func (s Scores) TypeAccuracy() float64   { return div(s.TypeBoth, s.TP) }
func (s Scores) RegionAccuracy() float64 { return div(s.RegionRight, s.TP) }

// MacroF1 averages the F1 of the primary type over the types with at least
// minSupport labelled examples, and returns how many types that is.
func (s Scores) MacroF1(minSupport int) (float64, int) {
	var sum float64
	n := 0
	for ty, c := range s.PerType {
		if s.Support[ty] < minSupport {
			continue
		}
		p, r := div(c[0], c[0]+c[1]), div(c[0], c[0]+c[2])
		if p+r > 0 {
			sum += 2 * p * r / (p + r)
		}
		n++
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

// The systems a cross-validation compares.
const (
	SystemRules    = "rules"
	SystemModel    = "model"
	SystemCombined = "combined"
)

// CVResult holds cross-validated scores by language and system.
type CVResult struct {
	K      int
	Groups int
	Scores map[string]map[string]*Scores // language → system → scores
	// BySet holds the same scores by labelled set (set → system → scores).
	BySet map[string]map[string]*Scores
}

// CrossValidate runs grouped k-fold cross-validation: for each fold, a
// model is trained on the other folds' examples and the fold is classified
// by the rules alone, the model alone (relevant at probability 0.5, its own
// type and region) and the two combined. Near-duplicate examples share a
// group (see Groups) and groups never straddle folds, so no figure comes
// from an item the model was trained on or from a copy of one.
func CrossValidate(tx *events.Taxonomy, rules *Rules, examples []Example, k int, cfg TrainConfig, comb Combine) (*CVResult, error) {
	return crossValidate(tx, rules, examples, k, cfg, comb, 1)
}

// CurvePoint is the cross-validation of models trained on a share of each
// fold's training groups.
type CurvePoint struct {
	Share float64
	*CVResult
}

// LearningCurve runs CrossValidate with each model trained on a share of
// its training groups (the same groups at every share, so that a smaller
// share's groups are among a larger one's), on the same folds: whether
// labelling more items of the same kind would still raise the figures.
func LearningCurve(tx *events.Taxonomy, rules *Rules, examples []Example, k int, shares []float64, cfg TrainConfig, comb Combine) ([]CurvePoint, error) {
	var pts []CurvePoint
	for _, sh := range shares {
		if sh <= 0 || sh > 1 {
			return nil, fmt.Errorf("classify: learning curve: share %v is not in (0, 1]", sh)
		}
		res, err := crossValidate(tx, rules, examples, k, cfg, comb, sh)
		if err != nil {
			return nil, err
		}
		pts = append(pts, CurvePoint{sh, res})
	}
	return pts, nil
}

// keepGroup reports whether group g is among a share of the groups: the
// same hash decides at every share.
func keepGroup(g int, seed uint64, share float64) bool {
	if share >= 1 {
		return true
	}
	h := splitmix(uint64(g) ^ seed*0x9e3779b97f4a7c15)
	return float64(h>>11)/(1<<53) < share
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func crossValidate(tx *events.Taxonomy, rules *Rules, examples []Example, k int, cfg TrainConfig, comb Combine, share float64) (*CVResult, error) {
	groups := Groups(examples)
	folds := Folds(examples, groups, k)
	res := &CVResult{K: k, Scores: map[string]map[string]*Scores{}, BySet: map[string]map[string]*Scores{}}
	distinct := map[int]bool{}
	for _, g := range groups {
		distinct[g] = true
	}
	res.Groups = len(distinct)
	add := func(by map[string]map[string]*Scores, key, system string, e Example, got events.Classification) {
		if by[key] == nil {
			by[key] = map[string]*Scores{}
		}
		if by[key][system] == nil {
			by[key][system] = &Scores{}
		}
		by[key][system].Add(e, got)
	}
	// Folds train in parallel; each classifies its own examples, and the
	// counts are added up afterwards in fold order.
	type outcome struct {
		e                     Example
		rules, model, combine events.Classification
	}
	outcomes := make([][]outcome, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for f := range k {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var train []Example
			for i, e := range examples {
				if folds[i] != f && keepGroup(groups[i], cfg.Seed, share) {
					train = append(train, e)
				}
			}
			m, err := Train(tx, train, cfg)
			if err != nil {
				errs[f] = err
				return
			}
			combined := New(rules, m, comb)
			for i, e := range examples {
				if folds[i] == f {
					outcomes[f] = append(outcomes[f], outcome{e, rules.Classify(e.Title, e.Summary),
						m.Classification(e.Title, e.Summary), combined.Classify(e.Title, e.Summary)})
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, os := range outcomes {
		for _, o := range os {
			for _, by := range []struct {
				m   map[string]map[string]*Scores
				key string
			}{{res.Scores, o.e.Lang}, {res.BySet, o.e.Set}} {
				add(by.m, by.key, SystemRules, o.e, o.rules)
				add(by.m, by.key, SystemModel, o.e, o.model)
				add(by.m, by.key, SystemCombined, o.e, o.combine)
			}
		}
	}
	return res, nil
}

// Classification is the model's decision alone: relevant at probability
// 0.5, with its own type and region.
func (m *Model) Classification(title, summary string) events.Classification {
	p, ti, ri := m.relevance(title, summary)
	if p < 0.5 {
		return events.Classification{}
	}
	return events.Classification{Relevant: true, Type: m.Meta.Types[ti], Region: m.Meta.Regions[ri], Confidence: p}
}

// WriteCurve writes a learning curve as a Markdown table: per share, the
// combined and (in parentheses) the model's relevance F1 and type
// macro-F1 in each language.
func WriteCurve(w io.Writer, pts []CurvePoint) {
	if len(pts) == 0 {
		return
	}
	langs := slices.Sorted(maps.Keys(pts[0].Scores))
	fmt.Fprint(w, "| share of training groups |")
	for _, l := range langs {
		fmt.Fprintf(w, " %s relevance F1 | %s type macro-F1 |", l, l)
	}
	fmt.Fprint(w, "\n|---|")
	for range langs {
		fmt.Fprint(w, "---|---|")
	}
	fmt.Fprintln(w)
	for _, p := range pts {
		fmt.Fprintf(w, "| %.2f |", p.Share)
		for _, l := range langs {
			c, m := p.Scores[l][SystemCombined], p.Scores[l][SystemModel]
			cm, _ := c.MacroF1(MinTypeSupport)
			mm, _ := m.MacroF1(MinTypeSupport)
			fmt.Fprintf(w, " %.3f (%.3f) | %.3f (%.3f) |", c.F1(), m.F1(), cm, mm)
		}
		fmt.Fprintln(w)
	}
}

// MinTypeSupport is the least number of labelled examples of a type for its
// F1 to count in the macro-F1 of a language.
const MinTypeSupport = 10

// WriteTable writes the result as a Markdown table, a row per language and
// system.
func (r *CVResult) WriteTable(w io.Writer) { writeTable(w, "language", r.Scores) }

// WriteSetTable writes the result as a Markdown table, a row per labelled
// set and system.
func (r *CVResult) WriteSetTable(w io.Writer) { writeTable(w, "set", r.BySet) }

func writeTable(w io.Writer, key string, by map[string]map[string]*Scores) {
	fmt.Fprintf(w, "| %s | system | items | relevant | relevance P | R | F1 | type macro-F1 (types ≥ %d) | type accuracy | region accuracy |\n", key, MinTypeSupport)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, l := range slices.Sorted(maps.Keys(by)) {
		for _, sys := range []string{SystemRules, SystemModel, SystemCombined} {
			s := by[l][sys]
			if s == nil {
				continue
			}
			mf, n := s.MacroF1(MinTypeSupport)
			name := sys
			if sys == SystemCombined {
				name = "**combined**"
			}
			fmt.Fprintf(w, "| %s | %s | %d | %d | %.3f | %.3f | %.3f | %.3f (%d) | %.3f | %.3f |\n", l, name, s.N, s.TP+s.FN,
				s.Precision(), s.Recall(), s.F1(), mf, n, s.TypeAccuracy(), s.RegionAccuracy())
		}
	}
}
