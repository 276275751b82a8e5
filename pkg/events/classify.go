package events

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
)

// Classifier classifies items by the rules of a taxonomy. It compiles the
// rules once; Classify is safe for concurrent use.
type Classifier struct {
	tx       *Taxonomy
	m        *matcher
	priority map[string]int
	pool     sync.Pool
}

// Field weights: a match in the title says more than one in the summary.
const (
	titleWeight   = 3.0
	summaryWeight = 1.0
	maxEvidence   = 40
	// backgroundDiscount weighs a title trigger after a background marker.
	backgroundDiscount = 0.6
	// phraseBonus is added per extra word of a matched phrase: a longer
	// phrase is more specific.
	phraseBonus = 0.25
	// restWeight weighs a type's further matches after its best one.
	restWeight = 0.1
)

// NewClassifier compiles the taxonomy's rules into one multi-pattern matcher.
func NewClassifier(tx *Taxonomy) (*Classifier, error) {
	r := tx.Rules
	m := newMatcher()
	var bad []string
	add := func(term string, l label) {
		if !m.add(term, l) {
			bad = append(bad, term)
		}
	}
	for name, terms := range r.Contexts {
		for _, t := range terms {
			add(t, label{kind: kindContext, id: name})
		}
	}
	for _, t := range r.Anchors {
		add(t, label{kind: kindAnchor})
	}
	for _, t := range r.Offtopic {
		add(t, label{kind: kindOfftopic})
	}
	for _, t := range r.Exclusions {
		add(t, label{kind: kindExclude})
	}
	for ty, groups := range r.Triggers {
		for _, g := range groups {
			for _, t := range g.Terms {
				add(t, label{kind: kindTrigger, id: ty, weight: weightOr1(g.Weight), needs: g.Needs})
			}
		}
	}
	for reg, groups := range r.Regions {
		for _, g := range groups {
			for _, t := range g.Terms {
				add(t, label{kind: kindRegion, id: reg, weight: weightOr1(g.Weight), needs: g.Needs})
			}
		}
	}
	for unit, terms := range r.Units {
		for _, t := range terms {
			add(t, label{kind: kindUnit, id: unit})
		}
	}
	for _, t := range r.BackgroundMarkers {
		add(t, label{kind: kindBackground})
	}
	for _, t := range r.LiveFire {
		add(t, label{kind: kindLiveFire})
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("events: rules: terms with no words: %q", bad)
	}
	c := &Classifier{tx: tx, m: m, priority: map[string]int{}}
	for i, ty := range r.Priority {
		c.priority[ty] = i
	}
	c.pool.New = func() any { return &scratch{} }
	return c, nil
}

func weightOr1(w float64) float64 {
	if w == 0 {
		return 1
	}
	return w
}

// Taxonomy returns the taxonomy the classifier was built from.
func (c *Classifier) Taxonomy() *Taxonomy { return c.tx }

type scratch struct {
	toks [2][]token
	buf  [2][]byte
	hits [2][]hit
}

type fieldText struct {
	name   string
	text   string
	weight float64
}

