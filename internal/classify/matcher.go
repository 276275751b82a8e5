package classify

import "unicode/utf8"

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
	// hangul labels ("ko:北") hold only in an item written in Korean (with
	// Hangul in it): Korean headlines abbreviate North Korea as 北, which
	// in Chinese or Japanese text is only "north".
	hangul bool
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
	kindSide
	kindPlace
	kindRegionBackground
)

type phrase struct {
	ids    []int32
	labels []label
	kinds  uint32 // bit set of the labels' kinds
	// hangulOnly: every label holds only in Korean text ("ko:中"), so in
	// other text the phrase is not even a hit (中 is in most Chinese items).
	hangulOnly bool
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
	nums  map[int32]int32 // number words: id → value (while compiling)
	// num is nums by id, filled by freeze: one index instead of a map
	// look-up per word.
	num []int32
	// cjkID maps the characters of the common CJK blocks to their vocabulary
	// id (-1: none), filled by freeze: CJK text is a token per character,
	// and an array index is much cheaper than hashing each one.
	cjkID []int32
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

// freeze builds the look-up tables once every term and number word is in.
func (m *matcher) freeze() {
	m.num = make([]int32, len(m.vocab))
	for id, v := range m.nums {
		m.num[id] = v
	}
	m.cjkID = make([]int32, cjkHi-cjkLo+1)
	for i := range m.cjkID {
		m.cjkID[i] = -1
	}
	for w, id := range m.vocab {
		if r, size := utf8.DecodeRuneInString(w); size == len(w) && cjkLo <= r && r <= cjkHi {
			m.cjkID[r-cjkLo] = id
		}
	}
}

// The range of characters cjkID covers: kana to the Hangul syllables.
const cjkLo, cjkHi = 0x3000, 0xD7A3

// lookup returns a word's vocabulary id, -1 if no rule uses it.
func (m *matcher) lookup(w []byte) int32 {
	if len(w) == 3 && w[0] >= 0xE3 && m.cjkID != nil {
		if r, _ := utf8.DecodeRune(w); cjkLo <= r && r <= cjkHi {
			return m.cjkID[r-cjkLo]
		}
	}
	if id, ok := m.vocab[string(w)]; ok {
		return id
	}
	return -1
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
		if have.kind == l.kind && have.idx == l.idx && have.exact == l.exact && have.hangul == l.hangul {
			return true // "suspend" and "suspends" fold to one phrase
		}
	}
	p.hangulOnly = l.hangul && (len(p.labels) == 0 || p.hangulOnly)
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

// tokenize splits s into tokens numbered by the vocabulary, and says
// whether s has Hangul in it.
func (m *matcher) tokenize(s string, out []token, buf []byte) ([]token, []byte, bool) {
	out = out[:0]
	hangul := false
	for i := 0; ; {
		w, nb, start, end, r := nextWord(s, i, buf)
		if buf = nb; w == nil {
			return out, buf, hangul
		}
		i = end
		t := token{id: -1, num: -1, start: int32(start), end: int32(end), hash: fnvBytes(fnvOffset, w)}
		if r != 0 { // one CJK character
			t.cjk = true
			hangul = hangul || 0xAC00 <= r && r <= 0xD7A3 || 0x3131 <= r && r <= 0x318E
			if cjkLo <= r && r <= cjkHi && m.cjkID != nil {
				t.id = m.cjkID[r-cjkLo]
			} else {
				t.id = m.lookup(w)
			}
			out = append(out, t)
			continue
		}
		t.id = m.lookup(w)
		if '0' <= w[0] && w[0] <= '9' {
			t.num = atoi(w)
		}
		if t.id >= 0 && int(t.id) < len(m.num) && m.num[t.id] != 0 {
			t.num = m.num[t.id]
		}
		out = append(out, t)
	}
}

type hit struct {
	p          *phrase
	start, end int // token indexes [start, end)
}

// scan appends every phrase occurrence in toks to out; phrases that hold
// only in Korean text only when korean. cost, if not nil, counts the
// phrase comparisons made (the linear-time test reads it).
func (m *matcher) scan(toks []token, out []hit, cost *int, korean bool) []hit {
	for i := range toks {
		id := toks[i].id
		if id < 0 {
			continue
		}
		for _, p := range m.first[id] {
			if cost != nil {
				*cost++
			}
			if p.hangulOnly && !korean {
				continue
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
