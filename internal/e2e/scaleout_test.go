package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/poller"
)

// TestScaleOut runs a three-broker cluster, two collector shards and two
// scorer replicas: every feed is polled by exactly one shard, and both
// scorers report identical numbers.
func TestScaleOut(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Brokers: 3, Topic: bus.DefaultTopic, Partitions: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	if n := len(emb.Addrs()); n != 3 {
		t.Fatalf("%d brokers", n)
	}
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}

	// 12 feeds, each serving one relevant item; the server records which
	// shard (by User-Agent) polled which feed.
	var mu sync.Mutex
	pollers := map[string]map[string]bool{}
	titles := []string{
		"North Korea fires ballistic missile into the Sea of Japan", "China's military holds drills around Taiwan",
		"Chinese coast guard ships near Senkaku Islands", "US destroyer sails through Taiwan Strait",
		"China sanctions US defence firms over Taiwan arms sale", "Japan approves record defence budget",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/")
		mu.Lock()
		if pollers[id] == nil {
			pollers[id] = map[string]bool{}
		}
		pollers[id][r.UserAgent()] = true
		mu.Unlock()
		var n int
		fmt.Sscanf(id, "feed-%d", &n)
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>http://x/</link><description>d</description>
<item><title>%s (report z%dz)</title><link>https://x.example/%s</link><guid>%s</guid><pubDate>%s</pubDate></item></channel></rss>`,
			id, titles[n%len(titles)], n, id, id, time.Now().UTC().Format(time.RFC1123Z))
	}))
	defer srv.Close()
	all := &feedlist.List{AllowPrivateAddresses: true}
	for i := range 12 {
		all.Feeds = append(all.Feeds, feedlist.Feed{ID: fmt.Sprintf("feed-%d", i), URL: fmt.Sprintf("%s/feed-%d", srv.URL, i),
			Source: fmt.Sprintf("Outlet %d", i), Kind: "news", Credibility: 0.8, Interval: time.Hour})
	}

	scorerA, urlA := startScorer(t, bc)
	defer scorerA.stop(t)
	scorerB, urlB := startScorer(t, bc)
	defer scorerB.stop(t)
	_, clf, _ := app.TaxonomyConfig{}.Load()
	for shard := range 2 {
		feeds := &feedlist.List{AllowPrivateAddresses: true, Feeds: all.Shard(shard, 2)}
		if len(feeds.Feeds) == 0 {
			t.Fatalf("shard %d has no feeds", shard)
		}
		c := start(func(ctx context.Context) error {
			return app.RunCollector(ctx, app.CollectorOptions{Feeds: feeds, Classifier: clf, Bus: bc,
				DataDir: fmt.Sprintf("%s/shard-%d", dir, shard), Fetch: fetcher.Config{UserAgent: fmt.Sprintf("shard-%d", shard)},
				Poll: poller.Config{Jitter: 0.01}, Registry: prometheus.NewRegistry(), Log: testLogger(t)})
		})
		defer c.stop(t)
	}

	waitFor(t, "both scorers to hold all 12 events", 30*time.Second, func() bool {
		return len(listedLinks(t, urlA)) == 12 && len(listedLinks(t, urlB)) == 12
	})
	mu.Lock()
	for _, f := range all.Feeds {
		if len(pollers[f.ID]) != 1 {
			t.Errorf("%s was polled by %d shards: %v", f.ID, len(pollers[f.ID]), pollers[f.ID])
		}
	}
	mu.Unlock()
	at := time.Now().Truncate(time.Second)
	a, b := indexAt(t, urlA, at), indexAt(t, urlB, at)
	if string(normalise(a)) != string(normalise(b)) {
		t.Fatalf("the two scorers disagree:\n%s\n%s", a, b)
	}
}
