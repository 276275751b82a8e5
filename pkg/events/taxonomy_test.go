package events

import (
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
