package events

import (
	"fmt"
	"strings"
	"testing"
)

func TestDefaultTaxonomyIsValid(t *testing.T) {
	tx := DefaultTaxonomy()
	if got := len(tx.Types); got != 15 {
		t.Errorf("types: got %d, want the 15 of the taxonomy", got)
	}
	if got := len(tx.Regions); got != 7 {
		t.Errorf("regions: got %d, want 7", got)
	}
	if tx.TypeByID("diplomatic_engagement") == nil || !tx.TypeByID("diplomatic_engagement").Deescalatory {
		t.Error("diplomatic_engagement must be the de-escalatory type")
	}
	if b := tx.Band(85); b != "severe" {
		t.Errorf("Band(85) = %q, want severe", b)
	}
}

func TestParseTaxonomyRejectsUnknownKeyWithLine(t *testing.T) {
	_, err := ParseTaxonomy([]byte("version: x\nsections: []\nregionz: []\n"), "bad.yaml")
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:3: unknown field regionz") {
		t.Fatalf("want an error naming bad.yaml line 3, got %v", err)
	}
}

// TestRuleErrorsNameTheirLine breaks the embedded file in two places and
// expects both problems, each at its line.
func TestRuleErrorsNameTheirLine(t *testing.T) {
	src := string(defaultTaxonomy)
	src = strings.Replace(src, "\n    sanction:\n", "\n    sanctoin:\n", 1)
	src = strings.Replace(src, "needs: [military]", "needs: [militray]", 1)
	lineOf := func(sub string) int { return strings.Count(src[:strings.Index(src, sub)], "\n") + 1 }
	_, err := ParseTaxonomy([]byte(src), "tx.yaml")
	if err == nil {
		t.Fatal("a broken rules file validated")
	}
	for _, want := range []string{
		fmt.Sprintf("tx.yaml:%d: rules.triggers: unknown type \"sanctoin\"", lineOf("sanctoin:")),
		fmt.Sprintf("tx.yaml:%d: rules.triggers.military_exercise[1]: needs unknown context \"militray\"", lineOf("militray")),
		"rules.triggers: type \"sanction\" has no triggers",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestClassErrorsNameTheirLine breaks the incident classes and expects
// every problem at its line.
func TestClassErrorsNameTheirLine(t *testing.T) {
	src := string(defaultTaxonomy)
	src = strings.Replace(src, "any: [over_japan]", "any: [over_japn]", 1)
	src = strings.Replace(src, "  - id: icbm_launch\n    level: 70", "  - id: icbm_launch\n    level: 170", 1)
	src = strings.Replace(src, "types: [maritime_patrol, military_incident]\n    any: [water_cannon]", "types: [maritime_patrl, military_incident]\n    any: [water_cannon]", 1)
	src = strings.Replace(src, "  - id: territorial_intrusion", "  - id: sanction", 1)
	lineOf := func(sub string) int { return strings.Count(src[:strings.Index(src, sub)], "\n") + 1 }
	_, err := ParseTaxonomy([]byte(src), "tx.yaml")
	if err == nil {
		t.Fatal("broken classes validated")
	}
	for _, want := range []string{
		fmt.Sprintf("tx.yaml:%d: class missile_over_japan: unknown signal \"over_japn\" in any", lineOf("over_japn")),
		fmt.Sprintf("tx.yaml:%d: class icbm_launch: level must be in (0,100]", lineOf("level: 170")),
		fmt.Sprintf("tx.yaml:%d: class water_cannon: unknown type \"maritime_patrl\"", lineOf("maritime_patrl")),
		fmt.Sprintf("tx.yaml:%d: classes[", lineOf("  - id: sanction")),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestClassOf(t *testing.T) {
	tx := DefaultTaxonomy()
	for _, tc := range []struct {
		c    Classification
		want string
	}{
		{Classification{Type: "military_exercise", Region: "taiwan_strait", Signals: []string{"around_taiwan"}}, "encirclement_drills"},
		{Classification{Type: "military_exercise", Region: "taiwan_strait"}, ""},
		{Classification{Type: "military_exercise", Region: "taiwan_strait", Magnitude: Magnitude{LiveFire: true}, Signals: []string{"adversary"}}, "live_fire_drills"},
		{Classification{Type: "weapons_test", Region: "korean_peninsula", Signals: []string{"ballistic"}}, "ballistic_launch"},
		{Classification{Type: "weapons_test", Region: "korean_peninsula", Signals: []string{"ballistic", "speculative"}}, ""},
		{Classification{Type: "weapons_test", Region: "korean_peninsula", Magnitude: Magnitude{Missiles: 6}}, "missile_barrage"},
		{Classification{Type: "weapons_test", Region: "korean_peninsula", Signals: []string{"over_japan", "ballistic"}}, "missile_over_japan"},
		{Classification{Type: "air_incursion", Region: "taiwan_strait", Magnitude: Magnitude{Aircraft: 30}}, "large_air_incursion"},
		{Classification{Type: "air_incursion", Region: "taiwan_strait", Signals: []string{"around_taiwan"}}, ""}, // daily sorties "around Taiwan"
		{Classification{Type: "maritime_patrol", Region: "south_china_sea", Signals: []string{"water_cannon"}}, "water_cannon"},
		{Classification{Type: "maritime_patrol", Region: "south_china_sea", Signals: []string{"ramming", "water_cannon"}}, "clash_at_sea"},
		{Classification{Type: "coercive_statement", Region: "taiwan_strait", Signals: []string{"encirclement"}}, ""},
	} {
		got := ""
		if k := tx.ClassOf(tc.c); k != nil {
			got = k.ID
		}
		if got != tc.want {
			t.Errorf("%+v: class %q, want %q", tc.c, got, tc.want)
		}
	}
}

// TestTaxonomyDecodeErrorsNameNoGoTypes: a malformed taxonomy is reported
// line by line in the file's terms, never as Go types.
func TestTaxonomyDecodeErrorsNameNoGoTypes(t *testing.T) {
	_, err := ParseTaxonomy([]byte("version: x\nfoo: 1\ntypes: oops\nindex:\n  window: 3\n"), "t.yaml")
	if err == nil {
		t.Fatal("a malformed taxonomy parsed")
	}
	got := err.Error()
	for _, want := range []string{`t.yaml:2: unknown field foo`, `t.yaml:3: "oops" is not a list`, `t.yaml:5: "3" is not a duration such as 72h`} {
		if !strings.Contains(got, want) {
			t.Errorf("error lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "events.") || strings.Contains(got, "[]") || strings.Contains(got, "unmarshal") {
		t.Errorf("error names Go types or the YAML package:\n%s", got)
	}
}
