package index

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func ev(i int, typ, region string, at time.Time) events.Event {
	return events.Event{
		ID:        events.ID(fmt.Sprintf("guid-%d", i), ""),
		Source:    events.Source{FeedID: "f", Outlet: "O", Kind: events.KindNews, Credibility: 1},
		Title:     fmt.Sprintf("event k%dk q%dq", i, i), // unique words: one incident per event
		Link:      fmt.Sprintf("https://x/%d", i),
		Published: at, Fetched: at,
		Classification: events.Classification{Relevant: true, Type: typ, Region: region, Confidence: 1},
	}
}

func TestDecayHalvesAtHalfLife(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	e := ev(1, "military_exercise", "taiwan_strait", t0)
	hl := tx.TypeByID("military_exercise").HalfLife
	s0, s1 := ix.Score(e, t0), ix.Score(e, t0.Add(hl))
	if math.Abs(s1-s0/2) > 1e-9 || s0 != tx.TypeByID("military_exercise").Weight {
		t.Fatalf("score at 0 = %v, at half-life = %v", s0, s1)
	}
	if ix.Score(e, t0.Add(-time.Hour)) != 0 {
		t.Error("an event after the evaluation time must count nothing")
	}
}

func TestDeescalationIsCapped(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	ix.Add(ev(1, "military_exercise", "taiwan_strait", t0))
	for i := 2; i < 20; i++ {
		ix.Add(ev(i, "diplomatic_engagement", "taiwan_strait", t0))
	}
	s := ix.Snapshot(t0, 3)
	esc := tx.TypeByID("military_exercise").Weight
	wantRaw := esc * (1 - tx.Index.MaxDeescalation)
	if got := s.Regions["taiwan_strait"].Raw; math.Abs(got-wantRaw) > 1e-3 {
		t.Fatalf("raw = %v, want %v: talks may cancel only part of the escalation", got, wantRaw)
	}
	if s.Gauge.Value <= 0 {
		t.Fatal("talks erased the gauge")
	}
}

func TestDuplicatesAndIrrelevantIgnored(t *testing.T) {
	ix := New(events.DefaultTaxonomy())
	e := ev(1, "weapons_test", "korean_peninsula", t0)
	if !ix.Add(e) || ix.Add(e) {
		t.Fatal("first Add must be new, the second a duplicate")
	}
	irr := ev(2, "", "", t0)
	irr.Classification.Relevant = false
	unknown := ev(3, "no_such_type", "taiwan_strait", t0)
	if ix.Add(irr) || ix.Add(unknown) || ix.Len() != 1 {
		t.Fatal("irrelevant or unknown-type events were added")
	}
}

func TestAllRegionsAndSectionsPresentFromStart(t *testing.T) {
	tx := events.DefaultTaxonomy()
	s := New(tx).Snapshot(t0, 5)
	if len(s.Regions) != len(tx.Regions) || len(s.Categories) != len(tx.Sections) {
		t.Fatalf("regions %d, categories %d", len(s.Regions), len(s.Categories))
	}
	if s.Gauge.Value != 0 || s.Gauge.Band != "calm" || s.MethodologyVersion != tx.Version {
		t.Fatalf("empty index: %+v", s.Gauge)
	}
}

