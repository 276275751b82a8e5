package probe

import (
	"strings"
	"unicode"
)

// Detected languages. DetectLanguage tells the scripts apart, not every
// language: "en" is Latin script that reads as English, "latin" any other
// Latin-script text, "other" Cyrillic, Arabic, Thai and the rest.
const (
	LangKorean      = "ko"
	LangJapanese    = "ja"
	LangChinese     = "zh"      // Chinese, script undecided
	LangTraditional = "zh-Hant" // Chinese in traditional characters (Taiwan, Hong Kong)
	LangSimplified  = "zh-Hans" // Chinese in simplified characters (the PRC, Singapore)
	LangEnglish     = "en"
	LangLatin       = "latin"
	LangOther       = "other"
)

// minLetters is the least text DetectLanguage judges; below it, "".
const minLetters = 20

// Characters written differently in simplified and traditional Chinese,
// pair by pair (common in news text). Japanese shares some of either
// column, which is why Japanese is told apart by its kana first.
const (
	simplifiedOnly  = "这们国说时会对发经关军湾门东车来为与两个学长机无开问间华际习总统务应议战舰导弹边报网电动进员区实从业当党选韩岛练飞"
	traditionalOnly = "這們國說時會對發經關軍灣門東車來為與兩個學長機無開問間華際習總統務應議戰艦導彈邊報網電動進員區實從業當黨選韓島練飛"
)

// englishWords are words that make up a good share of any English text,
// headlines included, and few of other Latin-script languages'.
var englishWords = map[string]bool{
	"the": true, "of": true, "and": true, "to": true, "in": true, "a": true, "on": true, "for": true,
	"is": true, "with": true, "at": true, "as": true, "by": true, "from": true, "after": true,
	"says": true, "said": true, "over": true, "its": true, "was": true, "are": true, "be": true,
	"has": true, "have": true, "that": true, "will": true, "an": true, "new": true, "us": true,
	"it": true, "his": true, "her": true, "their": true, "not": true, "this": true, "amid": true,
	"into": true, "near": true, "against": true, "about": true, "more": true, "than": true,
}

// DetectLanguage guesses the language of text from its script, "" when it
// holds fewer than 20 letters:
//   - Hangul makes up 30 % or more of the CJK characters: ko;
//   - kana make up 10 % or more of the kana and Han: ja (Japanese writes
//     Han with kana; Chinese never writes kana);
//   - Han without kana: zh-Hant or zh-Hans when the characters that differ
//     between the two scripts lean three to one either way, else zh;
//   - Latin letters (three for every CJK character or more): en when
//     English's commonest words are 3 % or more of the words, else latin;
//   - anything else: other.
func DetectLanguage(text string) string {
	var latin, han, kana, hangul, other, simp, trad int
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Hangul, r):
			hangul++
		case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r), r == 'ー':
			kana++
		case unicode.Is(unicode.Han, r):
			han++
			if strings.ContainsRune(simplifiedOnly, r) {
				simp++
			} else if strings.ContainsRune(traditionalOnly, r) {
				trad++
			}
		case unicode.Is(unicode.Latin, r):
			latin++
		case unicode.IsLetter(r):
			other++
		}
	}
	cjk := han + kana + hangul
	switch {
	case cjk+latin+other < minLetters:
		return ""
	case cjk > 0 && 3*cjk >= latin && cjk >= other:
		switch {
		case 10*hangul >= 3*cjk:
			return LangKorean
		case 10*kana >= han+kana:
			return LangJapanese
		case trad >= 3*simp && trad >= 3:
			return LangTraditional
		case simp >= 3*trad && simp >= 3:
			return LangSimplified
		}
		return LangChinese
	case latin >= other:
		words, common := 0, 0
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
			words++
			if englishWords[w] {
				common++
			}
		}
		if 100*common >= 3*words {
			return LangEnglish
		}
		return LangLatin
	}
	return LangOther
}

// LangMismatch reports whether text detected as detected contradicts the
// declared language tag (feedlist's canonical BCP 47): a CJK language
// declared and another script found, a Latin-script language declared and
// CJK found, English declared and other Latin-script text found, or
// traditional Chinese declared (zh-TW, zh-HK, zh-MO, zh-Hant) and
// simplified found, or the reverse. An empty declared or detected
// language contradicts nothing.
func LangMismatch(declared, detected string) bool {
	if declared == "" || detected == "" {
		return false
	}
	primary, rest, _ := strings.Cut(declared, "-")
	switch primary {
	case "zh", "ja", "ko":
		dp, _, _ := strings.Cut(detected, "-")
		if dp != primary {
			return true
		}
		if primary == "zh" {
			want := chineseScript(rest)
			return want != "" && detected != LangChinese && detected != want
		}
		return false
	case "en":
		return detected != LangEnglish
	}
	// Another language: only its script can be checked, and only Latin
	// script is told apart from CJK here.
	switch detected {
	case LangEnglish, LangLatin, LangOther:
		return false
	}
	return latinScript[primary]
}

// latinScript lists languages written in Latin script that feeds in this
// region come in besides English.
var latinScript = map[string]bool{"vi": true, "id": true, "ms": true, "tl": true, "fil": true, "fr": true, "de": true, "es": true, "pt": true}

// chineseScript maps the subtags after "zh" to the script they imply.
func chineseScript(rest string) string {
	for _, s := range strings.Split(rest, "-") {
		switch s {
		case "Hant", "TW", "HK", "MO":
			return LangTraditional
		case "Hans", "CN", "SG", "MY":
			return LangSimplified
		}
	}
	return ""
}
