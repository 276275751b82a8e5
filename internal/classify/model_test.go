package classify

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// goldenExamples are the golden cases as labelled examples: small, and in
// the repository, for tests of the training machinery.
func goldenExamples(t testing.TB) []Example {
	var out []Example
	for _, g := range readJSONL[golden](t, "testdata/golden.jsonl") {
		out = append(out, Example{Title: g.Title, Summary: g.Summary, Lang: "en", Relevant: g.Relevant, Type: g.Type, Region: g.Region, Set: "golden"})
	}
	return out
}

func TestTrainIsDeterministicAndRoundTrips(t *testing.T) {
	tx := events.DefaultTaxonomy()
	cfg := DefaultTrainConfig
	cfg.Buckets, cfg.Epochs, cfg.HeadEpochs = 1<<12, 5, 5
	ex := goldenExamples(t)
	write := func(m *Model) []byte {
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, err := Train(tx, ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Train(tx, ex, cfg)
	if !bytes.Equal(write(a), write(b)) {
		t.Fatal("two trainings with one seed differ")
	}
	cfg.Seed++
	c, _ := Train(tx, ex, cfg)
	if bytes.Equal(write(a), write(c)) {
		t.Fatal("another seed gave the same model")
	}
	back, err := ReadModel(write(a), tx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex {
		if a.Predict(e.Title, e.Summary).Relevant != back.Predict(e.Title, e.Summary).Relevant {
			t.Fatalf("%q: the model read back predicts otherwise", e.Title)
		}
	}
}

func TestReadModelRefusesWhatItCannotServe(t *testing.T) {
	tx := events.DefaultTaxonomy()
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not a model file"},
		{"other magic", []byte("GGUF\x00\x00\x00\x00"), "not a model file"},
		{"truncated header", append([]byte(modelMagic), 0xff, 0xff, 0, 0, '{'), "truncated in its header"},
		{"truncated weights", embeddedModel[:len(embeddedModel)-10], "bytes of weights"},
	} {
		if _, err := ReadModel(tc.b, tx); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	other := *tx
	other.Version = "1999.01-1"
	if _, err := ReadModel(embeddedModel, &other); err == nil || !strings.Contains(err.Error(), "retrain it (collector train)") {
		t.Errorf("a model of another taxonomy version: %v", err)
	}
}

// TestBuiltInModel: the model in the binaries serves this taxonomy and is
// at most 20 MB.
func TestBuiltInModel(t *testing.T) {
	tx := events.DefaultTaxonomy()
	m, err := EmbeddedModel(tx)
	if err != nil {
		t.Fatal(err)
	}
	if len(embeddedModel) > 20<<20 {
		t.Errorf("the model file has %d bytes, more than 20 MB", len(embeddedModel))
	}
	if m.Meta.TaxonomyVersion != tx.Version || !strings.HasPrefix(m.Meta.Version, tx.Version) {
		t.Errorf("model %s for taxonomy %s, the taxonomy is %s", m.Meta.Version, m.Meta.TaxonomyVersion, tx.Version)
	}
	if v := BuiltinModelVersion(); v != m.Meta.Version {
		t.Errorf("BuiltinModelVersion %q, the model says %q", v, m.Meta.Version)
	}
}

// TestModelAddsRecallRulesVeto: the model finds what the rules' words miss,
// explains it with its weighted words, and cannot overrule a veto.
func TestModelAddsRecallRulesVeto(t *testing.T) {
	tx := events.DefaultTaxonomy()
	c, err := NewDefault(tx)
	if err != nil {
		t.Fatal(err)
	}
	rules := newClassifier(t)
	// "Chinese navy ships sail north between Yonaguni and Taiwan": no
	// trigger the rules know (theirs is "…との間を北上").
	title := "中国海军艦艇が与那国島と台湾の間を北上"
	if rules.Classify(title, "").Relevant {
		t.Fatal("the rules alone find it: choose another example")
	}
	got := c.Classify(title, "")
	if !got.Relevant || got.Type == "" {
		t.Fatalf("combined: %+v", got)
	}
	n := 0
	for _, e := range got.Evidence {
		if e.Rule == "model:relevant" {
			n++
			if e.Weight <= 0 || title[e.Start:e.End] != e.Match {
				t.Errorf("model evidence %+v", e)
			}
		}
	}
	if n != modelEvidence {
		t.Errorf("%d model evidence entries, want %d: %+v", n, modelEvidence, got.Evidence)
	}
	// A title about another theatre is vetoed whatever the model says.
	for _, v := range []string{"Russia fires ballistic missiles at Kyiv, Ukraine says", "Israel strikes Hezbollah targets in Lebanon"} {
		if cls := c.Classify(v, ""); cls.Relevant {
			t.Errorf("%q: relevant despite the other-theatre veto: %+v", v, cls)
		}
	}
}

// TestCrossValidatedFigures runs the cross-validation of README's
// classifier table (grouped 5-fold, the shipped training parameters) and
// fails when a combined figure falls more than 0.02 under what was
// published. It needs ../shared/data.
func TestCrossValidatedFigures(t *testing.T) {
	data := testtool.SharedData(t)
	tx := events.DefaultTaxonomy()
	rules := newClassifier(t)
	sets, err := ReadSets("../../testdata/classifier-sets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := LoadExamples(sets, data, "../..")
	if err != nil {
		t.Fatal(err)
	}
	res, err := CrossValidate(tx, rules, ex, 5, DefaultTrainConfig, DefaultCombine)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.WriteTable(&b)
	t.Log("\n" + b.String())
	for lang, f := range publishedCV {
		s := res.Scores[lang][SystemCombined]
		mf, _ := s.MacroF1(MinTypeSupport)
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"relevance F1", s.F1(), f[0]}, {"type macro-F1", mf, f[1]}, {"region accuracy", s.RegionAccuracy(), f[2]}} {
			if c.got < c.want-0.02 {
				t.Errorf("%s %s: %.3f, published %.3f", lang, c.name, c.got, c.want)
			}
		}
	}
}

// publishedCV holds the combined figures the README publishes, per
// language: relevance F1, type macro-F1, region accuracy.
var publishedCV = map[string][3]float64{
	"en": {0.869, 0.698, 0.935},
	"zh": {0.858, 0.705, 0.917},
	"ja": {0.941, 0.835, 0.904},
	"ko": {0.612, 0.379, 0.885},
}

// TestCommentaryIsNotNewsWhateverTheModelSays: an explainer, an opinion
// piece or a newsletter names every tension of the week and reports no new
// act; the commentary veto holds against the model (the headlines are
// written for this test).
func TestCommentaryIsNotNewsWhateverTheModelSays(t *testing.T) {
	c, err := NewDefault(events.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{
		"Explainer: why China holds military drills around Taiwan",
		"What's behind the rising tensions in the Taiwan Strait?",
		"Opinion: Japan's defence build-up is overdue",
		"Your Tuesday Briefing: China's warships, North Korea's missiles",
	} {
		if got := c.Classify(title, "Chinese warships and aircraft held live-fire drills around Taiwan; North Korea fired ballistic missiles."); got.Relevant {
			t.Errorf("%q is relevant (evidence %+v)", title, got.Evidence)
		}
	}
	if got := c.Classify("China holds live-fire drills around Taiwan", ""); !got.Relevant {
		t.Error("the news itself is not relevant")
	}
}

// TestLearningCurveSharesAreNested: a learning curve's smaller share of the
// training groups is part of every larger one, each share is about its size,
// and a share outside (0, 1] is refused.
func TestLearningCurveSharesAreNested(t *testing.T) {
	const n = 20000
	prev := map[int]bool{}
	for _, sh := range []float64{0.25, 0.5, 0.75, 1} {
		kept := map[int]bool{}
		for g := range n {
			if keepGroup(g, DefaultTrainConfig.Seed, sh) {
				kept[g] = true
			}
		}
		for g := range prev {
			if !kept[g] {
				t.Fatalf("group %d kept at a smaller share, not at %.2f", g, sh)
			}
		}
		if got := float64(len(kept)) / n; math.Abs(got-sh) > 0.02 {
			t.Errorf("share %.2f kept %.3f of the groups", sh, got)
		}
		prev = kept
	}
	for _, sh := range []float64{0, -0.5, 1.5} {
		if _, err := LearningCurve(events.DefaultTaxonomy(), nil, nil, 2, []float64{sh}, DefaultTrainConfig, DefaultCombine); err == nil {
			t.Errorf("share %v accepted", sh)
		}
	}
}

// TestVetoNeedsRelevantExamplesOfTheScript: the model vetoes the rules only
// on text of a script it was trained on with enough relevant examples, and
// the script is told by its characters.
func TestVetoNeedsRelevantExamplesOfTheScript(t *testing.T) {
	for _, tc := range []struct{ title, summary, want string }{
		{"China holds drills near Taiwan", "", "latin"},
		{"北 탄도미사일 발사", "", "hangul"},
		{"中国海軍艦艇の動向について", "", "kana"},
		{"中国海军舰艇在台湾周边演习", "", "han"},
		{"國防部：共機32架次", "", "han"},
		{"日米共同訓練", "", "han"},
		{"日米共同訓練", "実施しました", "kana"},
		{"North Korea fires missile", "합참 발표", "hangul"},
		{"Tokyo・Seoul", "", "latin"},
	} {
		if got := Script(tc.title, tc.summary); got != tc.want {
			t.Errorf("Script(%q, %q) = %q, want %q", tc.title, tc.summary, got, tc.want)
		}
	}
	m := &Model{Meta: ModelMeta{RelevantByScript: map[string]int{"latin": 300, "han": vetoMinRelevant, "hangul": vetoMinRelevant - 1}}}
	for _, tc := range []struct {
		title string
		want  bool
	}{{"China holds drills near Taiwan", true}, {"中国海军演习", true}, {"북한 미사일 발사", false}, {"中国海軍艦艇の動向", false}} {
		if got := m.vetoes(tc.title, ""); got != tc.want {
			t.Errorf("vetoes(%q) = %v, want %v", tc.title, got, tc.want)
		}
	}
	if !(&Model{}).vetoes("북한 미사일 발사", "") {
		t.Error("a model without script counts does not veto")
	}
	ex := []Example{{Title: "North Korea fires a missile", Relevant: true, Type: "weapons_test", Region: "korean_peninsula"},
		{Title: "북한 미사일 발사", Relevant: true, Type: "weapons_test", Region: "korean_peninsula"},
		{Title: "북한 미사일 또 발사", Relevant: true, Type: "weapons_test", Region: "korean_peninsula"},
		{Title: "Stocks rise"}}
	tm, err := Train(events.DefaultTaxonomy(), ex, TrainConfig{Buckets: 1024, Dim: 4, HeadDim: 4, Epochs: 1, Rate: 0.1, HeadEpochs: 1, HeadRate: 0.1, Seed: 1, PositiveWeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := tm.Meta.RelevantByScript; got["latin"] != 1 || got["hangul"] != 2 || len(got) != 2 {
		t.Errorf("trained model counts %v", got)
	}
}

// TestModelTypeInItsScripts: in a script of Combine.ModelTypeScripts a
// relevant item's type is the model's, the rules' type moves to also and
// the evidence says so; in other scripts the rules' type stands. (The model
// here is taught, on purpose, to call drills air incursions.)
func TestModelTypeInItsScripts(t *testing.T) {
	tx := events.DefaultTaxonomy()
	var ex []Example
	for i := range 40 {
		ex = append(ex, Example{Title: fmt.Sprintf("解放军在台湾周边举行演习 %d", i), Relevant: true, Type: "air_incursion", Region: "taiwan_strait"},
			Example{Title: fmt.Sprintf("China holds drills around Taiwan %d", i), Relevant: true, Type: "air_incursion", Region: "taiwan_strait"},
			Example{Title: fmt.Sprintf("股市今天上涨 %d", i)}, Example{Title: fmt.Sprintf("Stocks rise %d", i)})
	}
	m, err := Train(tx, ex, DefaultTrainConfig)
	if err != nil {
		t.Fatal(err)
	}
	rules := newClassifier(t)
	han := New(rules, m, Combine{Keep: 0.02, Add: 0.5, ModelTypeScripts: []string{"han"}})
	none := New(rules, m, Combine{Keep: 0.02, Add: 0.5})
	const zh, en = "解放军在台湾周边举行军事演习", "China holds military drills around Taiwan"
	if r := rules.Classify(zh, ""); !r.Relevant || r.Type != "military_exercise" {
		t.Fatalf("the rules' own call: %+v", r)
	}
	got := han.Classify(zh, "")
	var said bool
	for _, e := range got.Evidence {
		said = said || e.Rule == "model:type:air_incursion" && e.Weight > 0.5
	}
	if got.Type != "air_incursion" || !slices.Contains(got.Also, "military_exercise") || !said {
		t.Errorf("Chinese with the model's types: type %q, also %v, evidence %+v", got.Type, got.Also, got.Evidence)
	}
	if got := none.Classify(zh, ""); got.Type != "military_exercise" {
		t.Errorf("Chinese with the rules' types: %q", got.Type)
	}
	if got := han.Classify(en, ""); got.Type != "military_exercise" {
		t.Errorf("English takes the model's type: %q", got.Type)
	}
}

// TestEmbedSWARIsEmbed: the lane-parallel sums give exactly the plain
// integer sums, for both head sizes, over enough features to empty the
// lanes several times, with extreme values.
func TestEmbedSWARIsEmbed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dim := range []int{8, 16} {
		hd := &head{dim: dim, scale: 0.01, q: make([]int8, 512*dim)}
		for i := range hd.q {
			hd.q[i] = int8(rng.IntN(256) - 128)
		}
		for i := 0; i < dim; i++ {
			hd.q[7*dim+i] = -128 // a row at the extremes
			hd.q[9*dim+i] = 127
		}
		hd.biased()
		for _, n := range []int{0, 1, 7, 300, 1000} {
			feats := make([]feature, n)
			for i := range feats {
				b := uint32(rng.IntN(512))
				if i%3 == 0 {
					b = 7 + 2*uint32(i%2) // rows 7 and 9
				}
				feats[i] = feature{bucket: b, field: uint8(rng.IntN(2))}
			}
			want, got := make([]float32, dim), make([]float32, dim)
			qb := hd.qb
			hd.qb = nil
			wt := hd.embed(feats, want)
			hd.qb = qb
			gt := hd.embed(feats, got)
			if wt != gt || !slices.Equal(want, got) {
				t.Fatalf("dim %d, %d features: %v (%v), want %v (%v)", dim, n, got, gt, want, wt)
			}
		}
	}
}