func TestDeterministicWhateverTheOrder(t *testing.T) {
	tx := events.DefaultTaxonomy()
	types := []string{"military_exercise", "air_incursion", "maritime_patrol", "weapons_test", "diplomatic_engagement", "coercive_statement"}
	regions := []string{"taiwan_strait", "east_china_sea", "south_china_sea", "korean_peninsula"}
	var evs []events.Event
	for i := range 300 {
		e := ev(i, types[i%len(types)], regions[i%len(regions)], t0.Add(time.Duration(i)*7*time.Minute))
		e.Source.Credibility = 0.5 + float64(i%5)/10
		e.Classification.Confidence = 0.6 + float64(i%4)/10
		e.Classification.Magnitude.Aircraft = i % 40
		evs = append(evs, e)
	}
	now := t0.Add(48 * time.Hour)
	a, b := New(tx), New(tx)
	for _, e := range evs {
		a.Add(e)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	for _, e := range evs {
		b.Add(e)
		b.Add(e) // at-least-once delivery
	}
	ja, _ := json.Marshal(a.Snapshot(now, 5))
	jb, _ := json.Marshal(b.Snapshot(now, 5))
	if string(ja) != string(jb) {
		t.Fatal("the same events in another order gave other numbers")
	}
}

func TestBandsAndMagnitude(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	small := ev(1, "air_incursion", "taiwan_strait", t0)
	big := ev(2, "air_incursion", "taiwan_strait", t0)
	big.Classification.Magnitude = events.Magnitude{Aircraft: 71, Ships: 9, LiveFire: true}
	if r := ix.Score(big, t0) / ix.Score(small, t0); r <= 2 || r > tx.Index.MagnitudeCap {
		t.Fatalf("71 aircraft, 9 ships and live fire weigh %v× a plain incursion", r)
	}
	for i := range 30 {
		e := ev(100+i, "military_exercise", "taiwan_strait", t0)
		e.Classification.Magnitude.Aircraft = 70
		ix.Add(e)
	}
	if s := ix.Snapshot(t0, 1); s.Regions["taiwan_strait"].Band != "severe" || len(s.Regions["taiwan_strait"].Top) != 1 {
		t.Fatalf("30 large drills: %+v", s.Regions["taiwan_strait"])
	}
}

func TestPruneKeepsDuplicatesOut(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	e := ev(1, "military_exercise", "taiwan_strait", t0)
	ix.Add(e)
	if n := ix.Prune(t0.Add(tx.Index.Window + 25*time.Hour)); n != 1 || ix.Len() != 0 { // the cutoff is rounded down to a day
		t.Fatalf("pruned %d, holding %d", n, ix.Len())
	}
	if ix.Add(e) {
		t.Fatal("a pruned event came back as new")
	}
}

func TestEventsQuery(t *testing.T) {
	ix := New(events.DefaultTaxonomy())
	for i := range 10 {
		region := "taiwan_strait"
		if i%2 == 1 {
			region = "korean_peninsula"
		}
		ix.Add(ev(i, "military_exercise", region, t0.Add(time.Duration(i)*time.Hour)))
	}
	got := ix.Events(Query{Region: "taiwan_strait", Since: t0.Add(3 * time.Hour), Limit: 2})
	if len(got) != 2 || got[0].Title != "event k8k q8q" || got[1].Title != "event k6k q6q" {
		t.Fatalf("got %v", got)
	}
}

func benchIndex(n int) *Index {
	ix := New(events.DefaultTaxonomy())
	for i := range n {
		ix.Add(ev(i, "military_exercise", "taiwan_strait", t0.Add(time.Duration(i)*time.Second)))
	}
	return ix
}

func BenchmarkAdd(b *testing.B) {
	ix := New(events.DefaultTaxonomy())
	i := 0
	for b.Loop() {
		ix.Add(ev(i, "military_exercise", "taiwan_strait", t0))
		i++
	}
}

func BenchmarkSnapshot10k(b *testing.B) {
	ix := benchIndex(10000)
	now := t0.Add(24 * time.Hour)
	for b.Loop() {
		ix.Snapshot(now, 0) // what a /metrics scrape computes
	}
}

func BenchmarkSnapshot10kTop5(b *testing.B) {
	ix := benchIndex(10000)
	now := t0.Add(24 * time.Hour)
	for b.Loop() {
		ix.Snapshot(now, 5)
	}
}

func report(id, outlet, typ, region, title string, at time.Time) events.Event {
	e := ev(0, typ, region, at)
	e.ID = events.ID(id, "")
	e.Title = title
	e.Source.Outlet = outlet
	return e
}

func TestReportsOfOneIncidentAreScoredOnce(t *testing.T) {
	tx := events.DefaultTaxonomy()
	one, many := New(tx), New(tx)
	first := report("a", "Reuters", "military_exercise", "taiwan_strait", "China begins military drills around Taiwan", t0)
	one.Add(first)
	many.Add(first)
	for i, o := range []string{"AP", "BBC", "CNN", "NHK", "Yonhap", "AFP", "Kyodo"} {
		many.Add(report(fmt.Sprint("b", i), o, "military_exercise", "taiwan_strait",
			"Chinese military starts drills around Taiwan", t0.Add(time.Duration(i+1)*time.Hour)))
	}
	// A different incident of the same type and region, and a report of the
	// same words outside the window, stay apart.
	many.Add(report("c", "AP", "military_exercise", "taiwan_strait", "Taiwan army holds live-fire artillery practice on Penghu", t0.Add(2*time.Hour)))
	many.Add(report("d", "AP", "military_exercise", "taiwan_strait", "China begins military drills around Taiwan", t0.Add(5*24*time.Hour)))
	incidents := many.Incidents()
	if len(incidents) != 3 || len(incidents[0].Reports)+len(incidents[1].Reports)+len(incidents[2].Reports) != 10 {
		t.Fatalf("got %d incidents", len(incidents))
	}
	now := t0.Add(8 * time.Hour)
	s1 := one.Snapshot(now, 1).Regions["taiwan_strait"]
	s8 := many.Snapshot(now, 1).Regions["taiwan_strait"]
	if s8.Top[0].Reports != 8 || len(s8.Top[0].Sources) != 8 {
		t.Fatalf("top incident: %+v", s8.Top[0])
	}
	// 8 outlets raise the incident by 1 + 0.3·log2(8) = 1.9, not 8×.
	ratio := s8.Top[0].Score / s1.Top[0].Score
	if ratio < 1.5 || ratio > 2.5 {
		t.Errorf("eight outlets weigh %.2f× one", ratio)
	}
}

func TestZScoreSeparatesRoutineFromExcess(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	// Coast guard ships near the Senkakus every day for 40 days.
	for d := range 40 {
		ix.Add(report(fmt.Sprint("r", d), "NHK", "maritime_patrol", "east_china_sea",
			fmt.Sprintf("Chinese ships near Senkakus day k%dk", d), t0.Add(time.Duration(d)*24*time.Hour)))
	}
	now := t0.Add(39*24*time.Hour + time.Hour)
	routine := *ix.Snapshot(now, 0).Regions["east_china_sea"].ZScore
	if math.Abs(routine) >= 3 {
		t.Fatalf("routine daily patrols read z = %.2f", routine)
	}
	// Then a surge: ten incidents in one day.
	for i := range 10 {
		ix.Add(report(fmt.Sprint("s", i), "NHK", "military_incident", "east_china_sea",
			fmt.Sprintf("k%dk q%dq", i, i), now.Add(-time.Duration(i)*time.Minute))) // ten separate incidents
	}
	surge := *ix.Snapshot(now, 0).Regions["east_china_sea"].ZScore
	if surge < 3 {
		t.Fatalf("a surge reads z = %.2f, want >= 3", surge)
	}
	if z := *ix.Snapshot(now, 0).Regions["korean_peninsula"].ZScore; z != 0 {
		t.Errorf("a quiet region reads z = %.2f", z)
	}
}

// TestWorkedExample computes the example of METHODOLOGY.md; a change to the
// formula or the published parameters must update both.
func TestWorkedExample(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	at := t0.Add(6 * time.Hour)
	drill := func(id, outlet string) events.Event {
		e := report(id, outlet, "military_exercise", "taiwan_strait", "China holds live-fire drills around Taiwan with 45 warplanes", t0)
		e.Source.Credibility, e.Classification.Confidence = 0.8, 0.95
		e.Classification.Magnitude = events.Magnitude{Aircraft: 45, LiveFire: true}
		return e
	}
	ix.Add(drill("w1", "Reuters"))
	ix.Add(drill("w2", "AP"))
	ix.Add(drill("w3", "Focus Taiwan"))
	talks := report("w4", "Reuters", "diplomatic_engagement", "taiwan_strait", "Beijing and Taipei envoys hold talks in Singapore", at)
	talks.Source.Credibility, talks.Classification.Confidence = 0.8, 0.9
	ix.Add(talks)
	missile := report("w5", "Yonhap", "weapons_test", "korean_peninsula", "North Korea fires two ballistic missiles", t0)
	missile.Source.Credibility, missile.Classification.Confidence = 0.85, 0.95
	missile.Classification.Magnitude.Missiles = 2
	ix.Add(missile)
	s := ix.Snapshot(at, 5)
	ts, kp := s.Regions["taiwan_strait"], s.Regions["korean_peninsula"]
	got := fmt.Sprintf("drill %.2f | talks %.2f | taiwan_strait raw %.2f gauge %.2f | korean_peninsula raw %.2f gauge %.2f | east asia raw %.2f gauge %.2f %s",
		ts.Top[0].Score, ts.Top[1].Score, ts.Raw, ts.Value, kp.Raw, kp.Value, s.Gauge.Raw, s.Gauge.Value, s.Gauge.Band)
	want := "drill 19.05 | talks 2.88 | taiwan_strait raw 16.17 gauge 7.01 | korean_peninsula raw 6.84 gauge 1.29 | east asia raw 19.59 gauge 10.11 calm"
	if got != want {
		t.Fatalf("worked example:\n got  %s\n want %s", got, want)
	}
}

func TestEventTimeDistrustsFutureDates(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	e := ev(1, "military_exercise", "taiwan_strait", t0)
	e.Published = t0.Add(48 * time.Hour) // the feed claims a date after we fetched it
	if got := EventTime(e); !got.Equal(t0) {
		t.Fatalf("EventTime = %v, want the fetch time %v", got, t0)
	}
	hl := tx.TypeByID("military_exercise").HalfLife
	if s := ix.Score(e, t0.Add(hl)); math.Abs(s-tx.TypeByID("military_exercise").Weight/2) > 1e-9 {
		t.Fatalf("score one half-life after the fetch = %v: decay must run from the fetch time", s)
	}
}

func TestSectionsAndEastAsia(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	override := ev(1, "weapons_test", "korean_peninsula", t0)
	override.Classification.Section = "modernisation" // the classifier's section wins
	unknown := ev(2, "air_incursion", "taiwan_strait", t0)
	unknown.Classification.Section = "no_such_section" // falls back to the type's
	whole := ev(3, "coercive_statement", "east_asia", t0)
	for _, e := range []events.Event{override, unknown, whole} {
		if !ix.Add(e) {
			t.Fatalf("%s not added", e.Classification.Type)
		}
	}
	s := ix.Snapshot(t0, 5)
	for cat, want := range map[string]int{"modernisation": 1, "arms_race": 0, "flashpoints": 1, "escalation_risk": 1} {
		if got := s.Categories[cat].Events; got != want {
			t.Errorf("category %s holds %d events, want %d", cat, got, want)
		}
	}
	// An east_asia event counts in east_asia and the whole gauge, nowhere else.
	for id, n := range s.Regions {
		want := map[string]int{"korean_peninsula": 1, "taiwan_strait": 1, "east_asia": 1}[id]
		if n.Events != want {
			t.Errorf("region %s holds %d events, want %d", id, n.Events, want)
		}
	}
	if s.Gauge.Events != 3 || s.Regions["east_asia"].Value <= 0 {
		t.Errorf("East Asia gauge %+v, east_asia region %+v", s.Gauge, s.Regions["east_asia"])
	}
	if len(s.Regions) != 7 {
		t.Errorf("%d regions, want the taxonomy's 7", len(s.Regions))
	}
}

func TestTopOrderAndRounding(t *testing.T) {
	ix := New(events.DefaultTaxonomy())
	// Equal scores: the order falls back to the ID.
	for i := range 6 {
		ix.Add(ev(i, "maritime_patrol", "south_china_sea", t0))
	}
	big := ev(99, "maritime_patrol", "south_china_sea", t0)
	big.Classification.Magnitude.Ships = 30
	ix.Add(big)
	top := ix.Snapshot(t0.Add(7*time.Hour), 4).Regions["south_china_sea"].Top
	if len(top) != 4 || top[0].IncidentID != big.ID {
		t.Fatalf("top = %+v", top)
	}
	for i := 1; i < len(top)-1; i++ {
		if top[i].Score != top[i+1].Score || top[i].IncidentID >= top[i+1].IncidentID {
			t.Errorf("ties not ordered by ID: %+v", top)
		}
	}
	for _, c := range top {
		if c.Score != round(c.Score, 4) {
			t.Errorf("score %v not rounded to 4 decimals", c.Score)
		}
	}
	s := ix.Snapshot(t0.Add(7*time.Hour), 0)
	if v := s.Regions["south_china_sea"].Value; v != round(v, 2) || v <= 0 {
		t.Errorf("value %v not rounded to 2 decimals", v)
	}
}

func TestBandNames(t *testing.T) {
	tx := events.DefaultTaxonomy()
	for v, want := range map[float64]string{0: "calm", 29.99: "calm", 30: "elevated", 59.99: "elevated", 60: "high", 80: "severe", 100: "severe"} {
		if got := tx.Band(v); got != want {
			t.Errorf("Band(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestConcurrentUse is meant for `go test -race`: writers, snapshots and
// queries at once.
func TestConcurrentUse(t *testing.T) {
	ix := New(events.DefaultTaxonomy())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				ix.Add(ev(i*4+w, "air_incursion", "taiwan_strait", t0.Add(time.Duration(i)*time.Minute)))
				ix.Add(ev(i*4+w, "air_incursion", "taiwan_strait", t0.Add(time.Duration(i)*time.Minute)))
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 50 {
				ix.Snapshot(t0.Add(4*time.Hour), 3)
				ix.Events(Query{Region: "taiwan_strait", Limit: 10})
				ix.Len()
			}
		})
	}
	wg.Wait()
	if ix.Len() != 800 {
		t.Fatalf("holding %d events, want 800", ix.Len())
	}
}

func TestEventsNewestFirstTiesByID(t *testing.T) {
	ix := New(events.DefaultTaxonomy())
	for i := range 5 {
		ix.Add(ev(i, "sanction", "east_asia", t0)) // one instant
	}
	ix.Add(ev(9, "arms_transfer", "taiwan_strait", t0.Add(time.Hour)))
	got := ix.Events(Query{})
	if len(got) != 6 || got[0].Classification.Type != "arms_transfer" {
		t.Fatalf("newest first: %v", got)
	}
	for i := 1; i < len(got)-1; i++ {
		if got[i].ID >= got[i+1].ID {
			t.Fatalf("ties not ordered by ID")
		}
	}
	if n := len(ix.Events(Query{Type: "sanction", Limit: 3})); n != 3 {
		t.Errorf("type filter with limit 3 gave %d", n)
	}
}
