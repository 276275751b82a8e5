package events

import "strings"

// label says what a matched term means: a trigger of a type, a context, an
// anchor, a region, an exclusion, an off-topic marker or a magnitude unit.
type label struct {
	kind   labelKind
	id     string  // type, context, region or unit id
	weight float64 // triggers and regions
	needs  []string
}

type labelKind uint8

const (
	kindTrigger labelKind = iota
	kindContext
	kindAnchor
	kindRegion
	kindExclude
	kindOfftopic
	kindUnit
	kindLiveFire
	kindBackground
)

type phrase struct {
	toks   []string
	labels []label
}

// matcher finds every listed phrase in a token sequence. Phrases are indexed
// by their first token, so a scan costs one map look-up per token plus the
// few phrases that share that first token: linear in the text.
type matcher struct {
	first map[string][]*phrase
	byKey map[string]*phrase
}

func newMatcher() *matcher {
	return &matcher{first: map[string][]*phrase{}, byKey: map[string]*phrase{}}
}

// add registers term (tokenised like the texts) with a label.
func (m *matcher) add(term string, l label) bool {
	toks, _ := tokenize(term, nil, nil)
	if len(toks) == 0 {
		return false
	}
	norms := make([]string, len(toks))
	for i, t := range toks {
		norms[i] = t.norm
	}
	key := strings.Join(norms, "\x00")
	p := m.byKey[key]
	if p == nil {
		p = &phrase{toks: norms}
		m.byKey[key] = p
		m.first[norms[0]] = append(m.first[norms[0]], p)
	}
	for _, have := range p.labels {
		if have.kind == l.kind && have.id == l.id {
			return true // "suspend" and "suspends" fold to one phrase
		}
	}
	p.labels = append(p.labels, l)
	return true
}

type hit struct {
	p          *phrase
	start, end int // token indexes [start, end)
}

// scan returns every phrase occurrence in toks.
func (m *matcher) scan(toks []token, out []hit) []hit {
	for i := range toks {
		for _, p := range m.first[toks[i].norm] {
			if i+len(p.toks) > len(toks) {
				continue
			}
			ok := true
			for j := 1; j < len(p.toks); j++ {
				if toks[i+j].norm != p.toks[j] {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, hit{p: p, start: i, end: i + len(p.toks)})
			}
		}
	}
	return out
}
