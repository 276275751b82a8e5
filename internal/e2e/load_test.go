package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
)

var (
	loadFeeds     = flag.Int("load.feeds", 2000, "feeds in TestLoad")
	loadHosts     = flag.Int("load.hosts", 100, "feed servers (distinct host:port) the feeds of TestLoad are spread over")
	loadInterval  = flag.Duration("load.interval", 2*time.Minute, "poll interval of every feed in TestLoad")
	loadStandsFor = flag.Duration("load.stands-for", 15*time.Minute, "the production poll interval that -load.interval stands for; times are reported scaled to it")
	loadDuration  = flag.Duration("load.duration", 20*time.Second, "how long TestLoad runs")
)

// loadHelperEnv, when set, makes the test binary the feed servers and the
// Kafka broker of TestLoad (see TestMain), so that the test's own process
// holds the collector only and its heap and CPU time are the collector's.
const loadHelperEnv = "TENSIONWATCH_LOAD_HELPER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(loadHelperEnv); spec != "" {
		os.Exit(runLoadHelper(spec))
	}
	os.Exit(m.Run())
}

// loadSpec configures the helper process.
type loadSpec struct {
	Hosts    int           `json:"hosts"`
	Interval time.Duration `json:"interval"`
}

// loadAddrs is what the helper reports once it serves.
type loadAddrs struct {
	Hosts   []string `json:"hosts"`
	Brokers []string `json:"brokers"`
}

// runLoadHelper serves the feeds on spec.Hosts listeners and runs an
// embedded broker, prints their addresses as one JSON line, and stops when
// its stdin closes.
func runLoadHelper(spec string) int {
	var s loadSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, "load helper:", err)
		return 1
	}
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 6})
	if err != nil {
		fmt.Fprintln(os.Stderr, "load helper:", err)
		return 1
	}
	defer emb.Close()
	h := &loadFeed{start: time.Now(), interval: s.Interval}
	addrs := loadAddrs{Brokers: emb.Addrs()}
	for range s.Hosts {
		srv := httptest.NewServer(h)
		defer srv.Close()
		addrs.Hosts = append(addrs.Hosts, srv.URL)
	}
	b, _ := json.Marshal(addrs)
	fmt.Println(string(b))
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// loadFeed serves /<feed id> as a news feed of the last 20 items: every feed
// gains a new item every third interval (at a phase of its own), every
// fourth of them about East Asian security, each with a summary of about
// a kilobyte of HTML; the document is about 25 KB. A poll with the current
// ETag is answered 304, as real servers do: about two polls in three.
type loadFeed struct {
	start    time.Time
	interval time.Duration
}

func (f *loadFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/")
	sum := sha256.Sum256([]byte(id))
	period := 3 * f.interval
	phase := time.Duration(binary.BigEndian.Uint64(sum[:8]) % uint64(period))
	gen := int((time.Since(f.start)+phase)/period) + 20
	etag := fmt.Sprintf(`"%s-%d"`, id, gen)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/rss+xml")
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://news.example/%s/</link><description>Outlet %s</description>`, id, id, id)
	for g := gen; g > gen-20; g-- {
		title := fmt.Sprintf("City council debates budget for parks, %s edition %d", id, g)
		if (g+int(sum[8]))%4 == 0 { // a quarter of each feed's items, at a phase of its own
			title = fmt.Sprintf("China's navy holds drills near Taiwan as warships and aircraft gather, report %s-%d", id, g)
		}
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://news.example/%s/%d</link><guid isPermaLink="false">%s-%d</guid><pubDate>%s</pubDate><description><![CDATA[`,
			title, id, g, id, g, f.start.Add(time.Duration(g)*period).UTC().Format(time.RFC1123Z))
		for p := range 4 {
			fmt.Fprintf(&b, `<p>Paragraph %d of report %d: officials said on <b>Tuesday</b> that the measures, first announced last month, would be reviewed &amp; extended; <a href="https://news.example/%s/%d#p%d">read more</a> about the decision and its consequences for the region.</p>`, p, g, id, g, p)
		}
		b.WriteString(`]]></description></item>`)
	}
	b.WriteString(`</channel></rss>`)
	io.WriteString(w, b.String())
}

