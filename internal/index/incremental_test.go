package index

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// stream is synthetic news as feeds deliver it: stories (drills over days,
// launches, patrols, statements) told by several outlets in overlapping
// words, each report fetched late by minutes, hours or, rarely, days, and
// the whole in order of fetching. Stories of one type and region overlap
// in time, so reports cluster, straddle day boundaries and arrive late.
func stream(seed uint64, n int, span, longest time.Duration) []events.Event {
	return streamLate(seed, n, span, longest, pessimistic)
}

// lateness is how late reports are fetched: the share fetched up to 3
// days late and the share up to 6 hours late; the others come within
// half an hour.
type lateness struct{ days, hours float64 }

var (
	// pessimistic: 5 % up to 3 days, 15 % up to 6 hours late.
	pessimistic = lateness{0.05, 0.15}
	// typical of feeds polled every 15 minutes: 0.5 % up to 3 days (a
	// feed back from an outage, a think tank dating a piece by when it was
	// written), 4.5 % up to 6 hours.
	typical = lateness{0.005, 0.045}
)

func streamLate(seed uint64, n int, span, longest time.Duration, lt lateness) []events.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	rl := rand.New(rand.NewPCG(seed, 2))
	// Sides draw from their own source too. A story's reports mostly name
	// its actor (80 %), some none (15 %), a few the other camp's (5 %: a
	// reaction reusing the act's words, which is another incident).
	rs := rand.New(rand.NewPCG(seed, 3))
	pairs := [][2]string{{"prc", "taiwan"}, {"us", "prc"}, {"dprk", ""}, {"japan", "prc"}, {"taiwan", "prc"}, {"rok", "dprk"}}
	types := []string{"military_exercise", "air_incursion", "maritime_patrol", "weapons_test", "coercive_statement",
		"diplomatic_engagement", "military_incident", "alliance_alignment", "military_deployment"}
	regions := []string{"taiwan_strait", "east_china_sea", "south_china_sea", "korean_peninsula", "sea_of_japan", "east_asia"}
	outlets := []string{"Yonhap", "Kyodo", "Reuters", "AP", "Focus Taiwan", "NHK", "SCMP", "Xinhua"}
	common := strings.Fields("china japan korea taiwan navy army ships aircraft coast guard says report near sea strait defence ministry")
	type story struct {
		start time.Time
		dur   time.Duration
		typ   string
		reg   string
		words []string
		sides [2]string
	}
	var stories []story
	for i := range n / 6 {
		s := story{
			start: t0.Add(-span).Add(time.Duration(r.Int64N(int64(span)))),
			dur:   time.Duration(r.Int64N(int64(longest))),
			typ:   types[r.IntN(len(types))],
			reg:   regions[r.IntN(len(regions))],
			sides: pairs[rs.IntN(len(pairs))],
		}
		for j := range 5 {
			s.words = append(s.words, fmt.Sprintf("s%dw%d", i%(n/12+1), j)) // some stories share words
		}
		stories = append(stories, s)
	}
	out := make([]events.Event, 0, n)
	for i := range n {
		s := stories[r.IntN(len(stories))]
		at := s.start.Add(time.Duration(r.Int64N(int64(s.dur) + 1))).Truncate(time.Second)
		words := append([]string(nil), s.words[:2+r.IntN(3)]...)
		for range 3 {
			words = append(words, common[r.IntN(len(common))])
		}
		r.Shuffle(len(words), func(a, b int) { words[a], words[b] = words[b], words[a] })
		// Lateness draws from its own source, so that streams of another
		// lateness hold the same events.
		late := time.Duration(rl.Int64N(int64(30 * time.Minute)))
		switch x := rl.Float64(); {
		case x < lt.days:
			late = time.Duration(rl.Int64N(int64(72 * time.Hour)))
		case x < lt.days+lt.hours:
			late = time.Duration(rl.Int64N(int64(6 * time.Hour)))
		}
		e := ev(i, s.typ, s.reg, at)
		e.Title = strings.Join(words, " ")
		e.Source.Outlet = outlets[r.IntN(len(outlets))]
		e.Source.Credibility = 0.5 + 0.5*r.Float64()
		e.Fetched = at.Add(late)
		switch x := rs.Float64(); {
		case x < 0.8:
			e.Classification.Actor, e.Classification.Target = s.sides[0], s.sides[1]
		case x < 0.85:
			e.Classification.Actor, e.Classification.Target = s.sides[1], s.sides[0]
			if s.sides[1] == "" {
				e.Classification.Actor, e.Classification.Target = "us", "dprk"
			}
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Fetched.Before(out[b].Fetched) })
	return out
}

