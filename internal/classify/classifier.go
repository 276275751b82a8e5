package classify

import (
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Classifier is the one decision the collector, `collector classify` and
// the backtest make: the taxonomy's rules, and the learned model beside
// them. The rules are evidence and vetoes, the model adds recall:
//
//   - an item a rule vetoes (a title about another theatre, commentary, or
//     triggers only inside non-military phrases such as "fire drill") is not
//     relevant, whatever the model says;
//   - an item the rules find relevant stays relevant unless the model gives
//     it less than Combine.Keep;
//   - an item the rules do not find relevant becomes relevant when the model
//     gives it at least Combine.Add;
//   - the type is the rules' best-scoring type when they found a trigger,
//     else the model's; the region is the rules' when the text names a
//     place or actor of one, else the model's.
//
// The evidence lists the rules' hits and, for a relevant item or one the
// model overruled, the model's most weighted words ("model:relevant",
// "model:not_relevant", with their weight in the log-odds).
type Classifier struct {
	rules   *Rules
	model   *Model
	combine Combine
}

// Combine holds the thresholds of the combination, on the model's
// probability that an item is relevant.
type Combine struct {
	Keep float64 `json:"keep"`
	Add  float64 `json:"add"`
	// ModelTypeScripts are the scripts (Script) in which a relevant item's
	// type is the model's, not the rules': where the model tells the types
	// apart better than the rules do.
	ModelTypeScripts []string `json:"model_type_scripts"`
}

// DefaultCombine is the combination the binaries use. In Chinese text the
// model tells the types apart better than the rules: on the 1,038 Chinese
// items labelled after the rules were written, its cross-validated type
// accuracy was 0.883 against the rules' 0.816.
var DefaultCombine = Combine{Keep: 0.02, Add: 0.5, ModelTypeScripts: []string{"han"}}

// vetoMinRelevant is how many relevant examples of an item's script the
// model must have been trained on to veto the rules on it: with fewer (80
// Korean items against 2,000 Korean negatives), it learns that the script
// is seldom news and vetoes what the rules rightly found.
const vetoMinRelevant = 100

// vetoes reports whether the model may veto the rules on an item: a model
// that does not record its examples' scripts (made before they were
// counted) may.
func (m *Model) vetoes(title, summary string) bool {
	return m.Meta.RelevantByScript == nil || m.Meta.RelevantByScript[Script(title, summary)] >= vetoMinRelevant
}

// Script names the script an item is written in: "hangul" when it has any
// Hangul, else "kana" when it has any kana (Japanese), else "han" when it has
// any Chinese character, else "latin".
func Script(title, summary string) string {
	han := false
	for _, t := range [2]string{title, summary} {
		for _, r := range t {
			switch {
			case r < 0x1100:
			case 0xAC00 <= r && r <= 0xD7A3, r <= 0x11FF, 0x3130 <= r && r <= 0x318F: // Hangul syllables and jamo
				return "hangul"
			case 0x3041 <= r && r <= 0x30FF && r != 0x30FB: // kana, not the middle dot
				return "kana"
			case 0x4E00 <= r && r <= 0x9FFF, 0x3400 <= r && r <= 0x4DBF, 0xF900 <= r && r <= 0xFAFF:
				han = true
			}
		}
	}
	if han {
		return "han"
	}
	return "latin"
}

// modelRegionOdds is how likely the model's region must be for an item
// that names no place: below it, the item is placed region-wide.
const modelRegionOdds = 0.5

// modelEvidence is how many of the model's features the evidence lists.
const modelEvidence = 3

// New returns a classifier of the rules and the model (nil for rules only).
func New(rules *Rules, model *Model, combine Combine) *Classifier {
	return &Classifier{rules: rules, model: model, combine: combine}
}

//go:embed model/model.bin
var embeddedModel []byte

// EmbeddedModel returns the model built into the binaries, checked against
// the taxonomy it must serve.
func EmbeddedModel(tx *events.Taxonomy) (*Model, error) {
	m, err := ReadModel(embeddedModel, tx)
	if err != nil {
		return nil, fmt.Errorf("the built-in model: %w", err)
	}
	return m, nil
}

// BuiltinModelVersion returns the version of the model built into the
// binaries ("" if its header does not read).
func BuiltinModelVersion() string {
	if len(embeddedModel) < len(modelMagic)+4 {
		return ""
	}
	b := embeddedModel[len(modelMagic):]
	n := binary.LittleEndian.Uint32(b)
	if uint64(n)+4 > uint64(len(b)) {
		return ""
	}
	var meta ModelMeta
	if json.Unmarshal(b[4:4+n], &meta) != nil {
		return ""
	}
	return meta.Version
}

// NewDefault returns the taxonomy's rules with the built-in model, or, if
// the built-in model was not trained for this taxonomy (a --taxonomy.file
// of another version), an error saying so.
func NewDefault(tx *events.Taxonomy) (*Classifier, error) {
	rules, err := NewRules(tx)
	if err != nil {
		return nil, err
	}
	m, err := EmbeddedModel(tx)
	if err != nil {
		return nil, err
	}
	return New(rules, m, DefaultCombine), nil
}

// Taxonomy returns the taxonomy the classifier serves.
func (c *Classifier) Taxonomy() *events.Taxonomy { return c.rules.tx }

// Model returns the model, nil for rules only.
func (c *Classifier) Model() *Model { return c.model }

// Rules returns the rules.
func (c *Classifier) Rules() *Rules { return c.rules }

// Classify classifies one item by its title and summary (plain text).
func (c *Classifier) Classify(title, summary string) events.Classification {
	if c.model == nil {
		return c.rules.Classify(title, summary)
	}
	s := c.rules.pool.Get().(*scratch)
	defer c.rules.pool.Put(s)
	cls, it := c.rules.apply(&item{s: s, texts: [2]string{title, summary}})
	ms := c.model.scratch()
	defer c.model.pool.Put(ms)
	feats := ms.f.fromTokens(s.toks)
	p := c.model.probability(ms, feats)
	switch {
	case it.vetoed() != "" || it.excluded > 0 && !it.anyType:
		return cls
	case cls.Relevant && p < c.combine.Keep && c.model.vetoes(title, summary):
		c.modelEvidence(&cls, it.texts, ms, feats, "model:not_relevant")
		return events.Classification{Also: []string{}, Evidence: cls.Evidence, Magnitude: cls.Magnitude}
	case cls.Relevant:
		cls.Confidence = math.Round(math.Max(cls.Confidence, math.Min(p, 0.99))*100) / 100
	case p >= c.combine.Add:
		if it.anyType {
			c.rules.decide(it, &cls) // a trigger without an East Asian name the rules know
		} else {
			cls.Relevant, cls.Type = true, c.model.Meta.Types[c.model.typeOf(ms, feats)]
		}
		cls.Confidence = math.Round(math.Min(p, 0.99)*100) / 100
	default:
		return cls
	}
	// The region: the rules' when the text names one of its places or
	// actors, else the model's at even odds or better, else the default.
	if r := c.rules.region(s); r == c.rules.defRegion {
		mr := c.model.regionOf(ms, feats)
		if ms.outR[mr] >= modelRegionOdds {
			cls.Region = c.model.Meta.Regions[mr]
		} else {
			cls.Region = c.rules.regions[r]
		}
	} else {
		cls.Region = c.rules.regions[r]
	}
	if slices.Contains(c.combine.ModelTypeScripts, Script(title, summary)) {
		ti := c.model.typeOf(ms, feats)
		if ty := c.model.Meta.Types[ti]; ty != cls.Type {
			cls.Also = slices.DeleteFunc(cls.Also, func(t string) bool { return t == ty })
			if cls.Type != "" {
				cls.Also = append([]string{cls.Type}, cls.Also...)
			}
			cls.Type = ty
			cls.Evidence = append(cls.Evidence, events.Evidence{Rule: "model:type:" + ty, Weight: math.Round(ms.outT[ti]*1000) / 1000})
		}
	}
	c.rules.finish(it, &cls)
	c.modelEvidence(&cls, it.texts, ms, feats, "model:relevant")
	return cls
}

func (c *Classifier) modelEvidence(cls *events.Classification, texts [2]string, ms *modelScratch, feats []feature, rule string) {
	for _, f := range c.model.explain(ms, feats, modelEvidence) {
		text := texts[0]
		if f.Field == "summary" {
			text = texts[1]
		}
		cls.Evidence = append(cls.Evidence, events.Evidence{Rule: rule, Field: f.Field, Match: text[f.Start:f.End],
			Start: f.Start, End: f.End, Weight: math.Round(f.Weight*1000) / 1000})
	}
}
