package index

import (
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// sided is a report of one story (shared title words) by an outlet, with
// its sides.
func sided(i int, outlet, actor, target string, at time.Time) events.Event {
	e := ev(i, "military_exercise", "taiwan_strait", at)
	e.Title = "PLA drills around Taiwan continue"
	e.Source.Outlet = outlet
	e.Classification.Actor, e.Classification.Target = actor, target
	return e
}

// TestDyadsAndSides: an incident's sides are its reports' majority; a
// report by the other camp in the same words is another incident; the
// dyads read their incidents like a region; an event without sides (wire
// revision 0) is in no dyad.
func TestDyadsAndSides(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	ix.Add(sided(1, "A", "prc", "", t0))
	ix.Add(sided(2, "B", "prc", "taiwan", t0.Add(time.Hour)))
	ix.Add(sided(3, "C", "prc", "taiwan", t0.Add(2*time.Hour)))
	ix.Add(sided(4, "D", "taiwan", "prc", t0.Add(3*time.Hour)))         // Taiwan's answer, in the same words
	old := ev(5, "weapons_test", "korean_peninsula", t0.Add(time.Hour)) // no sides
	ix.Add(old)
	now := t0.Add(4 * time.Hour)
	snap := ix.Snapshot(now, 5)

	reg := snap.Regions["taiwan_strait"]
	if reg.Incidents != 2 || len(reg.Top) != 2 {
		t.Fatalf("taiwan_strait: %d incidents, want the drills and Taiwan's answer apart", reg.Incidents)
	}
	var drills, answer Contribution
	for _, c := range reg.Top {
		switch c.Reports {
		case 3:
			drills = c
		case 1:
			answer = c
		}
	}
	if drills.Actor != "prc" || drills.Target != "taiwan" || drills.Dyad != "taiwan_prc" {
		t.Errorf("the drills: %s → %s in %q, want prc → taiwan in taiwan_prc", drills.Actor, drills.Target, drills.Dyad)
	}
	if answer.Actor != "taiwan" || answer.Target != "prc" || answer.Dyad != "taiwan_prc" {
		t.Errorf("the answer: %s → %s in %q", answer.Actor, answer.Target, answer.Dyad)
	}
	// The answer answers the drills, three outlets' news.
	if answer.Answering == nil || answer.Answering.IncidentID != drills.IncidentID || answer.Answering.Actor != "prc" {
		t.Errorf("the answer answers %+v, want the drills %s", answer.Answering, drills.IncidentID)
	}
	if drills.Answering != nil {
		t.Errorf("the drills answer %+v", drills.Answering)
	}
	// taiwan_prc holds exactly taiwan_strait's incidents here: the same number.
	if d := snap.Dyads["taiwan_prc"]; d.Value != reg.Value || d.Incidents != 2 || d.Band != reg.Band {
		t.Errorf("taiwan_prc %+v, want taiwan_strait's %v", d, reg.Value)
	}
	// The launch without sides moves its region, no dyad.
	if snap.Regions["korean_peninsula"].Value == 0 || snap.Dyads["allies_dprk"].Value != 0 {
		t.Errorf("a launch without sides: region %v, allies_dprk %v", snap.Regions["korean_peninsula"].Value, snap.Dyads["allies_dprk"].Value)
	}
	if len(snap.Dyads) != len(tx.Dyads) {
		t.Errorf("%d dyads in the snapshot, want every one of the taxonomy's %d", len(snap.Dyads), len(tx.Dyads))
	}
	// A tie of votes goes to the report that gave the incident its level
	// (the first at its strongest): here all are alike, so the first.
	ix2 := New(tx)
	ix2.Add(sided(1, "A", "prc", "taiwan", t0))
	ix2.Add(sided(2, "B", "russia", "japan", t0.Add(time.Hour)))
	c := ix2.Snapshot(now, 1).Regions["taiwan_strait"].Top[0]
	if c.Actor != "prc" || c.Target != "taiwan" {
		t.Errorf("a tie: %s → %s, want the first report's prc → taiwan", c.Actor, c.Target)
	}
	// The chains, the numbers alone and the moves agree with the snapshot.
	if n := ix.SnapshotNumbers(now.Truncate(time.Hour)); n.Dyads["taiwan_prc"].Value != snap.Dyads["taiwan_prc"].Value {
		t.Errorf("SnapshotNumbers reads taiwan_prc %v, Snapshot %v", n.Dyads["taiwan_prc"].Value, snap.Dyads["taiwan_prc"].Value)
	}
	s2, res := ix.SnapshotAndChains(now, 5)
	if snapJSON(t, s2) != snapJSON(t, snap) || res.LongestLive != 2 || len(ix.Moves(now)) != 2 {
		t.Errorf("SnapshotAndChains: longest live %d, %d moves", res.LongestLive, len(ix.Moves(now)))
	}
}
