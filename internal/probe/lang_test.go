package probe

import (
	"testing"
	"unicode/utf8"
)

func TestDetectLanguage(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"북한, 동해상으로 탄도미사일 발사… 합참 \"추가 도발 대비\"", "ko"},
		// Korean headlines write some Han (北 for North Korea): still Korean.
		{"北, 미사일 발사… 軍 \"한미 공조 아래 추적\" 합동참모본부 발표", "ko"},
		{"北朝鮮 弾道ミサイル発射 日本のEEZ外に落下か 防衛省が発表", "ja"},
		// Kanji-heavy Japanese with little kana is still Japanese.
		{"中国軍機が台湾周辺で大規模演習 国防部は警戒を強化 在日米軍も監視", "ja"},
		{"國防部：共機25架次逾越海峽中線 國軍嚴密監控台灣周邊海空域", "zh-Hant"},
		{"国防部：解放军东部战区在台湾岛周边开展联合演习 外交部发言人回应", "zh-Hans"},
		// Han that differs in neither script: Chinese, script undecided.
		{"中方在南海黃岩島附近海域巡航，菲方提出抗議。中方在南海附近", "zh"},
		{"China sends 45 warplanes toward Taiwan as drills begin near the island", "en"},
		{"Trung Quốc điều tàu hải cảnh đến gần bãi Cỏ Mây, Philippines phản đối", "latin"},
		{"Китай направил военные корабли к Тайваню для проведения учений", "other"},
		// A Chinese feed quoting English names is still Chinese; an
		// English feed quoting a Chinese name is still English.
		{"美國國務院（US State Department）發言人表示，對台軍售符合台灣關係法（TRA）規定", "zh-Hant"},
		{"Taiwan's defence ministry (國防部) said on Monday that the PLA sent 30 aircraft across the median line of the Strait", "en"},
		{"too short", ""},
		{"", ""},
	} {
		if got := DetectLanguage(tc.text); got != tc.want {
			t.Errorf("DetectLanguage(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestScriptPairs: the two columns of characters that tell the Chinese
// scripts apart are pairs, and no character is in both.
func TestScriptPairs(t *testing.T) {
	if a, b := utf8.RuneCountInString(simplifiedOnly), utf8.RuneCountInString(traditionalOnly); a != b {
		t.Fatalf("%d simplified and %d traditional characters: not pairs", a, b)
	}
	seen := map[rune]bool{}
	for _, r := range simplifiedOnly {
		seen[r] = true
	}
	for _, r := range traditionalOnly {
		if seen[r] {
			t.Errorf("%c is in both columns", r)
		}
	}
}

func TestLangMismatch(t *testing.T) {
	for _, tc := range []struct {
		declared, detected string
		want               bool
	}{
		{"ko", "ja", true},
		{"ko", "ko", false},
		{"ja", "zh-Hans", true},
		{"zh-TW", "zh-Hant", false},
		{"zh-TW", "zh-Hans", true},
		{"zh-CN", "zh-Hant", true},
		{"zh-CN", "zh", false},
		{"zh", "zh-Hant", false},
		{"zh-Hant", "ja", true},
		{"en", "en", false},
		{"en", "ja", true},
		{"en", "latin", true},
		{"vi", "latin", false},
		{"vi", "en", false},
		{"vi", "zh-Hans", true},
		{"ru", "other", false},
		{"ko", "", false},
		{"", "ja", false},
	} {
		if got := LangMismatch(tc.declared, tc.detected); got != tc.want {
			t.Errorf("LangMismatch(%q, %q) = %v, want %v", tc.declared, tc.detected, got, tc.want)
		}
	}
}
