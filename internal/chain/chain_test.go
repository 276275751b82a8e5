package chain

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

var t0 = time.Date(2023, 4, 5, 12, 0, 0, 0, time.UTC)

func mv(id string, day float64, actor, target, region string, outlets int) Move {
	tx := events.DefaultTaxonomy()
	return Move{IncidentID: id, Title: id, Start: t0.Add(time.Duration(day * 24 * float64(time.Hour))), Type: "military_exercise",
		Region: region, Level: 20, Actor: actor, Target: target, Dyad: tx.DyadOf(actor, target, region), Outlets: outlets}
}

// links renders the moves' answering links as "answer←answered" pairs, sorted.
func links(res Result) string {
	var out []string
	for y, m := range res.Moves {
		if m.Answering != "" {
			out = append(out, y+"←"+m.Answering)
		}
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

// TestTheAprilChain: the meeting, the drills that answer it, and the
// allies' answers to the drills, as published.
func TestTheAprilChain(t *testing.T) {
	tx := events.DefaultTaxonomy()
	meeting := mv("meeting", 0, "taiwan", "us", "taiwan_strait", 7)
	meeting.Type = "alliance_alignment"
	drills := mv("drills", 3, "prc", "taiwan", "taiwan_strait", 11)
	condemn := mv("condemn", 3.5, "taiwan", "prc", "taiwan_strait", 2)
	condemn.Type = "coercive_statement"
	support := mv("support", 4, "us", "taiwan", "taiwan_strait", 2) // lawmakers visit Taiwan after the drills
	launch := mv("launch", 3.2, "dprk", "", "korean_peninsula", 3)  // another theatre: no link either way
	res := Find(tx, []Move{support, launch, drills, meeting, condemn}, t0.Add(5*24*time.Hour))
	if got, want := links(res), "[condemn←drills drills←meeting support←drills]"; got != want {
		t.Fatalf("links %s, want %s", got, want)
	}
	if len(res.Chains) != 2 || res.LongestLive != 3 {
		t.Fatalf("%d chains, longest live %d; want 2 chains of 3", len(res.Chains), res.LongestLive)
	}
	// Newest last move first; each oldest first.
	var paths []string
	for _, c := range res.Chains {
		var ids []string
		for _, m := range c.Moves {
			ids = append(ids, m.IncidentID)
		}
		paths = append(paths, strings.Join(ids, "→"))
		if !c.Live {
			t.Errorf("chain %v not live", ids)
		}
	}
	if got := strings.Join(paths, " | "); got != "meeting→drills→support | meeting→drills→condemn" {
		t.Errorf("chains %s", got)
	}
	// A window after the last move, no chain is live; the links stay.
	late := Find(tx, []Move{support, launch, drills, meeting, condemn}, support.Start.Add(tx.Chains.Window+time.Hour))
	if late.LongestLive != 0 || len(late.Chains) != 2 || late.Chains[0].Live {
		t.Errorf("a window on: longest live %d, %d chains", late.LongestLive, len(late.Chains))
	}
	// Before the drills, nothing answers anything.
	if early := Find(tx, []Move{support, launch, drills, meeting, condemn}, t0.Add(time.Hour)); links(early) != "[]" || len(early.Chains) != 0 {
		t.Errorf("before the drills: %s", links(early))
	}
}

// TestWhatCannotAnswer: each condition of the published rule, one at a time.
func TestWhatCannotAnswer(t *testing.T) {
	tx := events.DefaultTaxonomy()
	now := t0.Add(30 * 24 * time.Hour)
	visit := mv("visit", 0, "us", "taiwan", "taiwan_strait", 3)
	ok := mv("drills", 2, "prc", "taiwan", "taiwan_strait", 3)
	if got := links(Find(tx, []Move{visit, ok}, now)); got != "[drills←visit]" {
		t.Fatalf("the baseline pair: %s", got)
	}
	for _, c := range []struct {
		why  string
		edit func(x, y *Move)
	}{
		{"same camp", func(x, y *Move) { y.Actor = "japan"; y.Dyad = tx.DyadOf("japan", "taiwan", y.Region) }},
		{"no camp", func(x, y *Move) { y.Actor = "other" }},
		{"before", func(x, y *Move) { y.Start = x.Start.Add(-time.Hour) }}, // (the visit then answers the drills)
		{"beyond the window", func(x, y *Move) { y.Start = x.Start.Add(tx.Chains.Window + time.Minute) }},
		{"one outlet", func(x, y *Move) { x.Outlets = tx.Chains.MinOutlets - 1 }},
		{"below min_level", func(x, y *Move) { y.Level = tx.Chains.MinLevel - 1 }},
		{"de-escalatory", func(x, y *Move) { y.Deescalatory = true }},
		{"no actor", func(x, y *Move) { y.Actor = "" }},
		{"aimed elsewhere", func(x, y *Move) { y.Target = "japan"; y.Region = "east_china_sea" }},
		{"targetless in another region", func(x, y *Move) {
			y.Target = ""
			y.Region = "east_china_sea"
			y.Dyad = tx.DyadOf("prc", "", "east_china_sea")
		}},
		{"targetless, unplaced", func(x, y *Move) {
			x.Region, y.Region, y.Target = "east_asia", "east_asia", ""
			x.Dyad, y.Dyad = tx.DyadOf(x.Actor, x.Target, "east_asia"), tx.DyadOf("prc", "", "east_asia")
		}},
	} {
		x, y := visit, ok
		c.edit(&x, &y)
		if got := links(Find(tx, []Move{x, y}, now)); strings.Contains(got, "drills←visit") {
			t.Errorf("%s: %s, want the drills to answer nothing", c.why, got)
		}
	}
}

// TestAnswersTheMoveThatMadeTheMostNews: of two moves it could answer, an
// answer answers the one more outlets reported.
func TestAnswersTheMoveThatMadeTheMostNews(t *testing.T) {
	tx := events.DefaultTaxonomy()
	big := mv("big", 0, "us", "taiwan", "taiwan_strait", 9)
	small := mv("small", 1, "taiwan", "", "taiwan_strait", 2) // later, and aimed at by the drills too
	drills := mv("drills", 2, "prc", "taiwan", "taiwan_strait", 5)
	if got := links(Find(tx, []Move{small, big, drills}, t0.Add(3*24*time.Hour))); got != "[drills←big]" {
		t.Errorf("%s, want the drills to answer the visit nine outlets reported", got)
	}
	big.Outlets = 2
	if got := links(Find(tx, []Move{small, big, drills}, t0.Add(3*24*time.Hour))); got != "[drills←small]" {
		t.Errorf("%s, want the later of two moves as reported", got)
	}
}
