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
	if err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), "line 3") {
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
