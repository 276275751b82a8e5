package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/poller"
	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func requireTool(t testing.TB, name, pkg string) string { return testtool.Require(t, pkg, name) }

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// feedServer serves files from testdata/feeds with ETag and Last-Modified,
// answering conditional requests with 304 unless ignoreValidators is set.
type feedServer struct {
	*httptest.Server
	ignoreValidators atomic.Bool
	mu               sync.Mutex
	got200, got304   map[string]int
}

func newFeedServer(t testing.TB) *feedServer {
	fs := &feedServer{got200: map[string]int{}, got304: map[string]int{}}
	mod := time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC)
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "feeds", name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if fs.ignoreValidators.Load() {
			r.Header.Del("If-None-Match")
			r.Header.Del("If-Modified-Since")
		}
		w.Header().Set("ETag", fmt.Sprintf(`"%x-%d"`, len(b), mod.Unix()))
		rec := &statusRecorder{ResponseWriter: w}
		http.ServeContent(rec, r, name, mod, strings.NewReader(string(b)))
		fs.mu.Lock()
		if rec.status == http.StatusNotModified {
			fs.got304[name]++
		} else {
			fs.got200[name]++
		}
		fs.mu.Unlock()
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) counts(name string) (ok, notModified int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.got200[name], fs.got304[name]
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// writeFeeds writes a feeds file pointing at the server's fixtures.
func writeFeeds(t testing.TB, dir, base string, interval time.Duration) *feedlist.List {
	t.Helper()
	y := fmt.Sprintf(`allow_private_addresses: true
feeds:
  - {id: asia-desk, url: "%[1]s/asia-security.rss", source: "Asia Security Desk", kind: news, credibility: 0.8, interval: %[2]s}
  - {id: strait-watch, url: "%[1]s/think-tank.atom", source: "Strait Watch", kind: think_tank, credibility: 0.9, interval: %[2]s}
`, base, interval)
	p := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := feedlist.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// component runs a blocking function until stopped.
type component struct {
	cancel context.CancelFunc
	done   chan error
}

func start(f func(ctx context.Context) error) *component {
	ctx, cancel := context.WithCancel(context.Background())
	c := &component{cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- f(ctx) }()
	return c
}

func (c *component) stop(t testing.TB) {
	t.Helper()
	c.cancel()
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("component stopped with error: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("component did not stop within 20s")
	}
}

func startCollector(t testing.TB, feeds *feedlist.List, bc bus.Config, dataDir string) *component {
	_, clf, err := app.TaxonomyConfig{}.Load()
	if err != nil {
		t.Fatal(err)
	}
	return start(func(ctx context.Context) error {
		return app.RunCollector(ctx, app.CollectorOptions{
			Feeds: feeds, Classifier: clf, Bus: bc, DataDir: dataDir,
			Poll:     poller.Config{StartSpread: 0, Jitter: 0.01},
			Registry: prometheus.NewRegistry(), Log: testLogger(t),
		})
	})
}

// startScorer runs a scorer service and returns its base URL.
func startScorer(t testing.TB, bc bus.Config) (*component, string) {
	return startScorerAt(t, bc, "127.0.0.1:0")
}

// startScorerAt runs a scorer service listening on addr.
func startScorerAt(t testing.TB, bc bus.Config, addr string) (*component, string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := start(func(ctx context.Context) error {
		return app.RunScorerService(ctx, app.ScorerServiceOptions{
			Bus: bc, Taxonomy: events.DefaultTaxonomy(), Listener: ln, Log: testLogger(t),
		})
	})
	return c, "http://" + ln.Addr().String()
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// metric returns a sample of base's /metrics, parsed with the
// exposition-format parser; sample is a name with optional labels in
// exposition form: name or name{k="v",...}.
func metric(t testing.TB, base, sample string) (float64, bool) {
	t.Helper()
	name, rest, _ := strings.Cut(sample, "{")
	var labels []string
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			labels = append(labels, k, strings.Trim(v, `"`))
		}
	}
	return testtool.ScrapeMetrics(t, base+"/metrics").Value(name, labels...)
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// topicMessages reads the events of the whole topic with kafka-go.
func topicMessages(t testing.TB, bc bus.Config) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	msgs, err := bus.ReadAll(ctx, bc, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Events only: collectors' heartbeats travel on the topic too.
	return slices.DeleteFunc(msgs, bus.IsHeartbeat)
}

func httpGet(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// normalise drops the fields of an index document that say when it was
// served rather than what it says.
func normalise(raw []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return raw
	}
	delete(m, "served_at")
	b, _ := json.Marshal(m)
	return b
}
