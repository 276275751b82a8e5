package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/poller"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// tickingFeed publishes one new relevant item every tick, keeping the last
// 100 in the document, and remembers every item it has published.
type tickingFeed struct {
	mu        sync.Mutex
	start     time.Time
	tick      time.Duration
	window    int // items kept in the document; 0 means 100
	published int
}

func (f *tickingFeed) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.published
}

func (f *tickingFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	n := int(time.Since(f.start)/f.tick) + 1
	f.published = max(f.published, n)
	n = f.published
	f.mu.Unlock()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link><description>d</description>`)
	window := f.window
	if window == 0 {
		window = 100
	}
	for i := max(0, n-window); i < n; i++ {
		fmt.Fprintf(&b, `<item><title>North Korea fires ballistic missile number k%dk into the sea</title><link>https://x.example/tick/%d</link><guid>tick-%d</guid></item>`, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	w.Write([]byte(b.String()))
}

// distinctIDs counts the events in the topic (collectors' heartbeats
// aside): distinct event IDs, and messages.
func distinctIDs(t testing.TB, bc bus.Config) (distinct, total int) {
	ids := map[string]bool{}
	for _, m := range topicMessages(t, bc) {
		if bus.IsHeartbeat(m) {
			continue
		}
		e, err := events.Unmarshal(m.Value)
		if err != nil {
			t.Fatalf("invalid event in the topic: %v", err)
		}
		ids[e.ID] = true
		total++
	}
	return len(ids), total
}

func runCollector(t testing.TB, url string, bc bus.Config, dir string) *component {
	c, _ := runCollectorWithMetrics(t, url, bc, dir)
	return c
}

// runCollectorWithMetrics runs a collector polling url every 500 ms and
// returns it with the registry of its metrics.
func runCollectorWithMetrics(t testing.TB, url string, bc bus.Config, dir string) (*component, *prometheus.Registry) {
	feeds := &feedlist.List{AllowPrivateAddresses: true, Feeds: []feedlist.Feed{{
		ID: "tick", URL: url, Source: "Tick", Kind: "news", Credibility: 0.8, Interval: 500 * time.Millisecond}}}
	_, clf, _ := app.TaxonomyConfig{}.Load()
	reg := prometheus.NewRegistry()
	return start(func(ctx context.Context) error {
		return app.RunCollector(ctx, app.CollectorOptions{Feeds: feeds, Classifier: clf, Bus: bc, DataDir: dir,
			Poll:     poller.Config{Jitter: 0.01, BackoffBase: 200 * time.Millisecond, BackoffMax: 2 * time.Second},
			Registry: reg, Log: testLogger(t)})
	}), reg
}

// gathered returns the sum of the samples of a metric family whose labels
// include want (nil: all).
func gathered(t testing.TB, reg prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := want[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// TestBrokerOutage takes the (persistent) broker away for 30 seconds while
// the feed keeps publishing, and keeps only its last 5 items in the document:
// most items published during the outage leave the feed before Kafka is
// back. The feed is polled on its interval throughout (Kafka's failure is
// not the feed's: no backoff, no poll error, feed_up stays 1), the outbox
// holds the events, and once the broker is back every item is in the topic.
func TestBrokerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: takes 30 s")
	}
	dir := t.TempDir()
	port := freePort(t)
	_, p, _ := net.SplitHostPort(port)
	var portNum int
	fmt.Sscan(p, &portNum)
	cfg := bus.EmbeddedConfig{DataDir: filepath.Join(dir, "kafka"), Port: portNum, Topic: bus.DefaultTopic, Partitions: 3}
	emb, err := bus.StartEmbedded(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	feed := &tickingFeed{start: time.Now(), tick: time.Second, window: 5}
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		feed.ServeHTTP(w, r)
	}))
	defer srv.Close()
	col, reg := runCollectorWithMetrics(t, srv.URL, bc, dir)
	defer col.stop(t)

	waitFor(t, "the first items in the topic", 20*time.Second, func() bool { d, _ := distinctIDs(t, bc); return d > 0 })
	emb.Close()
	t.Log("broker down")
	downAt, reqs0, errs0 := time.Now(), requests.Load(), gathered(t, reg, "tensionwatch_collector_polls_total", map[string]string{"result": "error"})
	time.Sleep(30 * time.Second)
	polls, errs := requests.Load()-reqs0, gathered(t, reg, "tensionwatch_collector_polls_total", map[string]string{"result": "error"})-errs0
	queued := gathered(t, reg, "tensionwatch_collector_outbox_events", nil)
	up := gathered(t, reg, "tensionwatch_collector_feed_up", nil)
	t.Logf("during %s without Kafka: %d polls, %v poll errors, feed_up %v, %v events in the outbox, %v produce failures",
		time.Since(downAt).Round(time.Second), polls, errs, up, queued, gathered(t, reg, "tensionwatch_collector_produce_failures_total", nil))
	if errs != 0 || up != 1 {
		t.Errorf("Kafka's outage failed the feed's polls: %v errors, feed_up %v", errs, up)
	}
	if polls < 40 { // every 500 ms: about 60; backed off (200 ms doubling to 2 s): about 17
		t.Errorf("%d polls in 30 s at a 500 ms interval: the feed was backed off", polls)
	}
	if queued < 20 {
		t.Errorf("%v events in the outbox after 30 s of one new item a second", queued)
	}
	emb, err = bus.StartEmbedded(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	t.Log("broker back")
	before := feed.count()
	waitFor(t, "every item published during the outage to reach the topic", 60*time.Second, func() bool {
		d, _ := distinctIDs(t, bc)
		return d >= before
	})
	d, total := distinctIDs(t, bc)
	t.Logf("items published: %d by the end of the outage (the feed lists the last 5), %d now; in the topic: %d distinct, %d messages", before, feed.count(), d, total)
	if d > feed.count() {
		t.Fatalf("%d distinct events for %d items", d, feed.count())
	}
}

