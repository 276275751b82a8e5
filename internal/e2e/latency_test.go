package e2e

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/poller"
)

var latencyItems = flag.Int("latency.items", 300, "items BenchmarkFetchToMetrics sends through the pipeline")

// growingFeed serves an RSS feed that gains `perPoll` new relevant items on
// every request, and records when each item was first served.
type growingFeed struct {
	mu      sync.Mutex
	next    int
	total   int
	perPoll int
	served  []time.Time // served[i]: when item i left the server
}

func (g *growingFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	n := min(g.next+g.perPoll, g.total)
	from := g.next
	g.next = n
	g.mu.Unlock()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>growing</title><link>http://x/</link><description>d</description>`)
	for i := max(0, n-50); i < n; i++ {
		fmt.Fprintf(&b, `<item><title>PLA warships hold live-fire drills near Taiwan, report %d</title><link>https://example.org/item/%d</link><guid>item-%d</guid><pubDate>%s</pubDate><description>China's navy sent warships toward the Taiwan Strait.</description></item>`,
			i, i, i, time.Now().UTC().Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Write([]byte(b.String()))
	now := time.Now()
	g.mu.Lock()
	for i := from; i < n; i++ {
		g.served[i] = now
	}
	g.mu.Unlock()
}

// BenchmarkFetchToMetrics measures, item by item, the time from the moment
// the feed server sent an item to the moment the scorer's /metrics counted
// it (tensionwatch_scorer_events_consumed_total), through the real collector,
// embedded broker and scorer. Run it once:
//
//	go test -run '^$' -bench BenchmarkFetchToMetrics -benchtime=1x ./internal/e2e/
func BenchmarkFetchToMetrics(b *testing.B) {
	for b.Loop() {
		p50, p99, max := fetchToMetrics(b, *latencyItems)
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(max.Microseconds())/1000, "max-ms")
	}
}

func fetchToMetrics(b *testing.B, items int) (p50, p99, maxd time.Duration) {
	dir := b.TempDir()
	g := &growingFeed{total: items, perPoll: 5, served: make([]time.Time, items)}
	srv := httptest.NewServer(g)
	defer srv.Close()

	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 6})
	if err != nil {
		b.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	scorer, base := startScorer(b, bc)
	defer scorer.stop(b)
	waitFor(b, "scorer ready", 20*time.Second, func() bool { c, err := httpGet(base + "/readyz"); return err == nil && c == 200 })

	feeds := &feedlist.List{AllowPrivateAddresses: true, Feeds: []feedlist.Feed{{
		ID: "growing", URL: srv.URL + "/feed.xml", Source: "growing", Kind: "news", Credibility: 0.8, Interval: 20 * time.Millisecond,
	}}}
	_, clf, err := app.TaxonomyConfig{}.Load()
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	col := start(func(ctx context.Context) error {
		return app.RunCollector(ctx, app.CollectorOptions{
			Feeds: feeds, Classifier: clf, Bus: bc, DataDir: dir,
			Poll: poller.Config{StartSpread: 0, Jitter: 0.01}, Registry: prometheus.NewRegistry(), Log: quiet,
		})
	})
	defer col.stop(b)

	seenAt := make([]time.Time, items)
	deadline := time.Now().Add(2 * time.Minute)
	seen := 0
	for seen < items {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d items reached /metrics in 2 minutes", seen, items)
		}
		v, ok := metric(b, base, "tensionwatch_scorer_events_consumed_total")
		now := time.Now()
		if ok {
			for ; seen < int(v) && seen < items; seen++ {
				seenAt[seen] = now
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	lat := make([]time.Duration, items)
	g.mu.Lock()
	for i := range items {
		lat[i] = seenAt[i].Sub(g.served[i])
	}
	g.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[items*50/100], lat[items*99/100], lat[items-1]
}