// Classify classifies one item by its title and summary (plain text).
func (c *Classifier) Classify(title, summary string) Classification {
	s := c.pool.Get().(*scratch)
	defer c.pool.Put(s)
	fields := [2]fieldText{{"title", title, titleWeight}, {"summary", summary, summaryWeight}}
	for i, f := range fields {
		s.toks[i], s.buf[i] = tokenize(f.text, s.toks[i], s.buf[i])
		s.hits[i] = c.m.scan(s.toks[i], s.hits[i][:0])
	}

	// Pass 1: what the item mentions.
	contexts := map[string]bool{}
	var anchors, anchorsTitle, offtopicTitle int
	for i := range fields {
		for _, h := range s.hits[i] {
			anchor, offtopic := false, false
			for _, l := range h.p.labels {
				switch l.kind {
				case kindContext:
					contexts[l.id] = true
				case kindAnchor, kindRegion:
					anchor = true
				case kindOfftopic:
					offtopic = true
				}
			}
			if anchor {
				anchors++
				if i == 0 {
					anchorsTitle++
				}
			}
			if offtopic && i == 0 {
				offtopicTitle++
			}
		}
	}
	needsMet := func(needs []string) bool {
		if len(needs) == 0 {
			return true
		}
		for _, n := range needs {
			if contexts[n] {
				return true
			}
		}
		return false
	}

	// Pass 2: score types and regions; collect evidence.
	var (
		ev        []Evidence
		typeBest  = map[string]float64{}
		typeRest  = map[string]float64{}
		typeTitle = map[string]bool{}
		regScore  = map[string]float64{}
		regFirst  = map[string]int{}
		usedCtx   = map[string]bool{}
		mag       Magnitude
	)
	addEv := func(i int, h hit, rule string) {
		if len(ev) >= maxEvidence {
			return
		}
		t := s.toks[i]
		a, b := t[h.start].start, t[h.end-1].end
		ev = append(ev, Evidence{Rule: rule, Field: fields[i].name, Match: fields[i].text[a:b], Start: a, End: b})
	}
	background := len(s.toks[0]) // title token index of the first background marker
	for _, h := range s.hits[0] {
		for _, l := range h.p.labels {
			if l.kind == kindBackground && h.start < background {
				background = h.start
			}
		}
	}
	for i, f := range fields {
		hits := s.hits[i]
		for _, h := range hits {
			lenBonus := 1 + phraseBonus*float64(h.end-h.start-1)
			for _, l := range h.p.labels {
				switch l.kind {
				case kindTrigger:
					if excluded(hits, h) {
						addEv(i, h, "excluded:"+l.id)
						continue
					}
					if !needsMet(l.needs) {
						continue
					}
					for _, n := range l.needs {
						if contexts[n] {
							usedCtx[n] = true
						}
					}
					sc := f.weight * l.weight * lenBonus
					if i == 0 && h.start > background {
						sc *= backgroundDiscount
					}
					if sc > typeBest[l.id] {
						typeRest[l.id] += typeBest[l.id]
						typeBest[l.id] = sc
					} else {
						typeRest[l.id] += sc
					}
					if i == 0 {
						typeTitle[l.id] = true
					}
					addEv(i, h, "type:"+l.id)
				case kindRegion:
					if !needsMet(l.needs) {
						continue
					}
					pos := i*1_000_000 + h.start
					if _, ok := regFirst[l.id]; !ok || pos < regFirst[l.id] {
						regFirst[l.id] = pos
					}
					regScore[l.id] += f.weight * l.weight * lenBonus
					addEv(i, h, "region:"+l.id)
				case kindAnchor:
					addEv(i, h, "anchor")
				case kindOfftopic:
					addEv(i, h, "offtopic")
				case kindLiveFire:
					mag.LiveFire = true
					addEv(i, h, "magnitude:live_fire")
				}
			}
		}
		c.magnitudes(s.toks[i], hits, &mag, func(h hit, unit string) { addEv(i, h, "magnitude:"+unit) })
	}
	for i := range fields {
		for _, h := range s.hits[i] {
			for _, l := range h.p.labels {
				if l.kind == kindContext && usedCtx[l.id] {
					addEv(i, h, "context:"+l.id)
				}
			}
		}
	}
	sort.SliceStable(ev, func(a, b int) bool {
		if ev[a].Field != ev[b].Field {
			return ev[a].Field == "title"
		}
		return ev[a].Start < ev[b].Start
	})

	cls := Classification{Also: []string{}, Evidence: ev, Magnitude: mag}
	if ev == nil {
		cls.Evidence = []Evidence{}
	}
	if len(typeBest) == 0 || anchors == 0 || offtopicTitle > 0 && offtopicTitle >= anchorsTitle {
		return cls
	}
	types := make([]string, 0, len(typeBest))
	for ty := range typeBest {
		types = append(types, ty)
	}
	score := func(ty string) float64 { return typeBest[ty] + restWeight*typeRest[ty] }
	sort.Slice(types, func(a, b int) bool {
		sa, sb := score(types[a]), score(types[b])
		if sa != sb {
			return sa > sb
		}
		return c.priority[types[a]] < c.priority[types[b]]
	})
	cls.Relevant = true
	cls.Type = types[0]
	cls.Also = append(cls.Also, types[1:]...)
	cls.Section = c.tx.TypeByID(cls.Type).Section
	cls.Region = c.tx.Rules.DefaultRegion
	best := 0.0
	for reg, sc := range regScore {
		if sc > best || sc == best && regFirst[reg] < regFirst[cls.Region] {
			best, cls.Region = sc, reg
		}
	}
	conf := 0.4
	if typeTitle[cls.Type] {
		conf += 0.25
	}
	if anchorsTitle > 0 {
		conf += 0.1
	}
	if cls.Region != c.tx.Rules.DefaultRegion {
		conf += 0.1
	}
	if len(types) == 1 || score(types[0]) >= 1.5*score(types[1]) {
		conf += 0.1
	}
	cls.Confidence = math.Round(math.Min(conf, 0.95)*100) / 100
	return cls
}

// excluded reports whether h lies inside an exclusion phrase that is not
// itself part of a longer trigger ("fire drill" inside "live-fire drill").
func excluded(hits []hit, h hit) bool {
	for _, x := range hits {
		if x.start > h.start || x.end < h.end || !hasKind(x, kindExclude) {
			continue
		}
		void := false
		for _, y := range hits {
			if y.start <= x.start && y.end >= x.end && y.end-y.start > x.end-x.start && hasKind(y, kindTrigger) {
				void = true
				break
			}
		}
		if !void {
			return true
		}
	}
	return false
}

func hasKind(h hit, k labelKind) bool {
	for _, l := range h.p.labels {
		if l.kind == k {
			return true
		}
	}
	return false
}

var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
	"eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "dozen": 12, "dozens": 24,
	"hundred": 100, "hundreds": 200, "several": 3,
	"一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
}

// magnitudes finds counts: a number followed within three words by a unit
// ("71 aircraft", "dozens of warplanes", "30架", "艦艇5隻", "미사일 2발").
func (c *Classifier) magnitudes(toks []token, hits []hit, m *Magnitude, ev func(hit, string)) {
	if len(toks) == 0 {
		return
	}
	var unitAt map[int]hit
	for _, h := range hits {
		for _, l := range h.p.labels {
			if l.kind == kindUnit {
				if unitAt == nil {
					unitAt = map[int]hit{}
				}
				unitAt[h.start] = h
			}
		}
	}
	if unitAt == nil {
		return
	}
	for i, t := range toks {
		n, ok := numberWords[t.norm]
		if !ok {
			v, err := strconv.Atoi(t.norm)
			if err != nil || v <= 0 || v > 100000 {
				continue
			}
			n = v
		}
		for j := i + 1; j <= i+3 && j < len(toks); j++ {
			h, ok := unitAt[j]
			if !ok {
				continue
			}
			for _, l := range h.p.labels {
				if l.kind != kindUnit {
					continue
				}
				switch l.id {
				case "aircraft":
					m.Aircraft = max(m.Aircraft, n)
				case "ships":
					m.Ships = max(m.Ships, n)
				case "missiles":
					m.Missiles = max(m.Missiles, n)
				}
				ev(hit{p: h.p, start: i, end: h.end}, l.id)
			}
			break
		}
	}
}
