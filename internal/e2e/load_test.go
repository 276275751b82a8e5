package e2e

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/poller"
)

var (
	loadFeeds    = flag.Int("load.feeds", 2000, "feeds in TestLoad")
	loadInterval = flag.Duration("load.interval", 5*time.Minute, "poll interval in TestLoad")
	loadDuration = flag.Duration("load.duration", 20*time.Second, "how long TestLoad runs")
)

// TestLoad polls many feeds from one local server through the collector and
// the embedded broker, and reports CPU, memory and produce rate. CI runs a
// short version; BENCHMARKS.md has the command for the full one.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	n, interval := *loadFeeds, *loadInterval
	var requests, newItems atomic.Int64
	began := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// Every feed gains one relevant item per interval; a third of the
		// requests are answered 304 as real servers do.
		id := strings.TrimPrefix(r.URL.Path, "/")
		gen := int(time.Since(began)/interval) + 1
		etag := fmt.Sprintf(`"%s-%d"`, id, gen)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link><description>d</description>`)
		for g := max(1, gen-20); g <= gen; g++ {
			fmt.Fprintf(&b, `<item><title>China's navy holds drills near Taiwan, %s update k%dk</title><link>https://x.example/%s/%d</link><guid>%s-%d</guid><description>PLA warships and aircraft, report %d.</description></item>`, id, g, id, g, id, g, g)
		}
		b.WriteString(`</channel></rss>`)
		newItems.Add(1)
		w.Write([]byte(b.String()))
	}))
	defer srv.Close()

	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	feeds := &feedlist.List{AllowPrivateAddresses: true}
	for i := range n {
		feeds.Feeds = append(feeds.Feeds, feedlist.Feed{ID: fmt.Sprintf("f%d", i), URL: fmt.Sprintf("%s/f%d", srv.URL, i),
			Source: fmt.Sprintf("Outlet %d", i%50), Kind: "news", Credibility: 0.8, Interval: interval})
	}
	_, clf, _ := app.TaxonomyConfig{}.Load()
	reg := prometheus.NewRegistry()
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	col := start(func(ctx context.Context) error {
		return app.RunCollector(ctx, app.CollectorOptions{Feeds: feeds, Classifier: clf, Bus: bc, DataDir: t.TempDir(),
			Fetch: fetcher.Config{PerHostConcurrency: 32}, // one local host stands for thousands
			Poll:  poller.Config{StartSpread: interval}, Registry: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	})
	var peak uint64
	deadline := time.Now().Add(*loadDuration)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	col.stop(t)
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	elapsed := time.Since(began).Seconds()
	cpu := float64(ru1.Utime.Sec-ru0.Utime.Sec+ru1.Stime.Sec-ru0.Stime.Sec) + float64(ru1.Utime.Usec-ru0.Utime.Usec+ru1.Stime.Usec-ru0.Stime.Usec)/1e6
	mfs, _ := reg.Gather()
	var events, polls float64
	for _, mf := range mfs {
		switch mf.GetName() {
		case "tensionwatch_collector_events_produced_total":
			events = mf.GetMetric()[0].GetCounter().GetValue()
		case "tensionwatch_collector_polls_total":
			for _, m := range mf.GetMetric() {
				polls += m.GetCounter().GetValue()
			}
		}
	}
	t.Logf("%d feeds every %s for %.0f s: %d requests (%.1f/s), %.0f polls, %.0f events produced (%.1f/s), CPU %.1f s (%.0f%% of one core, test server included), peak heap %d MiB",
		n, interval, elapsed, requests.Load(), float64(requests.Load())/elapsed, polls, events, events/elapsed, cpu, 100*cpu/elapsed, peak>>20)
	expected := float64(n) * elapsed / interval.Seconds() * 0.5
	if polls < expected {
		t.Errorf("only %.0f polls in %.0f s, expected at least %.0f", polls, elapsed, expected)
	}
}
