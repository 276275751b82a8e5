package classify

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Rules classifies items by the rules of a taxonomy. It compiles the
// rules once; Classify is safe for concurrent use.
type Rules struct {
	tx        *events.Taxonomy
	m         *matcher
	types     []string // index → type id, in priority order
	regions   []string // index → region id
	contexts  []string // index → context name
	signals   []string // index → signal name
	units     []string // index → unit
	defRegion int
	sides     *sideRules
	// destination holds rules.region_cues.destination_after.
	destination cueSet
	// precomputed evidence rule names
	typeRule, exclRule, regionRule, ctxRule, unitRule, signalRule []string
	pool                                                          sync.Pool
}

// Field weights and scoring constants.
const (
	titleWeight   = 3.0 // a match in the title says more than one in the summary
	summaryWeight = 1.0
	maxEvidence   = 40
	// backgroundDiscount weighs a title trigger after a background marker.
	backgroundDiscount = 0.6
	// placeCueDiscount weighs a place in a summary's background or a
	// move's destination (rules.region_cues).
	placeCueDiscount = 0.1
	// phraseBonus is added per extra word of a matched phrase: a longer
	// phrase is more specific.
	phraseBonus = 0.25
	// restWeight weighs a type's further matches after its best one.
	restWeight = 0.1
)

