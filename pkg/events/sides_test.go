package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSideErrorsNameTheirLine(t *testing.T) {
	src := string(defaultTaxonomy)
	src = strings.Replace(src, "a: [taiwan],                b: [prc]", "a: [taiwan],                b: [prc, japan]", 1)
	src = strings.Replace(src, "b: [dprk],", "b: [dprkk],", 1)
	src = strings.Replace(src, "    philippines:\n      - terms:", "    filipinas:\n      - terms:", 1)
	src = strings.Replace(src, "  window: 168h\n", "  window: 0s\n", 1)
	lineOf := func(sub string) int { return strings.Count(src[:strings.Index(src, sub)], "\n") + 1 }
	_, err := ParseTaxonomy([]byte(src), "tx.yaml")
	if err == nil {
		t.Fatal("broken sides validated")
	}
	for _, want := range []string{
		fmt.Sprintf("tx.yaml:%d: dyad taiwan_prc: taiwan and japan are not in opposite camps", lineOf("b: [prc, japan]")),
		fmt.Sprintf("tx.yaml:%d: dyad allies_dprk: unknown side \"dprkk\"", lineOf("b: [dprkk]")),
		fmt.Sprintf("tx.yaml:%d: rules.sides: unknown side \"filipinas\"", lineOf("filipinas:")),
		fmt.Sprintf("tx.yaml:%d: chains.window must be > 0", lineOf("window: 0s")),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestDyadOf(t *testing.T) {
	tx := DefaultTaxonomy()
	for _, c := range []struct{ actor, target, region, want string }{
		{"prc", "taiwan", "taiwan_strait", "taiwan_prc"},
		{"taiwan", "prc", "east_asia", "taiwan_prc"},     // across the dyad, wherever
		{"prc", "", "taiwan_strait", "taiwan_prc"},       // no target: the first dyad with the actor at an end and the region
		{"prc", "", "east_china_sea", "allies_prc"},      // the same actor in another theatre
		{"us", "taiwan", "taiwan_strait", "allies_prc"},  // a partner: by the region, the US is not at taiwan_prc's ends
		{"dprk", "", "korean_peninsula", "allies_dprk"},  // a launch naming nobody
		{"dprk", "japan", "sea_of_japan", "allies_dprk"}, // a missile over Japan
		{"prc", "philippines", "south_china_sea", "philippines_prc"},
		{"us", "prc", "south_china_sea", "allies_prc"},
		{"other", "prc", "south_china_sea", ""}, // a side of no dyad
		{"", "taiwan", "taiwan_strait", ""},     // no actor, no dyad
	} {
		if got := tx.DyadOf(c.actor, c.target, c.region); got != c.want {
			t.Errorf("DyadOf(%q, %q, %q) = %q, want %q", c.actor, c.target, c.region, got, c.want)
		}
	}
	if !tx.Opposed("prc", "us") || tx.Opposed("us", "japan") || tx.Opposed("other", "prc") {
		t.Error("camps: prc and us are opposed, us and japan are not, other is in no camp")
	}
}

// TestWireRevisionsReadBothWays: an event of revision 0 (before actor and
// target) still decodes, and an event of revision 1 still decodes in a
// reader of revision 0: the v1 layout only gained optional fields.
func TestWireRevisionsReadBothWays(t *testing.T) {
	e := sampleEvent()
	e.Classification.Actor, e.Classification.Target = "prc", "taiwan"
	b, err := Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	json.Unmarshal(b, &raw)
	if raw["v"] != 1.0 || raw["rev"] != float64(WireRevision) {
		t.Fatalf("v %v rev %v, want 1 and %d", raw["v"], raw["rev"], WireRevision)
	}
	c := raw["classification"].(map[string]any)
	if c["actor"] != "prc" || c["target"] != "taiwan" {
		t.Fatalf("classification %v lacks actor and target", c)
	}
	// A reader of revision 0: the Event of that time had no Rev, Actor or
	// Target, and decoded with encoding/json, which ignores unknown fields.
	type classificationRev0 struct {
		Relevant bool   `json:"relevant"`
		Type     string `json:"type"`
		Region   string `json:"region"`
	}
	var old struct {
		V              int                `json:"v"`
		ID             string             `json:"id"`
		Classification classificationRev0 `json:"classification"`
	}
	if err := json.Unmarshal(b, &old); err != nil || old.V != 1 || old.ID != e.ID || old.Classification.Type != "military_exercise" {
		t.Fatalf("a revision 0 reader reads %+v, %v", old, err)
	}
	// An event of revision 0, as an older collector wrote it.
	rev0 := `{"v":1,"id":"` + e.ID + `","source":{"feed_id":"f","outlet":"O","kind":"news","credibility":0.8},"link":"https://example.com/a",` +
		`"title":"PLA holds drills","summary":"","language":"en","published":"2026-11-22T10:00:00Z","fetched":"2026-11-22T10:00:00Z",` +
		`"classification":{"relevant":true,"type":"military_exercise","region":"taiwan_strait","section":"flashpoints","also":[],"confidence":0.9,"magnitude":{},"evidence":[]}}`
	got, err := Unmarshal([]byte(rev0))
	if err != nil {
		t.Fatalf("revision 0 event: %v", err)
	}
	if got.Rev != 0 || got.Classification.Actor != "" || got.Classification.Target != "" {
		t.Errorf("revision 0 event read as rev %d, actor %q, target %q", got.Rev, got.Classification.Actor, got.Classification.Target)
	}
	e.Classification.Actor = ""
	if _, err := Marshal(e); err == nil || !strings.Contains(err.Error(), "target without an actor") {
		t.Errorf("a target without an actor: %v", err)
	}
}