// TestBrokerLoss removes a broker of a three-broker cluster while the
// collector produces and the scorer consumes: the scorer still counts every
// item exactly once.
func TestBrokerLoss(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Brokers: 3, Topic: bus.DefaultTopic, Partitions: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	feed := &tickingFeed{start: time.Now(), tick: 100 * time.Millisecond}
	srv := httptest.NewServer(feed)
	defer srv.Close()
	scorer, url := startScorer(t, bc)
	defer scorer.stop(t)
	col := runCollector(t, srv.URL, bc, dir)
	defer col.stop(t)
	time.Sleep(2 * time.Second)
	leader := emb.Cluster().LeaderFor(bc.Topic, 0)
	if err := emb.Cluster().RemoveNode(leader); err != nil {
		t.Fatal(err)
	}
	t.Logf("removed broker %d, the leader of partition 0", leader)
	time.Sleep(3 * time.Second)
	want := feed.count()
	waitFor(t, "the scorer to count every item once", 40*time.Second, func() bool {
		v, _ := metric(t, url, `tensionwatch_events_total{region="korean_peninsula",type="weapons_test"}`)
		return int(v) >= want
	})
	v, _ := metric(t, url, `tensionwatch_events_total{region="korean_peninsula",type="weapons_test"}`)
	dups, _ := metric(t, url, "tensionwatch_scorer_duplicate_events_total")
	if int(v) > feed.count() {
		t.Fatalf("the scorer counted %v events for %d items", v, feed.count())
	}
	t.Logf("%d items by the loss, %v counted, %v duplicates dropped", want, v, dups)
}

// flakyProxy forwards TCP to a target, cutting each connection after cutAfter
// bytes while cut is set, and delaying each chunk by delay.
type flakyProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	delay  time.Duration
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

func (p *flakyProxy) set(cut bool, delay time.Duration) {
	p.mu.Lock()
	p.cut, p.delay = cut, delay
	p.mu.Unlock()
}

func (p *flakyProxy) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	go io.Copy(up, c)
	buf := make([]byte, 256)
	sent := 0
	for {
		n, err := up.Read(buf)
		p.mu.Lock()
		cut, delay := p.cut, p.delay
		p.mu.Unlock()
		if n > 0 {
			time.Sleep(delay)
			if cut && sent+n > 600 {
				c.Write(buf[:600-sent])
				return // cut mid-body
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
			sent += n
		}
		if err != nil {
			return
		}
	}
}

// TestCutAndSlowFeedConnections runs the feed through a fault-injection
// proxy: connections cut mid-body fail the poll (nothing half-read is
// produced) and are retried; slow ones still succeed within the timeout.
func TestCutAndSlowFeedConnections(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	feed := &tickingFeed{start: time.Now().Add(-19 * time.Hour), tick: time.Hour} // 20 items, fixed
	srv := httptest.NewServer(feed)
	defer srv.Close()
	proxy := newFlakyProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	proxy.set(true, 0)
	col := runCollector(t, "http://"+proxy.ln.Addr().String()+"/feed", bc, dir)
	defer col.stop(t)
	time.Sleep(2 * time.Second)
	if d, _ := distinctIDs(t, bc); d != 0 {
		t.Fatalf("%d events produced from connections cut mid-body", d)
	}
	proxy.set(false, 20*time.Millisecond) // slow but whole
	waitFor(t, "the 20 items to arrive once the connection heals", 30*time.Second, func() bool {
		d, _ := distinctIDs(t, bc)
		return d == feed.count()
	})
}