// composition lists each incident as its report IDs.
func composition(ix *Index) []string {
	var out []string
	for _, in := range ix.Incidents() {
		ids := make([]string, len(in.Reports))
		for i, e := range in.Reports {
			ids[i] = e.ID[:8]
		}
		out = append(out, strings.Join(ids, ","))
	}
	return out
}

func snapJSON(t *testing.T, s Snapshot) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIncrementalClusteringIsExact feeds 45 days of late, interleaved news
// to one index as a live scorer would (snapshot and prune every 20
// arrivals, the clock at the latest fetch) and checks, every 400 arrivals,
// that its incidents and numbers are exactly those of a new index given the
// same events at once, as a restarted scorer would be: late events put in
// their place (reports moved, incidents gone and new), day-boundary prunes with incidents straddling the cutoff and
// the cached steps all included.
func TestIncrementalClusteringIsExact(t *testing.T) {
	// Dense news has incidents straddling every day's cutoff (the prune
	// redoes the next days until it converges); sparse news often has
	// none (the prune only drops).
	t.Run("dense", func(t *testing.T) { incrementalIsExact(t, stream(7, 4000, 45*24*time.Hour, 72*time.Hour), 20, 400) })
	t.Run("sparse", func(t *testing.T) { incrementalIsExact(t, stream(11, 600, 45*24*time.Hour, 4*time.Hour), 5, 50) })
}

func incrementalIsExact(t *testing.T, evs []events.Event, every, check int) {
	tx := events.DefaultTaxonomy()
	ix := New(tx)
	checks, prunes := 0, 0
	for i, e := range evs {
		ix.Add(e)
		if i%every != every-1 && i != len(evs)-1 {
			continue
		}
		now := e.Fetched
		if ix.Prune(now) > 0 {
			prunes++
		}
		ix.Snapshot(now, 3)
		if i%check != check-1 && i != len(evs)-1 {
			continue
		}
		checks++
		fresh := New(tx)
		for _, h := range ix.Events(Query{}) {
			fresh.Add(h)
		}
		fresh.Prune(now)
		if got, want := composition(ix), composition(fresh); !slices.Equal(got, want) {
			t.Fatalf("after %d arrivals: %d incidents incrementally, %d from scratch; first difference at %d",
				i+1, len(got), len(want), firstDiff(got, want))
		}
		if got, want := snapJSON(t, ix.Snapshot(now, 5)), snapJSON(t, fresh.Snapshot(now, 5)); got != want {
			t.Fatalf("after %d arrivals the snapshots differ:\n%s\n%s", i+1, got, want)
		}
		step := now.Truncate(time.Hour).Add(-7 * time.Hour)
		if got, want := snapJSON(t, ix.SnapshotNumbers(step)), snapJSON(t, fresh.SnapshotNumbers(step)); got != want {
			t.Fatalf("after %d arrivals the cached step %v differs", i+1, step)
		}
	}
	if prunes < 10 || checks < 10 {
		t.Fatalf("only %d prunes and %d checks: the stream does not exercise them", prunes, checks)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// forgetSteps empties the cache of steps, as a prune does.
func forgetSteps(ix *Index) {
	ix.cmu.Lock()
	clear(ix.steps)
	ix.cmu.Unlock()
}

// TestAddNeverWaitsForAReader holds the lock that snapshots take, as a
// long snapshot or history would, and adds events meanwhile: adding must
// not need it.
func TestAddNeverWaitsForAReader(t *testing.T) {
	ix := New(events.DefaultTaxonomy())
	evs := stream(3, 200, 5*24*time.Hour, 24*time.Hour)
	for _, e := range evs[:100] {
		ix.Add(e)
	}
	ix.cmu.Lock() // a reader in the middle of a snapshot
	done := make(chan struct{})
	go func() {
		for _, e := range evs[100:] {
			ix.Add(e)
		}
		ix.Known(evs[150].ID)
		ix.Len()
		ix.Events(Query{Limit: 5})
		ix.Prune(t0)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Add, Known, Len, Events or Prune waited for a snapshot in progress")
	}
	ix.cmu.Unlock()
	if got := ix.Snapshot(t0, 0); got.Gauge.Value <= 0 {
		t.Fatal("the events added while a reader held the clustering were lost")
	}
}