// NewRules compiles the taxonomy's rules into one multi-pattern matcher.
func NewRules(tx *events.Taxonomy) (*Rules, error) {
	r := tx.Rules
	c := &Rules{tx: tx, m: newMatcher()}
	// Types in priority order, so that a lower index wins a tie.
	c.types = append(c.types, r.Priority...)
	for _, ty := range tx.Types {
		if slices.Index(c.types, ty.ID) < 0 {
			c.types = append(c.types, ty.ID)
		}
	}
	for _, reg := range tx.Regions {
		c.regions = append(c.regions, reg.ID)
	}
	c.defRegion = max(0, slices.Index(c.regions, r.DefaultRegion))
	c.contexts = slices.Sorted(maps.Keys(r.Contexts))
	if len(c.contexts) > 64 {
		return nil, fmt.Errorf("events: rules: %d contexts; at most 64", len(c.contexts))
	}
	c.signals = slices.Sorted(maps.Keys(r.Signals))
	if len(c.signals) > 64 {
		return nil, fmt.Errorf("events: rules: %d signals; at most 64", len(c.signals))
	}
	for _, sg := range c.signals {
		c.signalRule = append(c.signalRule, "signal:"+sg)
	}
	c.units = []string{"aircraft", "ships", "missiles"}
	for _, ty := range c.types {
		c.typeRule = append(c.typeRule, "type:"+ty)
		c.exclRule = append(c.exclRule, "excluded:"+ty)
	}
	for _, reg := range c.regions {
		c.regionRule = append(c.regionRule, "region:"+reg)
	}
	for _, ctx := range c.contexts {
		c.ctxRule = append(c.ctxRule, "context:"+ctx)
	}
	for _, u := range c.units {
		c.unitRule = append(c.unitRule, "magnitude:"+u)
	}

	var bad []string
	add := func(term string, l label) {
		if exact, ok := strings.CutPrefix(term, "="); ok { // "=PLAN": only as written, not "plan"
			term, l.exact = exact, exact
		}
		if ko, ok := strings.CutPrefix(term, "ko:"); ok { // "ko:北": only in Korean text
			term, l.hangul = ko, true
		}
		if !c.m.add(term, l) {
			bad = append(bad, term)
		}
	}
	needs := func(names []string) uint64 {
		var b uint64
		for _, n := range names {
			if i := slices.Index(c.contexts, n); i >= 0 {
				b |= 1 << i
			}
		}
		return b
	}
	for i, name := range c.contexts {
		for _, t := range r.Contexts[name] {
			add(t, label{kind: kindContext, idx: i})
		}
	}
	for _, t := range r.Anchors {
		add(t, label{kind: kindAnchor})
	}
	for _, t := range r.Offtopic {
		add(t, label{kind: kindOfftopic})
	}
	for _, t := range r.Commentary {
		add(t, label{kind: kindCommentary})
	}
	for _, t := range r.Exclusions {
		add(t, label{kind: kindExclude})
	}
	for _, ty := range slices.Sorted(maps.Keys(r.Triggers)) {
		for _, g := range r.Triggers[ty] {
			for _, t := range g.Terms {
				add(t, label{kind: kindTrigger, idx: slices.Index(c.types, ty), weight: weightOr1(g.Weight), needs: needs(g.Needs)})
			}
		}
	}
	for _, reg := range slices.Sorted(maps.Keys(r.Regions)) {
		for _, g := range r.Regions[reg] {
			for _, t := range g.Terms {
				add(t, label{kind: kindRegion, idx: slices.Index(c.regions, reg), weight: weightOr1(g.Weight), needs: needs(g.Needs)})
			}
		}
	}
	for i, u := range c.units {
		for _, t := range r.Units[u] {
			add(t, label{kind: kindUnit, idx: i})
		}
	}
	for _, t := range r.LiveFire {
		add(t, label{kind: kindLiveFire})
	}
	for i, sv := range r.Severe {
		for _, t := range sv.Terms {
			add(t, label{kind: kindSevere, idx: i})
		}
	}
	for i, name := range c.signals {
		for _, g := range r.Signals[name] {
			for _, t := range g.Terms {
				add(t, label{kind: kindSignal, idx: i, weight: 1, needs: needs(g.Needs), titleOnly: g.TitleOnly})
			}
		}
	}
	c.sides = newSideRules(tx)
	for _, t := range r.SideCues.Places {
		add(t, label{kind: kindPlace})
	}
	for i, s := range tx.Sides {
		for _, g := range r.Sides[s.ID] {
			for _, t := range g.Terms {
				add(t, label{kind: kindSide, idx: i})
			}
		}
	}
	for _, t := range r.BackgroundMarkers {
		add(t, label{kind: kindBackground})
	}
	for _, t := range r.RegionCues.Background {
		add(t, label{kind: kindRegionBackground})
	}
	c.destination = newCueSet(r.RegionCues.DestinationAfter)
	for _, t := range r.NamedExercises {
		add(t, label{kind: kindNamed})
	}
	for w, v := range numberWords {
		if id, ok := c.m.vocab[w]; ok {
			c.m.nums[id] = v
		} else {
			c.m.nums[c.m.word(w)] = v
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("classify: rules: terms with no words: %q", bad)
	}
	c.m.freeze()
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
func (c *Rules) Taxonomy() *events.Taxonomy { return c.tx }

type scratch struct {
	toks [2][]token
	buf  []byte
	hits [2][]hit
	// per type and region
	best, rest []float64
	inTitle    []bool
	reg        []float64
	regFirst   []int
	ev         []events.Evidence
	cost       int
	// the sides named in the title and in the summary (sideRules)
	mentions [2][]mention
}

func (s *scratch) reset(types, regions int) {
	s.best = resize(s.best, types)
	s.rest = resize(s.rest, types)
	s.inTitle = resize(s.inTitle, types)
	s.reg = resize(s.reg, regions)
	s.regFirst = resize(s.regFirst, regions)
	for i := range s.regFirst {
		s.regFirst[i] = math.MaxInt
	}
	s.ev = s.ev[:0]
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	var zero T
	for i := range s {
		s[i] = zero
	}
	return s
}

// Classify classifies one item by its title and summary (plain text).
func (c *Rules) Classify(title, summary string) events.Classification {
	s := c.pool.Get().(*scratch)
	defer c.pool.Put(s)
	return c.classify(s, title, summary)
}

// item is one classification under way: the texts, their tokens and hits
// (in the scratch), and what the rules found in them.
type item struct {
	s     *scratch
	texts [2]string
	// What the item mentions (mentions).
	contexts                                   uint64 // bit set of the contexts it names
	anchors, anchorsTitle, offtopic, offtopicT int
	commentary                                 bool
	background                                 int // title token index of the first background marker
	sumBackground                              int // summary token index of the first background sentence
	// What the rules weighed (weigh).
	usedCtx, signals uint64
	mag              events.Magnitude
	anyType          bool
	excluded         int // triggers found only inside a non-military phrase ("fire drill")
	// korean is 1 when the item has Hangul in it, else -1 (tokenize).
	korean int8
	// counterpart is the first side named beside the actor (sideRules.find).
	counterpart string
}

var fieldNames = [2]string{"title", "summary"}
var fieldWeights = [2]float64{titleWeight, summaryWeight}

func (c *Rules) classify(s *scratch, title, summary string) events.Classification {
	cls, it := c.apply(&item{s: s, texts: [2]string{title, summary}})
	if cls.Relevant {
		c.finish(it, &cls)
	}
	return cls
}

// apply runs the rules' steps on an item and returns their classification
// and what they found (for the combination with the model).
func (c *Rules) apply(it *item) (events.Classification, *item) {
	c.tokenize(it)
	c.mentions(it)
	c.weigh(it)
	cls := events.Classification{Also: []string{}, Evidence: c.evidence(it), Magnitude: it.mag}
	if it.relevant() {
		c.decide(it, &cls)
	}
	return cls, it
}

// tokenize splits both fields into numbered words and finds every phrase
// of the rules in them.
func (c *Rules) tokenize(it *item) {
	s := it.s
	s.reset(len(c.types), len(c.regions))
	s.cost = 0
	korean := false
	for i, t := range it.texts {
		var h bool
		s.toks[i], s.buf, h = c.m.tokenize(t, s.toks[i], s.buf)
		korean = korean || h
	}
	it.korean = -1
	if korean {
		it.korean = 1
	}
	for i := range it.texts {
		s.hits[i] = c.m.scan(s.toks[i], s.hits[i][:0], &s.cost, korean)
	}
}

// matches reports whether label l of hit h in field i holds: a
// case-sensitive term ("=PLAN") matches only as written.
func (it *item) matches(i int, h hit, l label) bool {
	if l.hangul && !it.isKorean() {
		return false
	}
	if l.exact == "" {
		return true
	}
	t := it.s.toks[i]
	return strings.HasPrefix(it.texts[i][t[h.start].start:t[h.end-1].end], l.exact)
}

// quotedDiscount weighs a place named inside quotation marks in a title:
// quoted words are someone's comparison or claim ("China's missiles
// 'imitating North Korea' - Taiwan"), not where the news happens.
const quotedDiscount = 0.5

// farBearing is the distance from which a place named as a bearing ("790 km
// south of Miyako", 「宮古島の南約７９０ｋｍ」) is only the reference point of
// an act far out at sea, not its place.
const farBearing = 300

// farFrom reports whether the place of hit h is a far bearing's reference
// point: a bearing and a distance of at least farBearing kilometres right
// before it ("790 km south of Miyako") or, in CJK text, right after it
// (「宮古島の南約７９０ｋｍ」).
func farFrom(text string, toks []token, h hit) bool {
	const reach = 6
	lo, hi := max(0, h.start-reach), h.start
	if toks[h.start].cjk {
		lo, hi = h.end, min(len(toks), h.end+reach)
	}
	number := false // most places have no number near them: look no further
	for j := lo; j < hi && !number; j++ {
		c := text[toks[j].start]
		number = '0' <= c && c <= '9' || c == 0xEF && !toks[j].cjk // ASCII or full-width digits
	}
	if !number {
		return false
	}
	bearing := false
	if toks[h.start].cjk {
		for j := lo; j < hi; j++ {
			if !toks[j].cjk {
				return bearing && km(text, toks, j) >= farBearing
			}
			bearing = bearing || strings.ContainsAny(text[toks[j].start:toks[j].end], "北南東西")
		}
		return false
	}
	for j := hi - 1; j >= lo; j-- {
		switch w := text[toks[j].start:toks[j].end]; {
		case oneOf(w, bearings):
			bearing = true
		case oneOf(w, distanceWords):
		default:
			return bearing && km(text, toks, j) >= farBearing
		}
	}
	return false
}

var (
	bearings      = []string{"north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"}
	distanceWords = []string{"of", "km", "kilometres", "kilometers", "kilometre", "kilometer", "miles", "mile", "ｋｍ", "キ"}
	mileWords     = []string{"miles", "mile"}
)

// oneOf reports whether w is one of words, ignoring case.
func oneOf(w string, words []string) bool {
	for _, x := range words {
		if strings.EqualFold(w, x) {
			return true
		}
	}
	return false
}

// km returns the distance in kilometres that token j states ("790km", or
// "790" followed by "km", "kilometres", "キロ"; full-width digits count), or 0.
func km(text string, toks []token, j int) int {
	w := text[toks[j].start:toks[j].end]
	n, k, digits := 0, len(w), 0
	for at, r := range w {
		if r = halfWidth(r); r < '0' || r > '9' {
			k = at
			break
		}
		if digits++; digits > 6 {
			return 0
		}
		n = n*10 + int(r-'0')
	}
	if digits == 0 {
		return 0
	}
	unit := w[k:]
	if unit == "" && j+1 < len(toks) {
		unit = text[toks[j+1].start:toks[j+1].end]
	}
	switch {
	case oneOf(unit, mileWords):
		return n * 1609 / 1000
	case oneOf(unit, distanceWords[1:]):
		return n
	}
	return 0
}

// opensSentence reports whether byte offset at of text opens a sentence:
// only spaces since the text's start or a full stop.
func opensSentence(text string, at int) bool {
	before := strings.TrimRight(text[:at], " \t\n\u3000")
	return before == "" || strings.HasSuffix(before, "。") || strings.HasSuffix(before, ".")
}

// quoted reports whether byte offset at of s is inside quotation marks: an
// odd number of quotation marks before it. An apostrophe between two
// letters ("China's", "don't") is not one.
func quoted(s string, at int) bool {
	n := 0
	prevLetter := false
	for i, r := range s[:at] {
		switch r {
		case '"', '“', '”':
			n++
		case '\'', '‘', '’':
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if !(prevLetter && unicode.IsLetter(next)) {
				n++
			}
		}
		prevLetter = unicode.IsLetter(r)
	}
	return n%2 == 1
}

// isKorean reports whether the item has Hangul in its title or summary
// (found by tokenize).
func (it *item) isKorean() bool { return it.korean > 0 }

// mentions is the first pass: which contexts, East Asian actors and places,
// other theatres, commentary and background markers the item names.
func (c *Rules) mentions(it *item) {
	it.background = len(it.s.toks[0])
	it.sumBackground = len(it.s.toks[1])
	for i := range it.texts {
		for _, h := range it.s.hits[i] {
			var anchor, offtopic bool // a phrase counts once, however many labels it has
			for _, l := range h.p.labels {
				if !it.matches(i, h, l) {
					continue
				}
				switch l.kind {
				case kindContext:
					it.contexts |= 1 << l.idx
				case kindAnchor, kindRegion:
					anchor = true
				case kindOfftopic:
					offtopic = true
				case kindCommentary:
					it.commentary = it.commentary || i == 0
				case kindBackground:
					if i == 0 && h.start < it.background {
						it.background = h.start
					}
				case kindRegionBackground:
					if i == 1 && h.start < it.sumBackground && opensSentence(it.texts[1], int(it.s.toks[1][h.start].start)) {
						it.sumBackground = h.start
					}
				}
			}
			if anchor {
				it.anchors++
				if i == 0 {
					it.anchorsTitle++
				}
			}
			if offtopic {
				it.offtopic++
				if i == 0 {
					it.offtopicT++
				}
			}
		}
	}
}

// weigh is the second pass: it scores the types' triggers and the regions'
// terms, finds the signals and magnitudes, and records the evidence.
func (c *Rules) weigh(it *item) {
	s := it.s
	for i := range it.texts {
		hits := s.hits[i]
		for k, h := range hits {
			lenBonus := 1 + phraseBonus*float64(h.end-h.start-1)
			for _, l := range h.p.labels {
				if !it.matches(i, h, l) {
					continue
				}
				switch l.kind {
				case kindTrigger:
					if c.excluded(hits, k, &s.cost) {
						it.excluded++
						c.addEvidence(it, i, h, c.exclRule[l.idx])
						continue
					}
					if l.needs != 0 && it.contexts&l.needs == 0 {
						continue
					}
					it.usedCtx |= it.contexts & l.needs
					sc := fieldWeights[i] * l.weight * lenBonus
					if i == 0 && h.start > it.background {
						sc *= backgroundDiscount
					}
					if sc > s.best[l.idx] {
						s.rest[l.idx] += s.best[l.idx]
						s.best[l.idx] = sc
					} else {
						s.rest[l.idx] += sc
					}
					if i == 0 {
						s.inTitle[l.idx] = true
					}
					it.anyType = true
					c.addEvidence(it, i, h, c.typeRule[l.idx])
				case kindRegion:
					if l.needs != 0 && it.contexts&l.needs == 0 {
						continue
					}
					s.regFirst[l.idx] = min(s.regFirst[l.idx], i*1_000_000+h.start)
					sc := fieldWeights[i] * l.weight * lenBonus
					if i == 0 && quoted(it.texts[0], int(it.s.toks[0][h.start].start)) {
						sc *= quotedDiscount
					}
					if i == 1 && h.start > it.sumBackground || c.destination.startsAt(s.toks[i], h.end) ||
						farFrom(it.texts[i], s.toks[i], h) {
						sc *= placeCueDiscount
					}
					s.reg[l.idx] += sc
					c.addEvidence(it, i, h, c.regionRule[l.idx])
				case kindSignal:
					// A title's signal after a background marker is the
					// background ("drills after China's exercises"), not the news.
					if l.titleOnly && i != 0 || i == 0 && h.start > it.background ||
						l.needs != 0 && it.contexts&l.needs == 0 || c.excluded(hits, k, &s.cost) {
						continue
					}
					it.usedCtx |= it.contexts & l.needs
					if it.signals&(1<<l.idx) == 0 {
						it.signals |= 1 << l.idx
						c.addEvidence(it, i, h, c.signalRule[l.idx])
					}
				case kindAnchor:
					c.addEvidence(it, i, h, "anchor")
				case kindOfftopic:
					c.addEvidence(it, i, h, "offtopic")
				case kindCommentary:
					if i == 0 {
						c.addEvidence(it, i, h, "commentary")
					}
				case kindLiveFire:
					it.mag.LiveFire = true
					c.addEvidence(it, i, h, "magnitude:live_fire")
				case kindNamed:
					t := s.toks[i]
					if name := it.texts[i][t[h.start].start:t[h.end-1].end]; len(name) > len(it.mag.Exercise) {
						it.mag.Exercise = name // the longest: "Strait Thunder-2025A" over "Strait Thunder"
					}
					c.addEvidence(it, i, h, "magnitude:exercise")
				}
			}
		}
		c.magnitudes(s.toks[i], hits, &it.mag, func(h hit, unit int) { c.addEvidence(it, i, h, c.unitRule[unit]) })
	}
}

func (c *Rules) addEvidence(it *item, i int, h hit, rule string) {
	s := it.s
	if len(s.ev) >= maxEvidence {
		return
	}
	t := s.toks[i]
	a, b := t[h.start].start, t[h.end-1].end
	s.ev = append(s.ev, events.Evidence{Rule: rule, Field: fieldNames[i], Match: it.texts[i][a:b], Start: int(a), End: int(b)})
}

// evidence adds the contexts that a trigger or signal relied on and returns
// a copy of the evidence, title first, in text order.
func (c *Rules) evidence(it *item) []events.Evidence {
	if it.usedCtx != 0 {
		for i := range it.texts {
			for _, h := range it.s.hits[i] {
				for _, l := range h.p.labels {
					if l.kind == kindContext && it.usedCtx&(1<<l.idx) != 0 && it.matches(i, h, l) {
						c.addEvidence(it, i, h, c.ctxRule[l.idx])
					}
				}
			}
		}
	}
	extra := 0
	if it.relevant() {
		extra = 2 // room for the actor and the target (sideRules.find)
	}
	var ev []events.Evidence
	if len(it.s.ev)+extra > 0 {
		ev = append(make([]events.Evidence, 0, len(it.s.ev)+extra), it.s.ev...)
	}
	slices.SortStableFunc(ev, func(a, b events.Evidence) int {
		if a.Field != b.Field {
			if a.Field == "title" {
				return -1
			}
			return 1
		}
		return a.Start - b.Start
	})
	return ev
}

// relevant applies the rules' relevance test: a trigger; an East Asian actor
// or place; not a title about another theatre (as many of its names as East
// Asian ones), nor a text about another theatre with no East Asian name in
// its title; not commentary.
func (it *item) relevant() bool {
	return it.anyType && it.anchors > 0 && !it.commentary && it.vetoed() == ""
}

// vetoed names the rule that says an item is not East Asian security news
// whatever its words: another theatre, or commentary ("" if none).
func (it *item) vetoed() string {
	switch {
	case it.commentary:
		return "commentary"
	case it.offtopicT > 0 && it.offtopicT >= it.anchorsTitle, it.anchorsTitle == 0 && it.offtopic > 0:
		return "offtopic"
	}
	return ""
}

// decide fills a relevant item's type (the best-scoring, ties by priority),
// the others found, its region and confidence; finish, once the region is
// final, the rest.
func (c *Rules) decide(it *item, cls *events.Classification) {
	s := it.s
	score := func(t int) float64 { return s.best[t] + restWeight*s.rest[t] }
	order := make([]int, 0, 4)
	for t := range c.types {
		if s.best[t] > 0 {
			order = append(order, t)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return score(order[a]) > score(order[b]) })
	primary := order[0]
	cls.Relevant = true
	cls.Type = c.types[primary]
	for _, t := range order[1:] {
		cls.Also = append(cls.Also, c.types[t])
	}
	region := c.region(s)
	cls.Region = c.regions[region]
	conf := 0.4
	if s.inTitle[primary] {
		conf += 0.25
	}
	if it.anchorsTitle > 0 {
		conf += 0.1
	}
	if region != c.defRegion {
		conf += 0.1
	}
	if len(order) == 1 || score(order[0]) >= 1.5*score(order[1]) {
		conf += 0.1
	}
	cls.Confidence = math.Round(math.Min(conf, 0.95)*100) / 100
}

// finish sets what follows from a relevant item's type and region: its
// section, severity, signals and incident class.
func (c *Rules) finish(it *item, cls *events.Classification) {
	c.sides.find(c, it, cls)
	if to, ok := c.tx.Rules.OneCamp[cls.Type]; ok && c.tx.Partners(cls.Actor, it.counterpart) {
		cls.Also = slices.DeleteFunc(cls.Also, func(t string) bool { return t == to })
		cls.Also = append([]string{cls.Type}, cls.Also...)
		cls.Type = to
	}
	cls.Section = c.tx.TypeByID(cls.Type).Section
	cls.Severe = c.severe(it.s, *cls)
	cls.Signals = c.signalNames(it.signals)
	cls.Class, _ = c.tx.Level(*cls)
}

// region returns the best-scoring region (ties: the first named), or the
// default region when none is named.
func (c *Rules) region(s *scratch) int {
	region, best := c.defRegion, 0.0
	for r, sc := range s.reg {
		if sc > best || sc == best && sc > 0 && s.regFirst[r] < s.regFirst[region] {
			best, region = sc, r
		}
	}
	return region
}

func (c *Rules) signalNames(bits uint64) []string {
	var out []string
	for i, name := range c.signals { // sorted by name
		if bits&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// severe reports whether a relevant classification matches a severe rule.
func (c *Rules) severe(s *scratch, cls events.Classification) bool {
	for i := range s.hits {
		for _, h := range s.hits[i] {
			if !h.p.has(kindSevere) {
				continue
			}
			for _, l := range h.p.labels {
				if l.kind != kindSevere {
					continue
				}
				sv := c.tx.Rules.Severe[l.idx]
				if (len(sv.Types) == 0 || slices.Index(sv.Types, cls.Type) >= 0) && (len(sv.Regions) == 0 || slices.Index(sv.Regions, cls.Region) >= 0) {
					return true
				}
			}
		}
	}
	return false
}

// excluded reports whether hits[k] lies inside an exclusion phrase that is
// not itself part of a longer trigger ("fire drill" inside "live-fire drill").
// Hits are in order of their start, and no phrase is longer than maxLen
// words, so only the hits starting within maxLen words before it can cover
// it: the check is bounded, whatever the length of the text.
func (c *Rules) excluded(hits []hit, k int, cost *int) bool {
	h := hits[k]
	for _, x := range window(hits, k, c.m.maxLen) {
		*cost++
		if x.start > h.start || x.end < h.end || !x.p.has(kindExclude) {
			continue
		}
		void := false
		for _, y := range window(hits, k, c.m.maxLen) {
			*cost++
			if y.start <= x.start && y.end >= x.end && y.end-y.start > x.end-x.start && y.p.has(kindTrigger) {
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

// window returns the hits whose start is within maxLen words of hits[k]'s.
func window(hits []hit, k, maxLen int) []hit {
	lo, hi := k, k
	for lo > 0 && hits[lo-1].start >= hits[k].start-maxLen {
		lo--
	}
	for hi+1 < len(hits) && hits[hi+1].start <= hits[k].start+maxLen {
		hi++
	}
	return hits[lo : hi+1]
}

var numberWords = map[string]int32{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
	"eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "dozen": 12, "dozens": 24,
	"hundred": 100, "hundreds": 200, "several": 3,
	"一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
}

// magnitudes finds counts: a number followed within three words by a unit
// ("71 aircraft", "dozens of warplanes", "30架", "艦艇5隻", "미사일 2발").
func (c *Rules) magnitudes(toks []token, hits []hit, m *events.Magnitude, ev func(hit, int)) {
	for _, h := range hits {
		if !h.p.has(kindUnit) {
			continue
		}
		// the nearest number in the three words before the unit
		for j := h.start - 1; j >= 0 && j >= h.start-3; j-- {
			n := toks[j].num
			if n <= 0 {
				continue
			}
			for _, l := range h.p.labels {
				if l.kind != kindUnit {
					continue
				}
				switch c.units[l.idx] {
				case "aircraft":
					m.Aircraft = max(m.Aircraft, int(n))
				case "ships":
					m.Ships = max(m.Ships, int(n))
				case "missiles":
					m.Missiles = max(m.Missiles, int(n))
				}
				ev(hit{p: h.p, start: j, end: h.end}, l.idx)
			}
			break
		}
	}
}