// TestKillCollectorAndScorer SIGKILLs the real binaries mid-stream: after
// restarts the scorer counts every item exactly once, and a restarted scorer
// reports the numbers it reported before it was killed.
func TestKillCollectorAndScorer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binaries")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	// The failpoint exists only in a binary built with -tags failpoint;
	// the shipped one (built without) has no such code path.
	out, err := exec.Command("go", "build", "-tags", "failpoint", "-o", bin+"/", "../../cmd/collector", "../../cmd/scorer").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -tags failpoint: %v\n%s", err, out)
	}
	shipped := filepath.Join(dir, "shipped")
	if out, err := exec.Command("go", "build", "-o", shipped+"/", "../../cmd/collector").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for path, want := range map[string]bool{bin + "/collector": true, shipped + "/collector": false} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(b, []byte("TENSIONWATCH_FAILPOINT")); got != want {
			t.Fatalf("%s holds the failpoint: %v, want %v", path, got, want)
		}
	}
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	brokers := strings.Join(emb.Addrs(), ",")
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}

	// A feed of 400 items at once: one produce batch to kill in the middle.
	feed := &tickingFeed{start: time.Now().Add(-399 * time.Hour), tick: time.Hour, window: 400}
	srv := httptest.NewServer(feed)
	defer srv.Close()
	feeds := filepath.Join(dir, "feeds.yaml")
	os.WriteFile(feeds, []byte(fmt.Sprintf("allow_private_addresses: true\nfeeds:\n  - {id: big, url: %q, source: Big, kind: news, credibility: 0.8, interval: 1s}\n", srv.URL)), 0o600)
	collector := func(env ...string) *exec.Cmd {
		c := exec.Command(bin+"/collector", "run", "--feeds.file", feeds, "--kafka.brokers", brokers,
			"--data.dir", filepath.Join(dir, "col"), "--web.listen-address", "127.0.0.1:0", "--log.level", "warn")
		c.Stderr = testWriter{t}
		c.Env = append(os.Environ(), env...)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	scorerAddr := freePort(t)
	scorer := func() *exec.Cmd {
		c := exec.Command(bin+"/scorer", "run", "--kafka.brokers", brokers, "--web.listen-address", scorerAddr, "--log.level", "warn")
		c.Stderr = testWriter{t}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	kill := func(c *exec.Cmd) { c.Process.Signal(syscall.SIGKILL); c.Wait() }

	// The first collector dies right after Kafka acknowledged its batch and
	// before it marked the items seen: the worst moment to be killed.
	col := collector("TENSIONWATCH_FAILPOINT=exit-after-produce")
	if err := col.Wait(); err == nil || !strings.Contains(err.Error(), "137") {
		t.Fatalf("the failpoint did not kill the collector: %v", err)
	}
	_, afterKill := distinctIDs(t, bc)
	if afterKill != 400 {
		t.Fatalf("%d messages written before the kill, want the whole batch of 400", afterKill)
	}
	col = collector()
	defer kill(col)
	waitFor(t, "the restarted collector to produce the batch again", 30*time.Second, func() bool { _, n := distinctIDs(t, bc); return n >= 800 })
	d, total := distinctIDs(t, bc)
	if d != 400 {
		t.Fatalf("%d distinct items in the topic, want 400", d)
	}
	t.Logf("killed the collector with %d messages written; after the restart the topic holds %d messages for 400 items", afterKill, total)

	sc := scorer()
	base := "http://" + scorerAddr
	waitFor(t, "the scorer to be ready", 30*time.Second, func() bool { c, err := httpGet(base + "/readyz"); return err == nil && c == 200 })
	// Events the scorer reads live count in tensionwatch_events_total,
	// those of its start-up replay in tensionwatch_scorer_replayed_events_total
	// (every event of this test is a North Korean weapons test).
	count := func() float64 {
		live, _ := metric(t, base, `tensionwatch_events_total{region="korean_peninsula",type="weapons_test"}`)
		replayed, _ := metric(t, base, "tensionwatch_scorer_replayed_events_total")
		return live + replayed
	}
	waitFor(t, "the scorer to count 400 events", 30*time.Second, func() bool { return count() == 400 })
	// The collector's first heartbeat (at its start, before its first poll)
	// says no feed is fetched yet; the numbers compared below are taken once
	// the scorer has read the next one, as a restarted scorer will.
	waitFor(t, "the scorer to hear that the collector's feed is fetched", 30*time.Second, func() bool {
		blind, ok := metric(t, base, "tensionwatch_scorer_blind")
		return !ok || blind == 0
	})
	at := time.Now().Truncate(time.Second)
	before := indexAt(t, base, at)
	kill(sc)
	sc = scorer()
	defer kill(sc)
	waitFor(t, "the restarted scorer to be ready", 30*time.Second, func() bool { c, err := httpGet(base + "/readyz"); return err == nil && c == 200 })
	if got := count(); got != 400 {
		t.Fatalf("after a SIGKILL and restart the scorer counts %v events, want 400", got)
	}
	if after := indexAt(t, base, at); string(normalise(after)) != string(normalise(before)) {
		t.Fatalf("numbers differ after the scorer was killed:\nbefore %s\nafter  %s", before, after)
	}
}
