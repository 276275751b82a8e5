package classify

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

type golden struct {
	Title    string `json:"title"`
	Summary  string `json:"summary"`
	Relevant bool   `json:"relevant"`
	Type     string `json:"type"`
	Region   string `json:"region"`
}

func newClassifier(t testing.TB) *Rules {
	t.Helper()
	c, err := NewRules(events.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGolden covers every type, every region, the hard negatives and each
// language with short headlines of our own (testdata/golden.jsonl).
func TestGolden(t *testing.T) {
	c := newClassifier(t)
	types, regions := map[string]bool{}, map[string]bool{}
	for _, g := range readJSONL[golden](t, "testdata/golden.jsonl") {
		got := c.Classify(g.Title, g.Summary)
		if got.Relevant != g.Relevant || got.Type != g.Type || got.Region != g.Region {
			t.Errorf("%q:\n got  relevant=%v type=%q region=%q\n want relevant=%v type=%q region=%q\n evidence %+v",
				g.Title, got.Relevant, got.Type, got.Region, g.Relevant, g.Type, g.Region, got.Evidence)
		}
		types[g.Type], regions[g.Region] = true, true
	}
	tx := events.DefaultTaxonomy()
	for _, ty := range tx.Types {
		if !types[ty.ID] {
			t.Errorf("no golden case for type %s", ty.ID)
		}
	}
	for _, r := range tx.Regions {
		if !regions[r.ID] {
			t.Errorf("no golden case for region %s", r.ID)
		}
	}
}

func TestEvidenceAndMagnitude(t *testing.T) {
	c := newClassifier(t)
	title := "China sends 71 warplanes and nine warships toward Taiwan in live-fire drills"
	got := c.Classify(title, "艦艇5隻と共機30架")
	if got.Magnitude.Aircraft != 71 || got.Magnitude.Ships != 9 || !got.Magnitude.LiveFire {
		t.Errorf("magnitude %+v", got.Magnitude)
	}
	if got.Confidence <= 0.5 || got.Confidence > 1 {
		t.Errorf("confidence %v", got.Confidence)
	}
	for _, e := range got.Evidence {
		if strings.HasPrefix(e.Rule, "excluded:") {
			t.Errorf("the exclusion \"fire drill\" fired inside the trigger \"live-fire drills\": %+v", e)
		}
		text := title
		if e.Field == "summary" {
			text = "艦艇5隻と共機30架"
		}
		if text[e.Start:e.End] != e.Match {
			t.Errorf("evidence %+v does not slice its field", e)
		}
	}
	cjk := c.Classify("共機30架次擾台", "")
	if cjk.Magnitude.Aircraft != 30 {
		t.Errorf("CJK magnitude %+v", cjk.Magnitude)
	}
}

func TestAmbiguousTriggersNeedMilitaryContext(t *testing.T) {
	c := newClassifier(t)
	for _, s := range []string{"Japan exercise boom as gyms reopen", "China to launch new phone", "Korea patrol boats for fishing"} {
		if got := c.Classify(s, ""); got.Relevant {
			t.Errorf("%q classified relevant: %+v", s, got)
		}
	}
	if got := c.Classify("Japan holds exercise with US Navy", ""); !got.Relevant || got.Type != "military_exercise" {
		t.Errorf("with context: %+v", got)
	}
}

func TestSevere(t *testing.T) {
	c := newClassifier(t)
	for title, want := range map[string]bool{
		"North Korea fires ballistic missile over Japan":            true,
		"North Korea fires ballistic missile into the Sea of Japan": false,
		"China stages live-fire drills around Taiwan":               true,
		"China stages drills around Taiwan":                         false,
		"Japan holds live-fire drills in Hokkaido":                  false,
		"Taiwan fires warning shots at Chinese drone near Kinmen":   true,
	} {
		if got := c.Classify(title, ""); got.Severe != want {
			t.Errorf("%q: severe = %v, want %v (%+v)", title, got.Severe, want, got)
		}
	}
}

func TestNamedExercise(t *testing.T) {
	got := newClassifier(t).Classify("PLA launches Strait Thunder-2025A drills around Taiwan", "")
	if got.Magnitude.Exercise != "Strait Thunder-2025A" || got.Type != "military_exercise" {
		t.Errorf("got %+v", got)
	}
}

// TestLinearTime checks that the matcher's work grows linearly with the
// input, counting phrase comparisons rather than timing anything.
func TestLinearTime(t *testing.T) {
	c := newClassifier(t)
	for _, unit := range []string{
		"PLA drills near Taiwan as North Korea fires ballistic missiles and China's coast guard ships sail through ",
		"drill drill drill live fire live-fire fire drill ",
		"台湾海峡解放军演习导弹共機30架 ",
		strings.Repeat("a", 50) + " ",
	} {
		cost := func(n int) int {
			s := &scratch{}
			c.classify(s, strings.Repeat(unit, n), strings.Repeat(unit, n))
			return s.cost
		}
		small, large := cost(10), cost(80)
		if small > 0 && float64(large)/float64(small) > 8.5 {
			t.Errorf("%q: 8× the input cost %.1f× the work", unit, float64(large)/float64(small))
		}
	}
}

func FuzzClassify(f *testing.F) {
	c, err := NewDefault(events.DefaultTaxonomy()) // the rules and the model, as the binaries use them
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"PLA drills near Taiwan", "北朝鮮がミサイル2発", "", "'s's'", "\xff\xfe", strings.Repeat("drill ", 100)} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, title, summary string) {
		got := c.Classify(title, summary)
		for _, e := range got.Evidence {
			text := title
			if e.Field == "summary" {
				text = summary
			}
			if e.Start < 0 || e.End > len(text) || e.Start >= e.End || text[e.Start:e.End] != e.Match {
				t.Fatalf("evidence %+v out of %q", e, text)
			}
		}
		if got.Relevant && (got.Type == "" || got.Region == "") {
			t.Fatalf("relevant without type/region: %+v", got)
		}
		if got.Confidence < 0 || got.Confidence > 1 {
			t.Fatalf("confidence %v", got.Confidence)
		}
		_ = utf8.ValidString(title)
	})
}

