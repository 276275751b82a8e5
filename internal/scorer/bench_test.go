package scorer

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// benchScorer holds 10,000 events of stories spread over 28 days.
func benchScorer(b *testing.B) *Scorer {
	s := New(Config{Now: func() time.Time { return now }}, events.DefaultTaxonomy(), prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	r := rand.New(rand.NewPCG(1, 2))
	types := []string{"military_exercise", "air_incursion", "maritime_patrol", "weapons_test", "coercive_statement", "diplomatic_engagement"}
	regions := []string{"taiwan_strait", "east_china_sea", "korean_peninsula", "south_china_sea", "sea_of_japan"}
	for i := range 10000 {
		story := r.IntN(1700)
		at := now.Add(-28 * 24 * time.Hour).Add(time.Duration(story) * 28 * 24 * time.Hour / 1700).Add(time.Duration(r.Int64N(int64(48 * time.Hour))))
		if at.After(now) {
			at = now
		}
		e := events.Event{
			ID:     events.ID("f", fmt.Sprint(i), ""),
			Source: events.Source{FeedID: "f", Outlet: fmt.Sprint("o", r.IntN(6)), Kind: events.KindNews, Credibility: 0.8},
			Link:   fmt.Sprintf("https://x/%d", i), Title: fmt.Sprintf("story%d word%d report", story, story%9),
			Published: at, Fetched: at,
			Classification: events.Classification{Relevant: true, Type: types[story%len(types)], Region: regions[story%len(regions)], Confidence: 1},
		}
		v, err := events.Marshal(e)
		if err != nil {
			b.Fatal(err)
		}
		s.Apply(v, at)
	}
	return s
}

// BenchmarkHistory720 serves /api/v1/history?hours=720 over 10,000 events
// spread over 28 days: "first" is the first request (every hour computed),
// "cached" the next ones (the page asks every 15 s).
func BenchmarkHistory720(b *testing.B) {
	get := func(s *Scorer) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/history?hours=720", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	b.Run("first", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s := benchScorer(b)
			s.Snapshot(now, 0) // the clustering is up to date, as in a running scorer
			b.StartTimer()
			get(s)
		}
	})
	b.Run("cached", func(b *testing.B) {
		s := benchScorer(b)
		get(s)
		for b.Loop() {
			get(s)
		}
	})
}
