package index

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func ev(i int, typ, region string, at time.Time) events.Event {
	return events.Event{
		ID:        events.ID("f", fmt.Sprintf("guid-%d", i), ""),
		Source:    events.Source{FeedID: "f", Outlet: "O", Kind: events.KindNews, Credibility: 1},
		Title:     fmt.Sprintf("k%dk q%dq", i, i), // unique words: one incident per event
		Link:      fmt.Sprintf("https://x/%d", i),
		Published: at, Fetched: at,
		Classification: events.Classification{Relevant: true, Type: typ, Region: region, Confidence: 1},
	}
}

func TestDecayHalvesAtHalfLife(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	e := ev(1, "military_exercise", "taiwan_strait", t0)
	ty := tx.TypeByID("military_exercise")
	s0, s1 := ix.Score(e, t0), ix.Score(e, t0.Add(ty.HalfLife))
	if math.Abs(s1-s0/2) > 1e-9 || math.Abs(s0-ty.Level*tx.Index.Corroboration[0]) > 1e-9 {
		t.Fatalf("score at 0 = %v, at half-life = %v (level %v, one outlet)", s0, s1, ty.Level)
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
	esc := tx.TypeByID("military_exercise").Level * tx.Index.Corroboration[0]
	want := round(esc*(1-tx.Index.MaxDeescalation), 2)
	if got := s.Regions["taiwan_strait"].Value; got != want {
		t.Fatalf("value = %v, want %v: talks may cancel only part of the escalation", got, want)
	}
	if got := s.Categories["de_escalation"].Value; got <= 0 {
		t.Errorf("the de-escalation section reads %v with 18 talks held", got)
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

// TestClassesSetTheLevel: what happened, not how much was written, sets an
// incident's level; incidents of one class in one region read as the
// strongest of them, and routine news adds at most 1/(1−aggregation) of
// its largest item.
func TestClassesSetTheLevel(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	small := ev(1, "air_incursion", "taiwan_strait", t0)
	big := ev(2, "air_incursion", "taiwan_strait", t0)
	big.Classification.Magnitude = events.Magnitude{Aircraft: 71}
	if got, want := ix.Score(small, t0), tx.TypeByID("air_incursion").Level*tx.Index.Corroboration[0]; got != want {
		t.Errorf("a routine incursion scores %v, want its type's level × one outlet = %v", got, want)
	}
	if k := tx.ClassOf(big.Classification); k == nil || k.ID != "mass_air_incursion" || ix.Score(big, t0) != k.Level*tx.Index.Corroboration[0] {
		t.Fatalf("71 aircraft: class %+v, score %v", k, ix.Score(big, t0))
	}
	for i := range 30 { // thirty separate mass incursions read as one
		e := ev(100+i, "air_incursion", "taiwan_strait", t0)
		e.Classification.Magnitude.Aircraft = 70
		ix.Add(e)
	}
	s := ix.Snapshot(t0, 1).Regions["taiwan_strait"]
	if want := round(tx.ClassOf(big.Classification).Level*tx.Index.Corroboration[0], 2); s.Value != want || s.Incidents != 30 {
		t.Fatalf("30 mass incursions: %+v, want value %v", s, want)
	}
	// Routine: a hundred statements, sanctions and patrols of many classes
	// in one region never pass the bound, whatever their number.
	r := New(tx)
	types := []string{"coercive_statement", "sanction", "maritime_patrol", "strait_transit", "arms_transfer", "military_deployment", "alliance_alignment"}
	top := 0.0
	for i := range 100 {
		e := ev(1000+i, types[i%len(types)], "south_china_sea", t0)
		r.Add(e)
		top = max(top, r.Score(e, t0))
	}
	if v := r.Snapshot(t0, 0).Regions["south_china_sea"].Value; v > top/(1-tx.Index.Aggregation)+1e-9 || tx.Band(v) != "calm" {
		t.Errorf("a hundred routine items read %v (largest %v)", v, top)
	}
}

func TestCorroborationSaturates(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	c := tx.Index.Corroboration
	for _, tc := range []struct{ n, want float64 }{
		{0, 0}, {0.5, c[0] / 2}, {1, c[0]}, {1.5, (c[0] + c[1]) / 2}, {2, c[1]}, {3, 1}, {40, 1},
	} {
		if got := ix.corroboration(tc.n); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("corroboration(%v) = %v, want %v", tc.n, got, tc.want)
		}
	}
	// An outlet below full credibility counts as part of one.
	e := ev(1, "sanction", "east_asia", t0)
	e.Source.Credibility = tx.Index.FullCredibility / 2
	if got := ix.Score(e, t0); math.Abs(got-tx.TypeByID("sanction").Level*c[0]/2) > 1e-9 {
		t.Errorf("half-credible outlet: %v", got)
	}
}

func TestEastAsiaReadsAtLeastItsHottestRegion(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	over := ev(1, "weapons_test", "korean_peninsula", t0)
	over.Classification.Signals = []string{"over_japan"}
	ix.Add(over)
	for i := range 12 { // talks elsewhere do not cancel a crisis in Korea
		ix.Add(ev(10+i, "diplomatic_engagement", "south_china_sea", t0))
	}
	ix.Add(ev(2, "coercive_statement", "taiwan_strait", t0))
	s := ix.Snapshot(t0, 0)
	kp := s.Regions["korean_peninsula"].Value
	if s.Gauge.Value < kp || s.Gauge.Value > kp+20 {
		t.Fatalf("East Asia %v with the Korean Peninsula at %v", s.Gauge.Value, kp)
	}
	if s.Gauge.Band != "high" {
		t.Errorf("a missile over Japan alone reads %v (%s)", s.Gauge.Value, s.Gauge.Band)
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
	if len(got) != 2 || got[0].Title != "k8k q8q" || got[1].Title != "k6k q6q" {
		t.Fatalf("got %v", got)
	}
}

func BenchmarkAdd(b *testing.B) {
	ix := New(events.DefaultTaxonomy())
	i := 0
	for b.Loop() {
		ix.Add(ev(i, "military_exercise", "taiwan_strait", t0))
		i++
	}
}

func report(id, outlet, typ, region, title string, at time.Time) events.Event {
	e := ev(0, typ, region, at)
	e.ID = events.ID("f", id, "")
	e.Title = title
	e.Source.Outlet = outlet
	return e
}

func TestReportsOfOneIncidentAreScoredOnce(t *testing.T) {
	tx := events.DefaultTaxonomy()
	one, many := New(tx), New(tx)
	first := report("a", "Reuters", "weapons_test", "korean_peninsula", "North Korea fires ballistic missile into the sea", t0)
	one.Add(first)
	many.Add(first)
	for i, o := range []string{"AP", "BBC", "CNN", "NHK", "Yonhap", "AFP", "Kyodo"} {
		many.Add(report(fmt.Sprint("b", i), o, "weapons_test", "korean_peninsula",
			"North Korean ballistic missile falls into the sea", t0.Add(time.Duration(i+1)*time.Hour)))
	}
	// A different incident of the same type and region, and a report of the
	// same words after the incident closed, stay apart.
	many.Add(report("c", "AP", "weapons_test", "korean_peninsula", "Kim Jong Un inspects solid-fuel engine test", t0.Add(2*time.Hour)))
	many.Add(report("d", "AP", "weapons_test", "korean_peninsula", "North Korea fires ballistic missile into the sea", t0.Add(5*24*time.Hour)))
	incidents := many.Incidents()
	if len(incidents) != 3 || len(incidents[0].Reports)+len(incidents[1].Reports)+len(incidents[2].Reports) != 10 {
		t.Fatalf("got %d incidents", len(incidents))
	}
	now := t0.Add(8 * time.Hour)
	s1 := one.Snapshot(now, 1).Regions["korean_peninsula"]
	s8 := many.Snapshot(now, 1).Regions["korean_peninsula"]
	if s8.Top[0].Reports != 8 || len(s8.Top[0].Sources) != 8 || s8.Top[0].Outlets != 8 {
		t.Fatalf("top incident: %+v", s8.Top[0])
	}
	// Eight outlets give full confidence: 1/corroboration[0] times one
	// outlet's, no more, and later reports do not refresh the launch.
	if ratio, want := s8.Top[0].Score/s1.Top[0].Score, 1/tx.Index.Corroboration[0]; math.Abs(ratio-want) > 1e-3 {
		t.Errorf("eight outlets weigh %.3f× one, want %.3f", ratio, want)
	}
}

// TestOngoingDrillsStayFresh: drills reported on their third day are still
// going on.
func TestOngoingDrillsStayFresh(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	for d, title := range []string{"China begins military drills around Taiwan", "China continues military drills around Taiwan",
		"China ends military drills around Taiwan"} {
		e := report(fmt.Sprint("d", d), "Reuters", "military_exercise", "taiwan_strait", title, t0.Add(time.Duration(d)*24*time.Hour))
		e.Classification.Signals = []string{"around_taiwan"}
		ix.Add(e)
	}
	if n := len(ix.Incidents()); n != 1 {
		t.Fatalf("three days of drills: %d incidents", n)
	}
	day3 := ix.Snapshot(t0.Add(48*time.Hour), 0).Regions["taiwan_strait"].Value
	if want := round(tx.ClassOf(events.Classification{Type: "military_exercise", Region: "taiwan_strait", Signals: []string{"around_taiwan"}}).Level*tx.Index.Corroboration[0], 2); day3 != want {
		t.Errorf("the third day reads %v, want the drills' fresh level %v", day3, want)
	}
}

// TestLateReportsDoNotRefresh: the next day's report of yesterday's clash
// raises its confidence but does not make it happen again.
func TestLateReportsDoNotRefresh(t *testing.T) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	a := report("a", "CNA", "maritime_patrol", "south_china_sea", "China coast guard hits Philippine boat with water cannon", t0)
	a.Classification.Signals = []string{"water_cannon"}
	b := report("b", "Al Jazeera", "maritime_patrol", "south_china_sea", "Philippines says soldiers hurt by China water cannon", t0.Add(27*time.Hour))
	b.Classification.Signals = []string{"water_cannon"}
	ix.Add(a)
	ix.Add(b)
	if n := len(ix.Incidents()); n != 1 {
		t.Fatalf("%d incidents, want one", n)
	}
	day1 := ix.Snapshot(t0.Add(time.Hour), 0).Regions["south_china_sea"].Value
	day2 := ix.Snapshot(t0.Add(28*time.Hour), 0).Regions["south_china_sea"].Value
	if day2 >= day1 {
		t.Errorf("the region read %v the day after, %v on the day", day2, day1)
	}
}

// TestTwoLaunchesOnOneDayStayTwo: separate launches are separate incidents,
// however alike their headlines.
func TestTwoLaunchesOnOneDayStayTwo(t *testing.T) {
	ix := New(events.DefaultTaxonomy())
	launch := func(id, outlet, title string, at time.Time) {
		e := report(id, outlet, "weapons_test", "korean_peninsula", title, at)
		e.Classification.Signals = []string{"ballistic"}
		if strings.Contains(title, "another") {
			e.Classification.Signals = append(e.Classification.Signals, "repeat")
		}
		ix.Add(e)
	}
	launch("m1", "Yonhap", "North Korea fires ballistic missile into the sea", t0.Add(30*time.Minute))
	launch("m2", "NHK", "North Korea fires a ballistic missile, Japan says", t0.Add(50*time.Minute))
	launch("m3", "Yonhap", "North Korea fires another ballistic missile", t0.Add(9*time.Hour))
	launch("m4", "NHK", "North Korea fires another ballistic missile hours after first launch", t0.Add(9*time.Hour+20*time.Minute))
	ins := ix.Incidents()
	if len(ins) != 2 || len(ins[0].Reports) != 2 || len(ins[1].Reports) != 2 {
		for _, in := range ins {
			t.Logf("incident %s: %d reports", in.ID, len(in.Reports))
		}
		t.Fatalf("%d incidents, want two of two reports", len(ins))
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
	add := func(id, outlet string, cred float64, typ, region, title string, when time.Time, m events.Magnitude, signals ...string) {
		e := report(id, outlet, typ, region, title, when)
		e.Source.Credibility = cred
		e.Classification.Magnitude, e.Classification.Signals = m, signals
		ix.Add(e)
	}
	for i, o := range []string{"Reuters", "AP", "Focus Taiwan"} {
		add(fmt.Sprint("w", i), o, 0.8, "military_exercise", "taiwan_strait", "China holds live-fire drills around Taiwan", t0,
			events.Magnitude{LiveFire: true}, "around_taiwan")
	}
	add("w3", "Focus Taiwan", 0.8, "air_incursion", "taiwan_strait", "Taiwan tracks 45 Chinese military aircraft", t0.Add(3*time.Hour),
		events.Magnitude{Aircraft: 45})
	add("w4", "Yonhap", 0.85, "weapons_test", "korean_peninsula", "North Korea fires two ballistic missiles", t0,
		events.Magnitude{Missiles: 2}, "ballistic")
	add("w5", "Yonhap", 0.85, "diplomatic_engagement", "korean_peninsula", "Koreas restore military hotline", t0.Add(5*time.Hour), events.Magnitude{})
	s := ix.Snapshot(at, 5)
	ts, kp := s.Regions["taiwan_strait"], s.Regions["korean_peninsula"]
	var parts []string
	for _, c := range append(ts.Top, kp.Top...) {
		parts = append(parts, fmt.Sprintf("%s %.0f×%.2f→%.2f", c.Class, c.Level, c.Confidence, c.Score))
	}
	got := fmt.Sprintf("%s | taiwan_strait %.2f %s | korean_peninsula %.2f %s | east asia %.2f %s",
		strings.Join(parts, ", "), ts.Value, ts.Band, kp.Value, kp.Band, s.Gauge.Value, s.Gauge.Band)
	want := "encirclement_drills 70×1.00→66.07, mass_air_incursion 65×0.90→56.02, ballistic_launch 45×0.90→38.78, " +
		"diplomatic_engagement 12×0.90→10.70 | taiwan_strait 77.28 high | korean_peninsula 28.09 calm | east asia 78.40 high"
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
	if s := ix.Score(e, t0.Add(hl)); math.Abs(s-ix.Score(e, t0)/2) > 1e-9 {
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
	big.Classification.Signals = []string{"water_cannon"}
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

// TestMethodologyClassTable checks the class table of METHODOLOGY.md
// (section 2) against the taxonomy: the same classes, in the same order,
// with the same levels and bands.
func TestMethodologyClassTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "METHODOLOGY.md"))
	if err != nil {
		t.Fatal(err)
	}
	tx := events.DefaultTaxonomy()
	var rows []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `") {
			rows = append(rows, line)
		}
	}
	if len(rows) != len(tx.Classes) {
		t.Fatalf("METHODOLOGY.md lists %d classes, the taxonomy %d", len(rows), len(tx.Classes))
	}
	for i, k := range tx.Classes {
		cells := strings.Split(rows[i], "|")
		id, level, band := strings.Trim(strings.TrimSpace(cells[1]), "`"), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])
		if id != k.ID || level != fmt.Sprint(k.Level) || band != tx.Band(k.Level) {
			t.Errorf("METHODOLOGY.md row %d: %s %s %s; the taxonomy: %s %v %s", i+1, id, level, band, k.ID, k.Level, tx.Band(k.Level))
		}
	}
}

// TestIncidentIsToldByItsStrongestReport: an incident's title and link are
// those of the report that gave it its level (the first at its strongest
// class), not of its first report; its time stays its first report's.
func TestIncidentIsToldByItsStrongestReport(t *testing.T) {
	ix := New(events.DefaultTaxonomy())
	ix.Add(report("a", "Focus Taiwan", "military_exercise", "taiwan_strait", "Taiwan tracks Chinese aircraft and ships around Taiwan", t0))
	drills := report("b", "Reuters", "military_exercise", "taiwan_strait", "China encircles Taiwan with live-fire drills around Taiwan", t0.Add(time.Hour))
	drills.Classification.Signals = []string{"encirclement", "around_taiwan"}
	drills.Classification.Magnitude.LiveFire = true
	ix.Add(drills)
	ix.Add(report("c", "AP", "military_exercise", "taiwan_strait", "Chinese aircraft and ships around Taiwan, Taiwan says", t0.Add(2*time.Hour)))
	if n := len(ix.Incidents()); n != 1 {
		t.Fatalf("%d incidents, want the three reports in one", n)
	}
	top := ix.Snapshot(t0.Add(3*time.Hour), 1).Regions["taiwan_strait"].Top[0]
	if top.Title != drills.Title || top.Link != drills.Link || top.Outlet != "Reuters" {
		t.Errorf("the incident is told by %q (%s, %s), want the encirclement report", top.Title, top.Outlet, top.Link)
	}
	if !top.Published.Equal(t0) || top.Reports != 3 {
		t.Errorf("published %v with %d reports, want the first report's time and 3", top.Published, top.Reports)
	}
}
