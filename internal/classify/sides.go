package classify

import (
	"slices"
	"strings"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// sideRules finds who acted toward whom: the taxonomy's rules.sides are
// labels of the one matcher (kindSide), as are the names of places with a
// side's name in them (kindPlace), and rules.side_cues are the words next
// to a side's name that make it the act's target or its reporter. Cues are
// looked up by the tokens' hashes, so they cost nothing until a side is
// named.
type sideRules struct {
	ids                                                      []string // index → side id
	rule                                                     [2][]string
	targetBefore, targetAfter, reporterAfter, reporterBefore cueSet
	fillers, ofWords                                         cueSet
	speech                                                   map[string]bool
}

// Sides are looked for past a reporter's name this many words on: "Taiwan's
// defence ministry says".
const reporterReach = 3

func newSideRules(tx *events.Taxonomy) *sideRules {
	sr := &sideRules{speech: map[string]bool{}}
	for _, s := range tx.Sides {
		sr.ids = append(sr.ids, s.ID)
		sr.rule[0] = append(sr.rule[0], "actor:"+s.ID)
		sr.rule[1] = append(sr.rule[1], "target:"+s.ID)
	}
	cues := tx.Rules.SideCues
	sr.targetBefore = newCueSet(cues.TargetBefore)
	sr.targetAfter = newCueSet(cues.TargetAfter)
	sr.reporterAfter = newCueSet(cues.ReporterAfter)
	sr.reporterBefore = newCueSet(cues.ReporterBefore)
	sr.ofWords = newCueSet([]string{"of", "for", "about"})
	sr.fillers = newCueSet([]string{"the", "a", "an", "its", "their", "self-ruled", "democratic"})
	for _, ty := range cues.SpeechTypes {
		sr.speech[ty] = true
	}
	return sr
}

// cueSet holds word sequences by the hash of their first and of their last
// word.
type cueSet struct {
	byFirst, byLast map[uint64][][]uint64
}

func newCueSet(terms []string) cueSet {
	cs := cueSet{byFirst: map[uint64][][]uint64{}, byLast: map[uint64][][]uint64{}}
	for _, t := range terms {
		var seq []uint64
		words(t, nil, func(w []byte, _, _ int) { seq = append(seq, fnvBytes(fnvOffset, w)) })
		if len(seq) > 0 {
			cs.byFirst[seq[0]] = append(cs.byFirst[seq[0]], seq)
			cs.byLast[seq[len(seq)-1]] = append(cs.byLast[seq[len(seq)-1]], seq)
		}
	}
	return cs
}

func sameWords(c []uint64, toks []token) bool {
	for k, h := range c {
		if toks[k].hash != h {
			return false
		}
	}
	return true
}

// endsAt reports whether one of the cues ends at token i (inclusive).
func (cs cueSet) endsAt(toks []token, i int) bool {
	if i < 0 {
		return false
	}
	for _, c := range cs.byLast[toks[i].hash] {
		if i+1 >= len(c) && sameWords(c, toks[i+1-len(c):]) {
			return true
		}
	}
	return false
}

// startsAt reports whether one of the cues starts at token i.
func (cs cueSet) startsAt(toks []token, i int) bool {
	if i >= len(toks) {
		return false
	}
	for _, c := range cs.byFirst[toks[i].hash] {
		if i+len(c) <= len(toks) && sameWords(c, toks[i:]) {
			return true
		}
	}
	return false
}

// mention is a side named in a field, and the role its neighbours give it.
type mention struct {
	side                    int
	field                   int
	h                       hit
	target, reporter, owner bool
	// aside: named in a headline's kicker or closing credit ("Taiwan
	// tensions: ...", "... - Taiwan"): never the actor, even of speech.
	aside bool
}

// ownerReach is how many words after a side's name a trigger of the item's
// type makes the side the act's owner: "Chinese military drills", "North
// Korean missile", "US destroyer".
const ownerReach = 3

// mentions lists the sides named in field i in text order, a name inside
// a longer one of the same side ("Xi" in "Xi Jinping") once.
func (sr *sideRules) mentions(it *item, i int, ty int, out []mention) []mention {
	toks := it.s.toks[i]
	// The places with a side's name in them, and the triggers of the
	// item's type: few in any text.
	var placeBuf, trigBuf [8]hit
	places, trigs := placeBuf[:0], trigBuf[:0]
	for _, h := range it.s.hits[i] {
		if h.p.has(kindPlace) {
			places = append(places, h)
		}
		if ty >= 0 && h.p.has(kindTrigger) && hasTrigger(h, ty) {
			trigs = append(trigs, h)
		}
	}
	for _, h := range it.s.hits[i] {
		if !h.p.has(kindSide) {
			continue
		}
		side := -1
		for _, l := range h.p.labels {
			if l.kind == kindSide && it.matches(i, h, l) {
				side = l.idx
				break
			}
		}
		if side < 0 || slices.ContainsFunc(places, func(p hit) bool { return p.start <= h.start && h.end <= p.end }) {
			continue // not a side, or "China" in "South China Sea"
		}
		if n := len(out); n > 0 && out[n-1].field == i && out[n-1].h.end >= h.end {
			continue // inside the previous name
		}
		if n := len(out); n > 0 && out[n-1].field == i && out[n-1].h.start == h.start {
			out = out[:n-1] // a longer name at the same word
		}
		out = append(out, mention{side: side, field: i, h: h})
	}
	// A headline's kicker ("Taiwan tensions: China condemns ...") names
	// its topic, and a closing attribution ("... - Taiwan") its source. A
	// Chinese or Japanese headline's full-width colon follows its speaker
	// instead ("国台办：…", "國防部：…"): a reporter, who acts when
	// speaking is the act.
	kicker, speaker, credit := -1, -1, len(it.texts[i])
	if i == 0 {
		title := it.texts[0]
		if c := strings.Index(title, ":"); c > 0 && c < len(title)/2 {
			kicker = c
		}
		if c := strings.Index(title, "："); c > 0 && c < len(title)/2 {
			speaker = c
		}
		for _, dash := range []string{" - ", " – ", " — "} {
			if d := strings.LastIndex(title, dash); d > 0 && len(title)-d <= 30 {
				credit = min(credit, d)
			}
		}
	}
	after := 0 // mentions after the kicker
	for _, m := range out {
		if m.field == i && int(toks[m.h.start].start) > kicker {
			after++
		}
	}
	for k := range out {
		m := &out[k]
		if m.field != i {
			continue
		}
		h := m.h
		if at := int(toks[h.start].start); at > credit || kicker >= 0 && at < kicker && after > 0 {
			m.reporter, m.aside = true, true
			continue
		} else if at < speaker {
			m.reporter = true
			continue
		}
		before := h.start - 1
		if sr.fillers.endsAt(toks, before) {
			before--
		}
		m.target = sr.targetBefore.endsAt(toks, before) || sr.targetAfter.startsAt(toks, h.end)
		m.reporter = sr.reporterBefore.endsAt(toks, before)
		// A reporter's reach stops at the next side named: in "China says
		// Taiwan tracks ..." only Taiwan tracks.
		reach := min(len(toks), h.end+reporterReach)
		if k+1 < len(out) {
			reach = min(reach, out[k+1].h.start)
		}
		for j := h.end; j < reach && !m.reporter; j++ {
			m.reporter = sr.reporterAfter.startsAt(toks, j)
		}
		if i == 0 && h.start > it.background || sr.ofWords.endsAt(toks, before) {
			continue // the background ("after China's drills"), or "the final day of Taiwan drills"
		}
		m.owner = slices.ContainsFunc(trigs, func(t hit) bool { return t.start >= h.end && t.start < h.end+ownerReach })
	}
	// The sides of a joint act own it together: "US and South Korea
	// test-fire missiles".
	for k := len(out) - 2; k >= 0; k-- {
		if out[k].field == i && out[k+1].field == i && out[k+1].owner && out[k+1].h.start-out[k].h.end <= 1 && !out[k].target {
			out[k].owner = true
		}
	}
	return out
}

// find sets a relevant item's actor and target and adds their evidence.
// The actor is the first side the title names right before a trigger of
// the item's type ("Chinese military drills", "North Korean missile") that
// is neither a target nor a reporter; else the first side the title names
// that is neither a target
// ("drills around Taiwan") nor a reporter ("Taiwan says", "Japan tracks")
// unless speaking is the act (rules.side_cues.speech_types); else the
// first reporter. The target is the first other side named as a target,
// else the first other side named as a target (a partner: "Pelosi arrives
// in Taiwan", "Tsai meets McCarthy"), else the first reporter or other side
// of the opposite camp, else the first other side. With no side in the title the summary is read the same way;
// with an actor but no target in the title, the summary may give the
// target.
func (sr *sideRules) find(c *Rules, it *item, cls *events.Classification) {
	sc := it.s
	speech := sr.speech[cls.Type]
	ty := slices.Index(c.types, cls.Type)
	if speech {
		ty = -1 // a speaker's name comes before the words of the act anyway
	}
	ms := sr.mentions(it, 0, ty, sc.mentions[0][:0])
	actor := -1
	pick := func(ms []mention) {
		for k, m := range ms {
			if m.owner && !m.target && (speech || !m.reporter) {
				actor = k
				return
			}
		}
		for k, m := range ms {
			if !m.target && !m.aside && (speech || !m.reporter) {
				actor = k
				return
			}
		}
		for k, m := range ms {
			if m.reporter {
				actor = k
				return
			}
		}
	}
	pick(ms)
	if actor < 0 {
		ms = sr.mentions(it, 1, ty, ms[:0]) // the summary, into the same buffer
		pick(ms)
	}
	sc.mentions[0] = ms[:0] // keep the buffer, grown, for the next item
	if actor < 0 {
		return
	}
	a := ms[actor]
	for _, m := range ms {
		if m.side != a.side {
			it.counterpart = sr.ids[m.side]
			break
		}
	}
	t := sr.target(c.tx, ms, a.side)
	if t < 0 && a.field == 0 {
		ms2 := sr.mentions(it, 1, ty, sc.mentions[1][:0])
		sc.mentions[1] = ms2[:0]
		if t2 := sr.target(c.tx, ms2, a.side); t2 >= 0 {
			ms, t = ms2, t2
		}
	}
	cls.Actor = sr.ids[a.side]
	sr.evidence(it, cls, a, 0)
	if t >= 0 {
		cls.Target = sr.ids[ms[t].side]
		sr.evidence(it, cls, ms[t], 1)
	}
}

// target picks the target among ms for an actor side (-1 for none): the
// first other side named as a target of the other camp, else as a target,
// else the first reporter of the other camp, else the first side of the
// other camp, else the first other side.
func (sr *sideRules) target(tx *events.Taxonomy, ms []mention, actor int) int {
	for pass := range 5 {
		for k, m := range ms {
			if m.side == actor {
				continue
			}
			opposed := pass != 1 && pass != 4 && tx.Opposed(sr.ids[actor], sr.ids[m.side])
			switch {
			case pass == 0 && m.target && opposed, pass == 1 && m.target, pass == 2 && m.reporter && opposed,
				pass == 3 && opposed, pass == 4:
				return k
			}
		}
	}
	return -1
}

func (sr *sideRules) evidence(it *item, cls *events.Classification, m mention, role int) {
	t := it.s.toks[m.field]
	a, b := t[m.h.start].start, t[m.h.end-1].end
	ev := events.Evidence{Rule: sr.rule[role][m.side], Field: fieldNames[m.field], Match: it.texts[m.field][a:b], Start: int(a), End: int(b)}
	at, _ := slices.BinarySearchFunc(cls.Evidence, ev, func(x, y events.Evidence) int {
		if x.Field != y.Field {
			if x.Field == "title" {
				return -1
			}
			return 1
		}
		return x.Start - y.Start
	})
	for at < len(cls.Evidence) && cls.Evidence[at].Field == ev.Field && cls.Evidence[at].Start == ev.Start {
		at++
	}
	cls.Evidence = slices.Insert(cls.Evidence, at, ev)
}

// hasTrigger reports whether hit h is a trigger of type index ty.
func hasTrigger(h hit, ty int) bool {
	for _, l := range h.p.labels {
		if l.kind == kindTrigger && l.idx == ty {
			return true
		}
	}
	return false
}