// BenchmarkClassify classifies real items of each language with the
// classifier the binaries use (rules and the built-in model), the rules
// alone and the 15-line regex baseline, in one run, and reports items and
// bytes per second: go test -run '^$' -bench Classify -benchmem ./internal/classify/
func BenchmarkClassify(b *testing.B) {
	combined, err := NewDefault(events.DefaultTaxonomy())
	if err != nil {
		b.Fatal(err)
	}
	rules := newClassifier(b)
	for _, lang := range []string{"en", "zh", "ja"} {
		items := benchItems(b, lang)
		var bytes int
		for _, it := range items {
			bytes += len(it[0]) + len(it[1])
		}
		for _, sys := range []struct {
			name     string
			classify func(title, summary string) events.Classification
		}{{"combined", combined.Classify}, {"rules", rules.Classify}, {"regex-baseline", baselineClassify}} {
			b.Run(lang+"/"+sys.name, func(b *testing.B) {
				n, size := 0, 0
				for b.Loop() {
					it := items[n%len(items)]
					sys.classify(it[0], it[1])
					size += len(it[0]) + len(it[1])
					n++
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
				b.ReportMetric(float64(size)/b.Elapsed().Seconds()/1e6, "MB/s")
			})
		}
	}
}

// benchItems returns real items of a language as feeds deliver them: the
// complete traffic of four English news feeds over ten days (a crisis
// window: most items are not security news), the Chinese news and the
// Japanese press releases of ../shared/data/cjk; or, when ../shared is
// absent, the golden cases.
func benchItems(b *testing.B, lang string) [][2]string {
	var items [][2]string
	file := map[string]string{"en": "windows/joint-sword-2024a.jsonl", "zh": "cjk/zh-news-2026.jsonl", "ja": "cjk/ja-jso-press-2026.jsonl"}[lang]
	if got, err := readJSONLMaybe[devItem](sharedData + "/" + file); err == nil {
		for _, it := range got {
			items = append(items, [2]string{it.Title, it.Summary})
		}
		return items
	}
	for _, g := range readJSONL[golden](b, "testdata/golden.jsonl") {
		items = append(items, [2]string{g.Title, g.Summary})
	}
	return items
}

// TestReportedDefects: cases a user's trial found, each kept as a
// regression test.
// TestKoreanHeadlines: Korean headlines in the style of Yonhap's (written
// for this test, not taken from any labelled set). They abbreviate North
// Korea, China, Japan and the military as 北, 中, 日 and 軍; those
// abbreviations count only in Korean text ("ko:" terms), so 北 in Chinese
// (台北, 北部战区) never places an item on the Korean peninsula.
func TestKoreanHeadlines(t *testing.T) {
	c := newClassifier(t)
	for _, tc := range []struct {
		title    string
		relevant bool
		typ      string
		region   string
	}{
		{"北, 동해상으로 탄도미사일 발사", true, "weapons_test", "korean_peninsula"},
		{"北 발사체 2발 쏘아…합참 \"정밀 분석 중\"", true, "weapons_test", "korean_peninsula"},
		{"한미 해병대 연합훈련 돌입…北 반발", true, "military_exercise", "korean_peninsula"},
		{"中 해경선 4척, 센카쿠 일본 영해 침범", true, "maritime_patrol", "east_china_sea"},
		{"中 군용기 대만 방공식별구역 무더기 진입", true, "air_incursion", "taiwan_strait"},
		{"美 핵항모 부산 입항…대북 억제력 과시", true, "military_deployment", "korean_peninsula"},
		{"北 김여정 담화…\"도발하면 강력 대응\" 위협", true, "coercive_statement", "korean_peninsula"},
		{"축구 대표팀, 전지훈련 위해 출국", false, "", ""},
		{"핵심 부품 수출 석 달째 증가", false, "", ""},
		{"미국 앨라배마서 총격…5명 사망", false, "", ""},
		{"우크라이나 남부서 러시아군 미사일 공격", false, "", ""},
		// 北 is "north" in Chinese and Japanese.
		{"北部战区海军在黄海举行实弹演习", true, "military_exercise", "east_china_sea"},
		{"台北股市今日收高", false, "", ""},
		{"北海道で震度5弱の地震", false, "", ""},
	} {
		got := c.Classify(tc.title, "")
		if got.Relevant != tc.relevant || tc.typ != "" && got.Type != tc.typ || tc.region != "" && got.Region != tc.region {
			t.Errorf("%q: relevant %v type %q region %q, want %v %q %q (evidence %+v)", tc.title, got.Relevant, got.Type, got.Region,
				tc.relevant, tc.typ, tc.region, got.Evidence)
		}
	}
}

// TestQuotedPlaceWeighsHalf: a place inside quotation marks in a title is
// someone's comparison or claim; an apostrophe inside a word is no quote.
func TestQuotedPlaceWeighsHalf(t *testing.T) {
	c := newClassifier(t)
	for _, tc := range []struct{ title, summary, region string }{
		// A BBC headline of 4 August 2022 (testdata/replay).
		{"China's missiles 'imitating North Korea' - Taiwan",
			"China launched 11 ballistic missiles into waters around Taiwan, Taiwan's defence ministry said.", "taiwan_strait"},
		{"China\u2019s missiles \u2018imitating North Korea\u2019 - Taiwan", "China fired ballistic missiles near Taiwan.", "taiwan_strait"},
		{"North Korea's missile test 'a threat to Japan', Seoul says", "", "korean_peninsula"},
		{"North Korea fires ballistic missile, Taiwan's president says", "", "korean_peninsula"},
	} {
		title, _ := strconv.Unquote(`"` + tc.title + `"`)
		if got := c.Classify(title, tc.summary); got.Region != tc.region {
			t.Errorf("%q: region %q, want %q", title, got.Region, tc.region)
		}
	}
	for _, tc := range []struct {
		s    string
		at   int
		want bool
	}{{"China's 'drills' near Taiwan", 9, true}, {"China's drills", 8, false}, {"\"x\" y", 4, false}, {"don't 'x", 7, true}} {
		if got := quoted(tc.s, tc.at); got != tc.want {
			t.Errorf("quoted(%q, %d) = %v", tc.s, tc.at, got)
		}
	}
}

// TestPastRouteAndDestinationDoNotPlaceAMove: a Joint Staff release
// places a move where the ships were seen; the sentence that opens with
// 「なお、」 recalls their earlier route, and 「…へ向けて航行」 is where they
// were heading (summaries modelled on the releases of
// ../shared/data/cjk/ja-jso-press-2026.jsonl, written for this test).
func TestPastRouteAndDestinationDoNotPlaceAMove(t *testing.T) {
	c := newClassifier(t)
	const seen = "海上自衛隊は、対馬（長崎県）の南西約１１０ｋｍの海域において、同海域を北東進するロシア海軍駆逐艦１隻を確認した。" +
		"その後、当該艦艇が対馬海峡を北東進し、日本海へ向けて航行したことを確認した。"
	const past = "当該艦艇は、３月１５日に与那国島と西表島との間の海域を北東進し、沖縄本島と宮古島の間を南西進したものと同一である。"
	for _, tc := range []struct{ name, summary, region string }{
		{"past route after なお", seen + "　なお、" + past, "sea_of_japan"},
		{"the same route told as news", seen + "　また、" + past, "east_china_sea"},
		{"なお not opening a sentence", seen + "その艦艇はなお、" + past, "east_china_sea"},
		{"heading for the Pacific through Osumi",
			"同海域を東進する中国海軍フリゲート１隻を確認した。その後、当該艦艇が大隅海峡を東進し、太平洋へ向けて航行したことを確認した。", "east_china_sea"},
		{"heading for the East China Sea through Tsushima",
			"同海域を南西進する中国海軍駆逐艦２隻を確認した。その後、これらの艦艇が対馬海峡を南西進し、東シナ海へ向けて航行したことを確認した。", "sea_of_japan"},
	} {
		got := c.Classify("ロシア海軍艦艇の動向について", tc.summary)
		if !got.Relevant || got.Region != tc.region {
			t.Errorf("%s: relevant %v, region %q, want %q (evidence %+v)", tc.name, got.Relevant, got.Region, tc.region, got.Evidence)
		}
	}
	for _, tc := range []struct {
		s    string
		at   int
		want bool
	}{{"なお", 0, true}, {"確認した。 なお", 16, true}, {"確認した。なお", 15, true}, {"艦艇はなお", 9, false}, {"seen. Earlier", 6, true}} {
		if got := opensSentence(tc.s, tc.at); got != tc.want {
			t.Errorf("opensSentence(%q, %d) = %v", tc.s, tc.at, got)
		}
	}
}

// TestAllianceAndArmsWording: wordings of alliance moves, arms production
// and warnings the rules missed before methodology 2026.11-8 (headlines
// written for this test).
func TestAllianceAndArmsWording(t *testing.T) {
	c := newClassifier(t)
	for _, tc := range []struct{ title, typ string }{
		{"US congressional delegation travels to Taiwan", "alliance_alignment"},
		{"Washington reaffirms ironclad commitment to defend the Philippines", "alliance_alignment"},
		{"Japan to mass-produce long-range missiles amid China threat", "defense_spending"},
		{"Philippines vows to defend its territory in the South China Sea", "coercive_statement"},
		{"Philippines names four bases US troops may use", "military_deployment"},
	} {
		if got := c.Classify(tc.title, ""); !got.Relevant || got.Type != tc.typ {
			t.Errorf("%q: relevant %v type %q, want %q (evidence %+v)", tc.title, got.Relevant, got.Type, tc.typ, got.Evidence)
		}
	}
	for _, title := range []string{"Yankees load the bases in the ninth", "Japan to mass-produce electric cars"} {
		if got := c.Classify(title, ""); got.Relevant {
			t.Errorf("%q is relevant (evidence %+v)", title, got.Evidence)
		}
	}
}

func TestReportedDefects(t *testing.T) {
	c := newClassifier(t)
	for _, tc := range []struct {
		title    string
		relevant bool
		typ      string
	}{
		// "plan" is not the PLA Navy: PLAN is written in capitals.
		{"Germany unveils plan to deploy troops to Lithuania", false, ""},
		{"Germany unveils plans to deploy troops to Lithuania", false, ""},
		{"PLAN destroyers sail through the Miyako Strait near Okinawa", true, "strait_transit"},
		// A North Korean ballistic launch in simplified and traditional Chinese.
		{"朝鲜发射弹道导弹", true, "weapons_test"},
		{"北韓發射彈道飛彈", true, "weapons_test"},
		{"朝鲜向东部海域发射一枚弹道导弹", true, "weapons_test"},
		// 훈련 and 訓練 are exercises only with a military context.
		{"축구 대표팀, 파주에서 훈련 시작", false, ""},
		{"한국 소방청, 전국 소방 훈련 실시", false, ""},
		{"東京都で大規模な避難訓練", false, ""},
		{"日本代表、合宿で訓練を公開", false, ""},
		{"한미 해군, 동해에서 연합 훈련", true, "military_exercise"},
		{"自衛隊と米軍が共同訓練を実施", true, "military_exercise"},
	} {
		got := c.Classify(tc.title, "")
		if got.Relevant != tc.relevant || tc.typ != "" && got.Type != tc.typ {
			t.Errorf("%q: relevant %v type %q, want %v %q (evidence %+v)", tc.title, got.Relevant, got.Type, tc.relevant, tc.typ, got.Evidence)
		}
	}
}

// TestFullWidthDigitsCount: Japanese releases write numbers in full-width
// digits ("計３隻"); they count like ASCII ones, and full-width Latin letters
// are their ASCII words.
func TestFullWidthDigitsCount(t *testing.T) {
	c := newClassifier(t)
	for _, summary := range []string{
		"中国海軍ミサイル駆逐艦及び補給艦の計３隻が宮古島と沖縄本島の間を北西進した。",
		"中国海軍ミサイル駆逐艦及び補給艦の計3隻が宮古島と沖縄本島の間を北西進した。",
	} {
		got := c.Classify("中国海軍艦艇の動向について", summary)
		if got.Magnitude.Ships != 3 {
			t.Errorf("%q: magnitude %+v", summary, got.Magnitude)
		}
	}
	if got, want := Words("約７９０ｋｍ ＰＬＡ"), []string{"約", "790km", "pla"}; !slices.Equal(got, want) {
		t.Errorf("Words = %q, want %q", got, want)
	}
}

// TestFarBearingDoesNotPlace: a place named only as the reference point of
// a far bearing ("790 km south of Miyako", 「宮古島の南約７９０ｋｍ」) does
// not place an act out at sea; a near one does.
func TestFarBearingDoesNotPlace(t *testing.T) {
	c := newClassifier(t)
	for _, tc := range []struct{ title, summary, region string }{
		{"中国海軍艦艇の動向について", "中国海軍の空母「遼寧」が、宮古島の南約７９０ｋｍの太平洋上の海域において訓練を実施した。", "western_pacific"},
		{"中国海軍艦艇の動向について", "中国海軍の空母「遼寧」が、宮古島の南約79キロの太平洋上の海域において訓練を実施した。", "east_china_sea"},
		{"Chinese carrier group holds drills in the Pacific 800 km south of Miyako", "", "western_pacific"},
		{"Chinese carrier group holds drills in the Pacific 80 km south of Miyako", "", "east_china_sea"},
	} {
		if got := c.Classify(tc.title, tc.summary); got.Region != tc.region {
			t.Errorf("%q %q: region %q, want %q", tc.title, tc.summary, got.Region, tc.region)
		}
	}
	for _, tc := range []struct {
		s    string
		want int
	}{{"790km", 790}, {"７９０ｋｍ", 790}, {"790 km", 790}, {"300 kilometres", 300}, {"200 miles", 321}, {"790", 0}, {"1234567km", 0}, {"80キロ", 80}} {
		var toks []token
		words(tc.s, nil, func(_ []byte, start, end int) { toks = append(toks, token{start: int32(start), end: int32(end)}) })
		if got := km(tc.s, toks, 0); got != tc.want {
			t.Errorf("km(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

// TestIsCJKFastPathsAgree: the fast paths of isCJK give what the Unicode
// tables give.
func TestIsCJKFastPathsAgree(t *testing.T) {
	for r := rune(0x1100); r <= 0xFFFF; r++ {
		want := unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
			unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) || r == 'ー'
		if 0x4E00 <= r && r <= 0x9FFF || 0xAC00 <= r && r <= 0xD7A3 || 0x3041 <= r && r <= 0x30FF {
			continue // the common blocks are CJK by definition, unassigned code points too
		}
		if got := isCJK(r); got != want {
			t.Errorf("isCJK(%U) = %v, the tables say %v", r, got, want)
		}
	}
}

// TestDecodeRuneAgreesWithUTF8: the inline decoding of three-byte
// sequences gives what unicode/utf8 gives, invalid sequences included.
func TestDecodeRuneAgreesWithUTF8(t *testing.T) {
	for _, s := range []string{"中", "ー", "한", "。", "\uFFFD", "\xed\xa0\x80", "\xe0\x80\x80", "\xe4\xb8", "a", "é", "😀", "\xe4\x28\xad"} {
		r, n := decodeRune(s)
		wr, wn := utf8.DecodeRuneInString(s)
		if r != wr || n != wn {
			t.Errorf("decodeRune(%q) = %U %d, utf8 says %U %d", s, r, n, wr, wn)
		}
		if r, n := decodeRuneBytes([]byte(s)); r != wr || n != wn {
			t.Errorf("decodeRuneBytes(%q) = %U %d, utf8 says %U %d", s, r, n, wr, wn)
		}
	}
	for r := rune(0x800); r <= 0xFFFF; r++ {
		s := string(r)
		if got, n := decodeRune(s); got != []rune(s)[0] || n != len(s) {
			t.Fatalf("decodeRune(%U) = %U %d", r, got, n)
		}
	}
}
