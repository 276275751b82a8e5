package classify

import (
	"unicode"
	"unicode/utf8"
)

// token is one word of a text: its vocabulary id (-1 for a word no rule
// uses), its value if it is a number, and its byte span in the text.
type token struct {
	id         int32
	num        int32
	start, end int32
	hash       uint64 // FNV-1a of the normalised word, for the model's features
	cjk        bool
}

// isCJK reports whether r is written without spaces between words (Han,
// kana, Hangul): each such character is a token of its own, so that a
// multi-character term is a phrase of single-character tokens and matches
// inside running text.
func isCJK(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case 0x4E00 <= r && r <= 0x9FFF, 0xAC00 <= r && r <= 0xD7A3, 0x3041 <= r && r <= 0x30FF:
		return true // the common blocks: CJK ideographs, Hangul syllables, kana (with ー)
	case 0xFF00 <= r && r <= 0xFF65:
		return false // full-width Latin, digits and punctuation (「，」「：」「（」)
	case 0x3000 <= r && r <= 0x303F: // CJK punctuation (「。」「、」「」」), but for these Han and Hangul signs
		return r == 0x3005 || r == 0x3007 || 0x3021 <= r && r <= 0x3029 || 0x3038 <= r && r <= 0x303B || r == 0x302E || r == 0x302F
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) || r == 'ー'
}

// wordIsCJK reports whether a word from words is a CJK character.
func wordIsCJK(w []byte) bool {
	if len(w) == 0 || w[0] < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeRune(w)
	return isCJK(r)
}

// words calls fn with each normalised word of s and its byte span. Letters
// and digits form words, lower-cased, with an English possessive and plural
// folded ("China's" → "china", "drills" → "drill"); an apostrophe inside a
// word keeps it together; a CJK character is a word of its own; everything
// else separates. One pass, linear in len(s). The word bytes are only valid
// during the call.
func words(s string, buf []byte, fn func(w []byte, start, end int)) []byte {
	for i := 0; ; {
		var w []byte
		var start, end int
		if w, buf, start, end, _ = nextWord(s, i, buf); w == nil {
			return buf
		}
		fn(w, start, end)
		i = end
	}
}

// nextWord finds the first word of s at or after byte i (see words): its
// normalised bytes (in buf, valid until the next call), its byte span, and,
// when it is one CJK character, that character (else 0). w is nil when
// there is none.
func nextWord(s string, i int, buf []byte) (w, newBuf []byte, start, end int, cjk rune) {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII fast path
			if !isASCIIWord(c) {
				i++
				continue
			}
			start := i
			buf = buf[:0]
			for i < len(s) {
				c = s[i]
				if c >= utf8.RuneSelf {
					r, _ := utf8.DecodeRuneInString(s[i:])
					if r == '’' && i+3 < len(s) && isASCIILetter(s[i+3]) {
						buf = append(buf, '\'')
						i += 3
						continue
					}
					break // a non-ASCII character ends the word (a letter of one starts the next)
				}
				if isASCIIWord(c) {
					if 'A' <= c && c <= 'Z' {
						c += 'a' - 'A'
					}
					buf = append(buf, c)
					i++
					continue
				}
				if c == '\'' && i+1 < len(s) && isASCIILetter(s[i+1]) {
					buf = append(buf, '\'')
					i++
					continue
				}
				break
			}
			return stem(buf), buf, start, i, 0
		}
		r, size := decodeRune(s[i:])
		switch {
		case isCJK(r):
			buf = append(buf[:0], s[i:i+size]...) // no allocation per character
			return buf, buf, i, i + size, r
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			start := i
			buf = buf[:0]
			for i < len(s) {
				r, size = utf8.DecodeRuneInString(s[i:])
				if (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) && !isCJK(r) {
					buf = utf8.AppendRune(buf, unicode.ToLower(halfWidth(r)))
					i += size
					continue
				}
				break
			}
			return stem(buf), buf, start, i, 0
		default:
			i += size
		}
	}
	return nil, buf, len(s), len(s), 0
}

// halfWidth folds a full-width Latin letter or digit, as Japanese and
// Chinese text writes them ("計３隻", "約７９０ｋｍ"), to its ASCII form, so that
// "３" is the number 3.
func halfWidth(r rune) rune {
	if 0xFF10 <= r && r <= 0xFF19 || 0xFF21 <= r && r <= 0xFF3A || 0xFF41 <= r && r <= 0xFF5A {
		return r - 0xFF10 + '0'
	}
	return r
}

// decodeRune is utf8.DecodeRuneInString with the three-byte sequences of
// CJK text decoded inline.
func decodeRune(s string) (rune, int) {
	if len(s) >= 3 && s[0]&0xF0 == 0xE0 && s[1]&0xC0 == 0x80 && s[2]&0xC0 == 0x80 {
		if r := rune(s[0]&0x0F)<<12 | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F); r >= 0x800 && (r < 0xD800 || r > 0xDFFF) {
			return r, 3
		}
	}
	return utf8.DecodeRuneInString(s)
}

// decodeRuneBytes is decodeRune of a byte slice.
func decodeRuneBytes(b []byte) (rune, int) {
	if len(b) >= 3 && b[0]&0xF0 == 0xE0 && b[1]&0xC0 == 0x80 && b[2]&0xC0 == 0x80 {
		if r := rune(b[0]&0x0F)<<12 | rune(b[1]&0x3F)<<6 | rune(b[2]&0x3F); r >= 0x800 && (r < 0xD800 || r > 0xDFFF) {
			return r, 3
		}
	}
	return utf8.DecodeRune(b)
}

func isASCIIWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// stem strips an English possessive and a regular plural in place, so that
// "drills", "China's" and "Senkakus" match the terms "drill", "China" and
// "Senkaku". Terms are stemmed the same way, so it only needs to be
// consistent, not linguistically right.
func stem(w []byte) []byte {
	if n := len(w); n > 2 && w[n-2] == '\'' && w[n-1] == 's' {
		w = w[:n-2]
	}
	if n := len(w); n > 0 && w[n-1] == '\'' {
		w = w[:n-1]
	}
	n := len(w)
	if n < 4 || w[n-1] != 's' || !isASCIILower(w) {
		return w
	}
	switch {
	case hasSuffix(w, "ies") && n > 4:
		w[n-3] = 'y'
		return w[:n-2]
	case hasSuffix(w, "sses"), hasSuffix(w, "ches"), hasSuffix(w, "shes"), hasSuffix(w, "xes"):
		return w[:n-2]
	case hasSuffix(w, "ss"), hasSuffix(w, "us"), hasSuffix(w, "is"):
		return w
	}
	return w[:n-1]
}

func hasSuffix(s []byte, suf string) bool {
	return len(s) >= len(suf) && string(s[len(s)-len(suf):]) == suf
}

func isASCIILower(s []byte) bool {
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// atoi parses a run of ASCII digits, or returns -1.
func atoi(w []byte) int32 {
	if len(w) == 0 || len(w) > 6 {
		return -1
	}
	var n int32
	for _, c := range w {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int32(c-'0')
	}
	return n
}

// Words returns the normalised words of s as the classifier sees them
// (lower-cased, plurals and possessives folded, one word per CJK character).
// The index uses them to compare reports of one incident.
func Words(s string) []string {
	var out []string
	words(s, nil, func(w []byte, _, _ int) { out = append(out, string(w)) })
	return out
}