// loadSample is one measurement of the collector's process.
type loadSample struct {
	at        time.Duration // since the collector started
	heapInuse uint64        // runtime.MemStats.HeapInuse after a forced GC
	cpu       time.Duration // user + system time of the process so far
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func sampleProcess(since time.Time) loadSample {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return loadSample{at: time.Since(since), heapInuse: m.HeapInuse, cpu: processCPU()}
}

// TestLoad runs the shipped collector ("collector run", through the same
// code as the binary, with every production default: start spread over the
// interval, 2 requests per host, 16 fetches in flight, the outbox, the seen
// store with its 7-day TTL) on -load.feeds feeds spread over -load.hosts
// local servers, and a Kafka broker. The servers and the broker run in a
// child process, so that this process's heap and CPU time are the
// collector's. Only the poll interval is scaled: -load.interval stands for
// -load.stands-for. It reports, per simulated interval, the heap in use
// after a GC and the CPU time, and asserts that the feeds are polled on
// schedule, that events reach Kafka and that nothing is left in the outbox.
//
// CI runs it for 20 s; the soak (BENCHMARKS.md) is
//
//	go test -count=1 -run '^TestLoad$' -v ./internal/e2e/ -load.interval 15s -load.duration 165s -timeout 15m
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	n, interval := *loadFeeds, *loadInterval
	scale := float64(*loadStandsFor) / float64(interval)
	sim := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }

	spec, _ := json.Marshal(loadSpec{Hosts: *loadHosts, Interval: interval})
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), loadHelperEnv+"="+string(spec))
	helper.Stderr = testWriter{t}
	stdin, _ := helper.StdinPipe()
	stdout, _ := helper.StdoutPipe()
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); helper.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("load helper: %v", err)
	}
	var addrs loadAddrs
	if err := json.Unmarshal([]byte(line), &addrs); err != nil {
		t.Fatalf("load helper said %q: %v", line, err)
	}

	dir := t.TempDir()
	var feeds strings.Builder
	fmt.Fprintf(&feeds, "allow_private_addresses: true\ndefaults: {interval: %s}\nfeeds:\n", interval)
	for i := range n {
		fmt.Fprintf(&feeds, "  - {id: f%d, url: \"%s/f%d\", source: \"Outlet %d\", kind: news}\n", i, addrs.Hosts[i%len(addrs.Hosts)], i, i%50)
	}
	feedsFile := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(feedsFile, []byte(feeds.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	metricsAddr := freePort(t)
	logs := &lineCounter{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	began := time.Now()
	base := sampleProcess(began)
	go func() {
		done <- app.CollectorCommand(ctx, []string{
			"--feeds.file", feedsFile, "--data.dir", filepath.Join(dir, "data"),
			"--kafka.brokers", strings.Join(addrs.Brokers, ","), "--web.listen-address", metricsAddr,
			"--log.level", "warn",
		}, logs)
	}()

	var samples []loadSample
	step := min(interval, *loadDuration)
	for next := began.Add(step); ; next = next.Add(step) {
		if d := time.Until(next); d > 0 {
			select {
			case err := <-done:
				t.Fatalf("the collector stopped early: %v", err)
			case <-time.After(d):
			}
		}
		samples = append(samples, sampleProcess(began))
		if time.Since(began) >= *loadDuration {
			break
		}
	}
	m := scrape(t, "http://"+metricsAddr+"/metrics")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the collector stopped with: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the collector did not stop within 30 s")
	}
	elapsed := time.Since(began)

	polls := m.sum("tensionwatch_collector_polls_total", "")
	ok, notModified, failed := m.sum("tensionwatch_collector_polls_total", `result="ok"`),
		m.sum("tensionwatch_collector_polls_total", `result="not_modified"`), m.sum("tensionwatch_collector_polls_total", `result="error"`)
	produced, queued := m.sum("tensionwatch_collector_events_produced_total", ""), m.sum("tensionwatch_collector_outbox_events", "")
	items := m.sum("tensionwatch_collector_items_total", `result="event"`)
	seenIDs := m.sum("tensionwatch_collector_seen_items", "")

	t.Logf("%d feeds on %d hosts, interval %s standing for %s (×%.0f), %s = %s simulated; Go %s, %d CPUs (GOMAXPROCS %d), %s",
		n, len(addrs.Hosts), interval, *loadStandsFor, scale, elapsed.Round(time.Second), sim(elapsed).Round(time.Minute),
		runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel())
	t.Logf("polls: %.0f (%.0f ok, %.0f not modified, %.0f failed); events: %.0f queued, %.0f produced, %.0f left in the outbox at the last scrape; %.0f item IDs in the seen store; %d warnings logged",
		polls, ok, notModified, failed, items, produced, queued, seenIDs, logs.count())
	t.Logf("%-12s %-14s %-18s %s", "simulated", "heap in use", "CPU in the step", "CPU, % of one core at the production interval")
	prev := base
	for _, s := range samples {
		cpu := s.cpu - prev.cpu
		t.Logf("%-12s %-14s %-18s %.2f %%", sim(s.at).Round(time.Minute), mib(s.heapInuse), cpu.Round(time.Millisecond),
			100*float64(cpu)/float64(sim(s.at-prev.at)))
		prev = s
	}
	// Steady state: after the first three intervals (the start spread and
	// the first item turnover).
	warm := 3 * interval
	var steady []loadSample
	for _, s := range samples {
		if s.at >= warm {
			steady = append(steady, s)
		}
	}
	if len(steady) >= 2 {
		first, last := steady[0], steady[len(steady)-1]
		span := last.at - first.at
		cpu := last.cpu - first.cpu
		heaps := make([]uint64, len(steady))
		for i, s := range steady {
			heaps[i] = s.heapInuse
		}
		sort.Slice(heaps, func(i, j int) bool { return heaps[i] < heaps[j] })
		t.Logf("steady state over %s simulated (%d samples): heap in use after GC median %s, max %s; CPU %s per simulated hour = %.2f %% of one core at the production interval",
			sim(span).Round(time.Minute), len(steady), mib(heaps[len(heaps)/2]), mib(heaps[len(heaps)-1]),
			(time.Duration(float64(cpu) / sim(span).Hours())).Round(time.Millisecond), 100*float64(cpu)/float64(sim(span)))
		if len(steady) >= 4 && last.heapInuse > first.heapInuse*3/2+16<<20 {
			t.Errorf("heap grew from %s to %s in the steady state", mib(first.heapInuse), mib(last.heapInuse))
		}
	}

	// Every feed is polled on its schedule: its first poll at its offset
	// within the interval, then once an interval.
	if want := 0.5 * float64(n) * elapsed.Seconds() / interval.Seconds(); polls < want {
		t.Errorf("only %.0f polls in %s, want at least %.0f", polls, elapsed.Round(time.Second), want)
	}
	if failed > 0 {
		t.Errorf("%.0f polls failed", failed)
	}
	if produced == 0 || produced < items-queued-float64(maxInFlightEvents) {
		t.Errorf("%.0f events queued, %.0f produced, %.0f in the outbox", items, produced, queued)
	}
}

// maxInFlightEvents is how many events may be between the outbox and
// Kafka's acknowledgement at a scrape: one batch.
const maxInFlightEvents = 500

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// cpuModel names the machine's processor, for the record.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// lineCounter counts the log lines written to it.
type lineCounter struct {
	mu sync.Mutex
	n  int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += strings.Count(string(p), "\n")
	c.mu.Unlock()
	return len(p), nil
}

func (c *lineCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// scraped is one scrape of a /metrics page: sample lines by metric name.
type scraped map[string][]string

func scrape(t testing.TB, url string) scraped {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := scraped{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		name := l[:strings.IndexAny(l, "{ ")]
		m[name] = append(m[name], l)
	}
	return m
}

// sum adds the samples of name whose labels contain label ("" for all).
func (m scraped) sum(name, label string) float64 {
	var s float64
	for _, l := range m[name] {
		if label != "" && !strings.Contains(l, label) {
			continue
		}
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err == nil {
			s += v
		}
	}
	return s
}
