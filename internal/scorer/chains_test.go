package scorer

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// move is one event of the chains tests: who acted toward whom, where.
type move struct {
	i                    int
	typ, region          string
	actor, target, title string
	ago                  time.Duration
}

// sided encodes an event of outlet ("A" or "B") whose classification names
// its actor and target (wire v1 revision 1).
func sided(t *testing.T, m move, outlet string) []byte {
	t.Helper()
	at := now.Add(-m.ago)
	if outlet != "A" {
		at = at.Add(time.Minute) // A's report is the first: the incident's ID and link are A's
	}
	e := events.Event{
		ID:        events.ID("f"+outlet, fmt.Sprint("s", m.i), ""),
		Source:    events.Source{FeedID: "f" + outlet, Outlet: "Outlet " + outlet, Kind: events.KindNews, Credibility: 0.8},
		Link:      fmt.Sprintf("https://news%s.example.org/%d", outlet, m.i),
		Title:     m.title,
		Published: at, Fetched: at,
		Classification: events.Classification{Relevant: true, Type: m.typ, Region: m.region, Confidence: 0.9,
			Actor: m.actor, Target: m.target,
			Evidence: []events.Evidence{{Rule: "type:" + m.typ, Field: "title", Match: "x", Start: 0, End: 1}}},
	}
	b, err := events.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The moves of the chains tests. By the published rule (internal/chain:
// a move answers an earlier move of the other camp within the window that
// it is aimed at: its target is that move's actor or target, or, naming no
// target, in that move's region):
//   - the PLA drills around Taiwan answer the US visit to Taiwan (target
//     taiwan, the visit's target);
//   - Japan's protest answers the Russian bombers near Hokkaido (target
//     russia, the bombers' actor);
//   - the DPRK launch names no target, and no move of the other camp was
//     on the Korean peninsula before it: it answers nothing, and nothing
//     answers it.
var (
	visit   = move{1, "alliance_alignment", "taiwan_strait", "us", "taiwan", "US congressional delegation arrives in Taiwan for visit", 72 * time.Hour}
	bombers = move{2, "air_incursion", "sea_of_japan", "russia", "japan", "Russian bombers fly near Hokkaido, Japan scrambles jets", 50 * time.Hour}
	drills  = move{3, "military_exercise", "taiwan_strait", "prc", "taiwan", "PLA holds drills around Taiwan after US visit", 24 * time.Hour}
	protest = move{4, "coercive_statement", "sea_of_japan", "japan", "russia", "Japan protests Russian bomber flights", 20 * time.Hour}
	launch  = move{5, "weapons_test", "korean_peninsula", "dprk", "", "North Korea fires ballistic missile into the sea", 12 * time.Hour}
)

// apiChains is /api/v1/chains as a client reads it, by the documented
// field names.
type apiChains struct {
	ComputedAt         time.Time `json:"computed_at"`
	MethodologyVersion string    `json:"methodology_version"`
	Parameters         struct {
		Window   string   `json:"window"`
		MinLevel *float64 `json:"min_level"`
	} `json:"parameters"`
	Sides []struct {
		ID, Name, Camp string
	} `json:"sides"`
	Dyads []struct {
		ID        string   `json:"id"`
		Name      string   `json:"name"`
		A         []string `json:"a"`
		B         []string `json:"b"`
		Value     float64  `json:"value"`
		Band      string   `json:"band"`
		Incidents int      `json:"incidents"`
	} `json:"dyads"`
	LongestLive int `json:"longest_live"`
	Count       int `json:"count"`
	Chains      []struct {
		Live   bool `json:"live"`
		Length int  `json:"length"`
		Moves  []struct {
			IncidentID string    `json:"incident_id"`
			Title      string    `json:"title"`
			Link       string    `json:"link"`
			Start      time.Time `json:"start"`
			Actor      string    `json:"actor"`
			Target     string    `json:"target"`
			Dyad       string    `json:"dyad"`
			Answering  string    `json:"answering"`
		} `json:"moves"`
		Summary string `json:"summary"`
	} `json:"chains"`
}

func getChains(t *testing.T, base, query string) apiChains {
	t.Helper()
	code, body := get(t, base+"/api/v1/chains"+query)
	if code != 200 {
		t.Fatalf("/api/v1/chains%s: %d %s", query, code, body)
	}
	var r apiChains
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/api/v1/chains%s: %v in %s", query, err, body)
	}
	return r
}

// titles lists a chain's moves' titles, oldest first.
func (r apiChains) titles(i int) []string {
	var out []string
	for _, m := range r.Chains[i].Moves {
		out = append(out, m.Title)
	}
	return out
}

// applyMoves applies the moves to a scorer that hears from a collector
// (not blind), unless blind.
func applyMoves(t *testing.T, s *Scorer, blind bool, ms ...move) {
	t.Helper()
	if !blind {
		if err := s.Heartbeat(beat(t, now, 1, 1)); err != nil {
			t.Fatal(err)
		}
	}
	// Two outlets report each move: a move one outlet reported is answered
	// by none (chains.min_outlets).
	for _, m := range ms {
		for _, outlet := range []string{"A", "B"} {
			if err := s.Apply(sided(t, m, outlet), now); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestChainsAPI builds the chains through the real index and checks
// /api/v1/chains: the two chains the published rule draws, oldest move
// first, live, with their newest-first summary; the unrelated DPRK launch in
// none; the taxonomy's sides and dyads with their numbers; the parameters.
func TestChainsAPI(t *testing.T) {
	s, srv := newScorer(t)
	applyMoves(t, s, false, visit, bombers, drills, protest, launch)
	tx := events.DefaultTaxonomy()

	r := getChains(t, srv.URL, "")
	if r.Parameters.Window != tx.Chains.Window.String() || r.Parameters.MinLevel == nil || *r.Parameters.MinLevel != tx.Chains.MinLevel {
		t.Errorf("parameters %+v, want window %s and min_level %v", r.Parameters, tx.Chains.Window, tx.Chains.MinLevel)
	}
	if !r.ComputedAt.Equal(now) || r.MethodologyVersion != tx.Version {
		t.Errorf("computed_at %v, methodology_version %q; want %v and %q", r.ComputedAt, r.MethodologyVersion, now, tx.Version)
	}
	if len(r.Sides) != len(tx.Sides) || len(r.Sides) == 0 {
		t.Fatalf("%d sides, want the taxonomy's %d", len(r.Sides), len(tx.Sides))
	}
	for i, sd := range r.Sides {
		if sd.ID != tx.Sides[i].ID || sd.Name != tx.Sides[i].Name || sd.Camp != tx.Sides[i].Camp {
			t.Errorf("sides[%d] = %+v, want %+v", i, sd, tx.Sides[i])
		}
	}

	if r.Count != 2 || len(r.Chains) != 2 || r.LongestLive != 2 {
		t.Fatalf("count %d, %d chains, longest_live %d; want the two chains of two moves: %+v", r.Count, len(r.Chains), r.LongestLive, r.Chains)
	}
	// Live first, then by their last move, newest first: Japan's protest
	// (20 h ago) before the drills (24 h ago).
	for i, want := range [][]string{{bombers.title, protest.title}, {visit.title, drills.title}} {
		c := r.Chains[i]
		if got := r.titles(i); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("chain %d is %q, want %q (oldest first)", i, got, want)
		}
		if !c.Live || c.Length != len(c.Moves) || c.Length != 2 {
			t.Errorf("chain %d: live %v, length %d, %d moves; want live, 2", i, c.Live, c.Length, len(c.Moves))
		}
		if len(c.Moves) == 2 && (c.Moves[1].Answering != c.Moves[0].IncidentID || c.Moves[0].IncidentID == "" || c.Moves[0].Answering != "") {
			t.Errorf("chain %d: the second move answers %q, the first is %q and answers %q", i, c.Moves[1].Answering, c.Moves[0].IncidentID, c.Moves[0].Answering)
		}
	}
	taiwan := r.Chains[1]
	if want := "PLA holds drills around Taiwan after US visit, 21 Nov 2026 ← US congressional delegation arrives in Taiwan for visit, 19 Nov 2026"; taiwan.Summary != want {
		t.Errorf("summary %q, want %q", taiwan.Summary, want)
	}
	if m := taiwan.Moves[0]; m.Actor != "us" || m.Target != "taiwan" || m.Link != "https://newsA.example.org/1" || !m.Start.Equal(now.Add(-visit.ago)) {
		t.Errorf("the visit reads %+v", m)
	}
	if m := taiwan.Moves[1]; m.Actor != "prc" || m.Target != "taiwan" || m.Dyad != tx.DyadOf("prc", "taiwan", "taiwan_strait") || m.Dyad == "" {
		t.Errorf("the drills read %+v", m)
	}
	for i := range r.Chains {
		for _, title := range r.titles(i) {
			if title == launch.title {
				t.Errorf("the unrelated DPRK launch is in chain %d: %q", i, r.titles(i))
			}
		}
	}

	// Every dyad of the taxonomy, in its order, with the snapshot's number;
	// the dyads of the five moves (by the taxonomy's DyadOf) have incidents,
	// the others none.
	snap := s.Index().Snapshot(now, 0)
	busy := map[string]int{}
	for _, m := range []move{visit, bombers, drills, protest, launch} {
		busy[tx.DyadOf(m.actor, m.target, m.region)]++
	}
	if len(r.Dyads) != len(tx.Dyads) {
		t.Fatalf("%d dyads, want the taxonomy's %d", len(r.Dyads), len(tx.Dyads))
	}
	idle := 0
	for i, d := range r.Dyads {
		want := tx.Dyads[i]
		if d.ID != want.ID || d.Name != want.Name || strings.Join(d.A, ",") != strings.Join(want.A, ",") || strings.Join(d.B, ",") != strings.Join(want.B, ",") {
			t.Errorf("dyads[%d] = %+v, want the taxonomy's %+v", i, d, want)
		}
		n := snap.Dyads[d.ID]
		if d.Value != n.Value || d.Band != n.Band || d.Incidents != n.Incidents || d.Band == "" {
			t.Errorf("dyad %s: value %v band %q incidents %d; the index's snapshot %v %q %d", d.ID, d.Value, d.Band, d.Incidents, n.Value, n.Band, n.Incidents)
		}
		if (d.Incidents > 0) != (busy[d.ID] > 0) || d.Incidents != busy[d.ID] || (d.Value > 0) != (busy[d.ID] > 0) {
			t.Errorf("dyad %s: %d incidents, value %v; want the %d of the moves in it", d.ID, d.Incidents, d.Value, busy[d.ID])
		}
		if d.Incidents == 0 {
			idle++
		}
	}
	if idle == 0 || idle == len(r.Dyads) {
		t.Errorf("%d of %d dyads idle: the test's moves should leave some idle and some not", idle, len(r.Dyads))
	}
}

// TestChainsAPIQuery checks live=, limit= and at= and the 400s.
func TestChainsAPIQuery(t *testing.T) {
	s, srv := newScorer(t)
	applyMoves(t, s, false, visit, bombers, drills, protest, launch)

	if r := getChains(t, srv.URL, "?limit=1"); r.Count != 2 || len(r.Chains) != 1 || r.Chains[0].Moves[1].Title != protest.title {
		t.Errorf("limit=1: count %d, chains %+v; want the newest of two", r.Count, r.Chains)
	}
	if r := getChains(t, srv.URL, "?limit=0"); r.Count != 2 || r.Chains == nil || len(r.Chains) != 0 || r.LongestLive != 2 || len(r.Dyads) == 0 {
		t.Errorf("limit=0: count %d, chains %v, longest_live %d, %d dyads; want no chains but the rest", r.Count, r.Chains, r.LongestLive, len(r.Dyads))
	}
	if r := getChains(t, srv.URL, "?live=true&limit=50"); r.Count != 2 || len(r.Chains) != 2 {
		t.Errorf("live=true: %d chains, want both (both live)", len(r.Chains))
	}

	// The drills' chain ends 2 h before Japan's (the drills are 24 h old,
	// the protest 20 h): at the drills' window plus an hour it is ended,
	// Japan's still live.
	win := events.DefaultTaxonomy().Chains.Window
	later := now.Add(win - drills.ago + time.Hour)
	at := "?at=" + url.QueryEscape(later.Format(time.RFC3339))
	all := getChains(t, srv.URL, at)
	if !all.ComputedAt.Equal(later) || all.Count != 2 || len(all.Chains) != 2 || all.LongestLive != 2 {
		t.Fatalf("at=%v: computed_at %v, count %d, longest_live %d", later, all.ComputedAt, all.Count, all.LongestLive)
	}
	if !all.Chains[0].Live || all.Chains[1].Live || all.Chains[0].Moves[1].Title != protest.title || all.Chains[1].Moves[1].Title != drills.title {
		t.Errorf("at=%v: chains %+v; want Japan's live first, then the drills' ended", later, all.Chains)
	}
	live := getChains(t, srv.URL, at+"&live=true")
	if live.Count != 1 || len(live.Chains) != 1 || live.Chains[0].Moves[1].Title != protest.title {
		t.Errorf("at=%v&live=true: %+v; want Japan's chain only", later, live.Chains)
	}
	if r := getChains(t, srv.URL, at+"&live=false"); r.Count != 2 {
		t.Errorf("live=false: %d chains, want all 2", r.Count)
	}
	// A window after the protest, no chain is live.
	if r := getChains(t, srv.URL, "?live=1&at="+url.QueryEscape(now.Add(win).Format(time.RFC3339))); r.Count != 0 || r.LongestLive != 0 || len(r.Chains) != 0 {
		t.Errorf("a window on: %d live chains, longest_live %d", r.Count, r.LongestLive)
	}
	// Before the drills and the protest, nothing answered anything yet.
	if r := getChains(t, srv.URL, "?at="+url.QueryEscape(now.Add(-30*time.Hour).Format(time.RFC3339))); r.Count != 0 || r.LongestLive != 0 {
		t.Errorf("30 h ago: %d chains, longest_live %d; want none", r.Count, r.LongestLive)
	}
	// The served numbers did not move.
	if r := getChains(t, srv.URL, ""); !r.ComputedAt.Equal(now) || r.Count != 2 {
		t.Errorf("after the at= queries the served chains read %v, %d", r.ComputedAt, r.Count)
	}

	for _, q := range []string{"at=yesterday", "live=maybe", "limit=-1", "limit=51", "limit=x", "at=2026-11-22"} {
		code, body := get(t, srv.URL+"/api/v1/chains?"+q)
		var e struct{ Error string }
		json.Unmarshal([]byte(body), &e)
		name := strings.SplitN(q, "=", 2)[0]
		if code != 400 || !strings.HasPrefix(e.Error, name+": want") {
			t.Errorf("chains?%s: %d %s; want 400 with an error naming %s", q, code, body, name)
		}
	}
}

// TestAnsweringLink checks /api/v1/index: the drills' contribution names
// the visit it answers, with its link, actor and start; the visit and the
// unrelated launch answer nothing; and the dyads are there, cut to top=.
func TestAnsweringLink(t *testing.T) {
	s, srv := newScorer(t)
	applyMoves(t, s, false, visit, drills, launch)
	code, body := get(t, srv.URL+"/api/v1/index?top=5")
	if code != 200 {
		t.Fatal(code, body)
	}
	var r struct {
		Regions map[string]struct {
			Top []struct {
				IncidentID string `json:"incident_id"`
				Title      string `json:"title"`
				Actor      string `json:"actor"`
				Target     string `json:"target"`
				Dyad       string `json:"dyad"`
				Answering  *struct {
					IncidentID string    `json:"incident_id"`
					Title      string    `json:"title"`
					Link       string    `json:"link"`
					Actor      string    `json:"actor"`
					Start      time.Time `json:"start"`
				} `json:"answering"`
			} `json:"top"`
		} `json:"regions"`
		Dyads map[string]struct {
			Value float64           `json:"value"`
			Top   []json.RawMessage `json:"top"`
		} `json:"dyads"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	byTitle := map[string]int{}
	visitID := ""
	for _, reg := range r.Regions {
		for _, c := range reg.Top {
			byTitle[c.Title]++
			switch c.Title {
			case visit.title:
				visitID = c.IncidentID
				if c.Answering != nil || c.Actor != "us" || c.Target != "taiwan" {
					t.Errorf("the visit: actor %q target %q answering %+v", c.Actor, c.Target, c.Answering)
				}
			case launch.title:
				if c.Answering != nil || c.Actor != "dprk" || c.Target != "" || c.Dyad == "" {
					t.Errorf("the launch: actor %q target %q dyad %q answering %+v", c.Actor, c.Target, c.Dyad, c.Answering)
				}
			}
		}
	}
	found := false
	for _, c := range r.Regions["taiwan_strait"].Top {
		if c.Title != drills.title {
			continue
		}
		found = true
		a := c.Answering
		if a == nil || a.IncidentID != visitID || visitID == "" || a.Title != visit.title || a.Link != "https://newsA.example.org/1" || a.Actor != "us" || !a.Start.Equal(now.Add(-visit.ago)) {
			t.Errorf("the drills answer %+v, want the visit %s", a, visitID)
		}
	}
	if !found || byTitle[visit.title] != 1 || byTitle[launch.title] != 1 {
		t.Fatalf("the index lists %v", byTitle)
	}
	tx := events.DefaultTaxonomy()
	if len(r.Dyads) != len(tx.Dyads) {
		t.Errorf("%d dyads in /api/v1/index, want %d", len(r.Dyads), len(tx.Dyads))
	}
	busy := 0
	for id, d := range r.Dyads {
		if d.Value > 0 {
			busy++
		}
		if len(d.Top) > 5 {
			t.Errorf("dyad %s lists %d contributions with top=5", id, len(d.Top))
		}
	}
	if busy == 0 {
		t.Error("no dyad moved")
	}
	// top=0 cuts the dyads' contributions too.
	_, body = get(t, srv.URL+"/api/v1/index?top=0")
	json.Unmarshal([]byte(body), &r)
	for id, d := range r.Dyads {
		if len(d.Top) != 0 {
			t.Errorf("top=0: dyad %s lists %d contributions", id, len(d.Top))
		}
	}
}

// TestChainMetrics scrapes /metrics: every dyad is exported from the start
// at 0, as is the longest live chain; after the moves, each dyad's gauge is
// its number in the API and the longest live chain has two incidents.
func TestChainMetrics(t *testing.T) {
	s, srv := newScorer(t)
	tx := events.DefaultTaxonomy()
	m := testtool.ScrapeMetrics(t, srv.URL+"/metrics")
	if n := len(m.Series("tensionwatch_dyad_index")); n != len(tx.Dyads) || n == 0 {
		t.Errorf("%d dyad series, want the taxonomy's %d", n, len(tx.Dyads))
	}
	for _, d := range tx.Dyads {
		if v, ok := m.Value("tensionwatch_dyad_index", "dyad", d.ID); !ok || v != 0 {
			t.Errorf("tensionwatch_dyad_index{dyad=%q} = %v (present %v) before any event, want 0", d.ID, v, ok)
		}
	}
	if v, ok := m.Value("tensionwatch_chain_longest_live_incidents"); !ok || v != 0 {
		t.Errorf("tensionwatch_chain_longest_live_incidents = %v (present %v) before any event, want 0", v, ok)
	}
	for _, name := range []string{"tensionwatch_dyad_index", "tensionwatch_chain_longest_live_incidents"} {
		if typ := m.Type(name); typ != "gauge" {
			t.Errorf("%s is a %q, want a gauge", name, typ)
		}
	}

	applyMoves(t, s, false, visit, bombers, drills, protest, launch)
	m = testtool.ScrapeMetrics(t, srv.URL+"/metrics")
	if v, _ := m.Value("tensionwatch_chain_longest_live_incidents"); v != 2 {
		t.Errorf("tensionwatch_chain_longest_live_incidents = %v, want 2", v)
	}
	r := getChains(t, srv.URL, "")
	moved := 0
	for _, d := range r.Dyads {
		v, ok := m.Value("tensionwatch_dyad_index", "dyad", d.ID)
		if !ok || v != d.Value {
			t.Errorf("tensionwatch_dyad_index{dyad=%q} = %v (present %v), the API %v", d.ID, v, ok, d.Value)
		}
		if v > 0 {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no dyad gauge moved after the moves")
	}
	// The metrics say what they are.
	_, body := get(t, srv.URL+"/metrics")
	for _, help := range []string{"# HELP tensionwatch_dyad_index Tension sub-index of a dyad", "# HELP tensionwatch_chain_longest_live_incidents Incidents in the longest live action-reaction chain"} {
		if !strings.Contains(body, help) {
			t.Errorf("/metrics lacks %q", help)
		}
	}

	// A chain ends when its last move is older than the window: the gauge
	// falls to 0 on the next refresh.
	s.Refresh(now.Add(events.DefaultTaxonomy().Chains.Window + time.Hour))
	m = testtool.ScrapeMetrics(t, srv.URL+"/metrics")
	if v, ok := m.Value("tensionwatch_chain_longest_live_incidents"); !ok || v != 0 {
		t.Errorf("a window after the last move, tensionwatch_chain_longest_live_incidents = %v, want 0", v)
	}
}

// TestChainsBlind: while no collector is heard from, every dyad's band is
// no_data, as every band of /api/v1/index is.
func TestChainsBlind(t *testing.T) {
	s, srv := newScorer(t)
	applyMoves(t, s, true, visit, drills)
	r := getChains(t, srv.URL, "")
	for _, d := range r.Dyads {
		if d.Band != NoData {
			t.Errorf("blind: dyad %s band %q, want %s", d.ID, d.Band, NoData)
		}
	}
	if code, body := get(t, srv.URL+"/api/v1/index"); code != 200 || strings.Contains(body, `"band": "calm"`) {
		t.Errorf("blind /api/v1/index: %d, shows a calm band", code)
	}
	// The served snapshot keeps its bands: once a collector is heard from,
	// no reader sees the no_data that blind answers wrote.
	s.Heartbeat(beat(t, now, 1, 1))
	r = getChains(t, srv.URL, "")
	for _, d := range r.Dyads {
		if d.Band == NoData || d.Band != s.tx.Band(d.Value) {
			t.Errorf("watched: dyad %s band %q at %v, want %q", d.ID, d.Band, d.Value, s.tx.Band(d.Value))
		}
	}
	_, body := get(t, srv.URL+"/api/v1/index")
	if strings.Contains(body, NoData) {
		t.Error("watched: /api/v1/index still shows no_data after blind answers")
	}
}
