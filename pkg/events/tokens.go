package events

import (
	"unicode"
	"unicode/utf8"
)

// token is one normalised word of a text, with its byte span in the text.
type token struct {
	norm       string // lower-cased, possessive and plural stripped
	start, end int
}

// isCJK reports whether r is written without spaces between words (Han,
// kana, Hangul): each such character is a token of its own, so that a
// multi-character term is a phrase of single-character tokens and matches
// inside running text.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) || r == 'ー'
}

// tokenize splits s into tokens. Letters and digits form words; an
// apostrophe inside a word keeps it together ("China's"); everything else
// separates. It runs in one pass, linear in len(s).
func tokenize(s string, out []token, buf []byte) ([]token, []byte) {
	out = out[:0]
	buf = buf[:0]
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isCJK(r):
			out = append(out, token{norm: s[i : i+size], start: i, end: i + size})
			i += size
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			start := i
			bstart := len(buf)
			for i < len(s) {
				r, size = utf8.DecodeRuneInString(s[i:])
				if unicode.IsLetter(r) && !isCJK(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
					buf = utf8.AppendRune(buf, unicode.ToLower(r))
					i += size
					continue
				}
				if (r == '\'' || r == '’') && i+size < len(s) {
					if n, _ := utf8.DecodeRuneInString(s[i+size:]); unicode.IsLetter(n) && !isCJK(n) {
						buf = append(buf, '\'')
						i += size
						continue
					}
				}
				break
			}
			out = append(out, token{norm: stem(string(buf[bstart:])), start: start, end: i})
		default:
			i += size
		}
	}
	return out, buf
}

// stem strips an English possessive and a regular plural, so that "drills",
// "China's" and "Senkakus" match the terms "drill", "China" and "Senkaku".
// Terms are stemmed the same way, so the rule only needs to be consistent.
func stem(w string) string {
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
		return w[:n-3] + "y"
	case hasSuffix(w, "sses"), hasSuffix(w, "ches"), hasSuffix(w, "shes"), hasSuffix(w, "xes"):
		return w[:n-2]
	case hasSuffix(w, "ss"), hasSuffix(w, "us"), hasSuffix(w, "is"):
		return w
	}
	return w[:n-1]
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

func isASCIILower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
