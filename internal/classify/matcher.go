package classify

// label says what a matched term means.
type label struct {
	kind   labelKind
	idx    int     // index of the type, context, region or unit
	weight float64 // triggers and regions
	needs  uint64  // bit set of contexts, any of which must occur (0: none needed)
	// titleOnly labels count in the title only (signals).
	titleOnly bool
	// exact, if set, is the term as written ("=PLAN"): the label holds
	// only where the text has it with these capitals.
	exact string
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
	kindNamed
	kindCommentary
	kindSevere
	kindSignal
)

type phrase struct {
	ids    []int32
	labels []label
	kinds  uint32 // bit set of the labels' kinds
}

func (p *phrase) has(k labelKind) bool { return p.kinds&(1<<k) != 0 }

// matcher finds every listed phrase in a token sequence. Words are numbered
// once (the vocabulary) and phrases are indexed by their first word, so a
// scan costs one look-up per token plus a check of the few phrases that
// start with that word: linear in the text, with no allocation per word.
type matcher struct {
	vocab map[string]int32
	first [][]*phrase // by first word id
	byKey map[string]*phrase
	nums  map[int32]int32 // number words: id → value
	// maxLen is the number of words of the longest phrase.
	maxLen int
}

func newMatcher() *matcher {
	return &matcher{vocab: map[string]int32{}, byKey: map[string]*phrase{}, nums: map[int32]int32{}}
}

func (m *matcher) word(w string) int32 {
	id, ok := m.vocab[w]
	if !ok {
		id = int32(len(m.vocab))
		m.vocab[w] = id
		m.first = append(m.first, nil)
	}
	return id
}

// add registers term, split into words like the texts, with a label.
func (m *matcher) add(term string, l label) bool {
	var ids []int32
	words(term, nil, func(w []byte, _, _ int) { ids = append(ids, m.word(string(w))) })
	if len(ids) == 0 {
		return false
	}
	m.maxLen = max(m.maxLen, len(ids))
	key := string(int32Bytes(ids))
	p := m.byKey[key]
	if p == nil {
		p = &phrase{ids: ids}
		m.byKey[key] = p
		m.first[ids[0]] = append(m.first[ids[0]], p)
	}
	for _, have := range p.labels {
		if have.kind == l.kind && have.idx == l.idx && have.exact == l.exact {
			return true // "suspend" and "suspends" fold to one phrase
		}
	}
	p.labels = append(p.labels, l)
	p.kinds |= 1 << l.kind
	return true
}

func int32Bytes(ids []int32) []byte {
	b := make([]byte, 0, 4*len(ids))
	for _, id := range ids {
		b = append(b, byte(id), byte(id>>8), byte(id>>16), byte(id>>24))
	}
	return b
}

// tokenize splits s into tokens numbered by the vocabulary.
func (m *matcher) tokenize(s string, out []token, buf []byte) ([]token, []byte) {
	out = out[:0]
	buf = words(s, buf, func(w []byte, start, end int) {
		id, ok := m.vocab[string(w)]
		if !ok {
			id = -1
		}
		num := atoi(w)
		if n, ok := m.nums[id]; ok && id >= 0 {
			num = n
		}
		out = append(out, token{id: id, num: num, start: int32(start), end: int32(end)})
	})
	return out, buf
}

type hit struct {
	p          *phrase
	start, end int // token indexes [start, end)
}

// scan appends every phrase occurrence in toks to out. cost, if not nil,
// counts the phrase comparisons made (the linear-time test reads it).
func (m *matcher) scan(toks []token, out []hit, cost *int) []hit {
	for i := range toks {
		id := toks[i].id
		if id < 0 {
			continue
		}
		for _, p := range m.first[id] {
			if cost != nil {
				*cost++
			}
			if i+len(p.ids) > len(toks) {
				continue
			}
			ok := true
			for j := 1; j < len(p.ids); j++ {
				if toks[i+j].id != p.ids[j] {
					ok = false
					break
				}
			}
			if ok {
				out = append(out, hit{p: p, start: i, end: i + len(p.ids)})
			}
		}
	}
	return out
}
