package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// burstFeed serves a quiet feed until burst is set, then a burst of
// escalatory items around Taiwan: four incidents of four classes that read
// "high" alone (drills encircling Taiwan with live fire, a mass air
// incursion, a missile barrage, a ramming at sea), which together read
// "severe" once two outlets (two feed paths) carry them.
type burstFeed struct {
	mu    sync.Mutex
	burst bool
}

func (b *burstFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	on := b.burst
	b.mu.Unlock()
	var items strings.Builder
	items.WriteString(`<item><title>Ten minutes of exercise a day keeps you fit</title><link>https://x.example/fit</link><guid>fit</guid></item>`)
	if on {
		for i, title := range []string{
			"PLA encircles Taiwan in live-fire drills",
			"Taiwan reports 71 Chinese warplanes in its air defence zone",
			"China fires barrage of ballistic missiles into waters off Taiwan",
			"Chinese coast guard rams Taiwanese patrol boat near Kinmen",
		} {
			fmt.Fprintf(&items, `<item><title>%s</title><link>https://x.example%s/%d</link><guid>%s-%d</guid><pubDate>%s</pubDate></item>`,
				title, r.URL.Path, i, r.URL.Path, i, time.Now().UTC().Format(time.RFC1123Z))
		}
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link><description>d</description>%s</channel></rss>`, items.String())
}

// TestRealAlertEndToEnd runs Debian's Prometheus against a running scorer and
// collector that poll an httptest feed, with the project's own alert rules
// (their `for:` shortened to seconds), and Debian's Alertmanager routing to a
// webhook of the test's: a burst of escalatory items makes the gauge cross
// into the severe band, Prometheus's API shows the alerts firing, and
// Alertmanager delivers them.
func TestRealAlertEndToEnd(t *testing.T) {
	amBin := requireTool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()

	// The webhook that stands for the pager.
	var (
		hookMu   sync.Mutex
		received []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		json.NewDecoder(r.Body).Decode(&msg)
		hookMu.Lock()
		for _, a := range msg.Alerts {
			received = append(received, a.Labels["alertname"])
		}
		hookMu.Unlock()
	}))
	defer hook.Close()

	// The pipeline: embedded broker, collector, scorer.
	feed := &burstFeed{}
	srv := httptest.NewServer(feed)
	defer srv.Close()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	scorer, scorerURL := startScorer(t, bc)
	defer scorer.stop(t)
	feeds := &feedlist.List{AllowPrivateAddresses: true, Feeds: []feedlist.Feed{
		{ID: "burst-a", URL: srv.URL + "/a", Source: "Burst A", Kind: "news", Credibility: 0.9, Interval: time.Second},
		{ID: "burst-b", URL: srv.URL + "/b", Source: "Burst B", Kind: "news", Credibility: 0.9, Interval: time.Second}}}
	_, clf, _ := app.TaxonomyConfig{}.Load()
	col := start(func(ctx context.Context) error {
		return app.RunCollector(ctx, app.CollectorOptions{Feeds: feeds, Classifier: clf, Bus: bc, DataDir: dir,
			Poll: poller.Config{Jitter: 0.01}, Registry: prometheus.NewRegistry(), Log: testLogger(t)})
	})
	defer col.stop(t)

	// Alertmanager, routing everything to the webhook.
	amAddr := freePort(t)
	amCfg := filepath.Join(dir, "alertmanager.yml")
	os.WriteFile(amCfg, []byte(fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, region]
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs:
      - url: %q
`, hook.URL)), 0o600)
	am := exec.Command(amBin, "--config.file="+amCfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	am.Stdout, am.Stderr = io.Discard, io.Discard
	if err := am.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { am.Process.Kill(); am.Wait() }()

	// Prometheus with the project's rules, for: shortened so the test is quick.
	promAddr := runPrometheus(t, dir, strings.TrimPrefix(scorerURL, "http://"), amAddr, nil)
	firing := func() map[string]bool { return firingAlerts(promAddr) }

	// Quiet first: Prometheus scrapes the gauge at 0 and nothing fires.
	waitFor(t, "Prometheus to scrape the scorer", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=tensionwatch_index")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `"tensionwatch_index"`)
	})
	time.Sleep(3 * time.Second)
	if f := firing(); f["TensionSevere/taiwan_strait"] || f["TensionSevereEvent/taiwan_strait"] {
		t.Fatalf("alerts firing before the burst: %v", f)
	}

	// The burst.
	feed.mu.Lock()
	feed.burst = true
	feed.mu.Unlock()
	waitFor(t, "TensionSevere and TensionSevereEvent to fire for taiwan_strait", 60*time.Second, func() bool {
		f := firing()
		return f["TensionSevere/taiwan_strait"] && f["TensionSevereEvent/taiwan_strait"] && f["TensionGaugeSevere/all"]
	})
	if v, _ := metric(t, scorerURL, `tensionwatch_region_index{region="taiwan_strait"}`); v < 80 {
		t.Errorf("taiwan_strait reads %.1f", v)
	}
	waitFor(t, "Alertmanager to deliver the page to the webhook", 30*time.Second, func() bool {
		hookMu.Lock()
		defer hookMu.Unlock()
		return strings.Contains(strings.Join(received, ","), "TensionSevereEvent") && strings.Contains(strings.Join(received, ","), "TensionSevere")
	})
}

// runPrometheus runs Debian's Prometheus scraping the scorer at scorerHost
// every second with the project's rules, their `for:` shortened to 2 s and
// any other change edit makes, alerting to amAddr ("" for none). It
// returns Prometheus's address.
func runPrometheus(t *testing.T, dir, scorerHost, amAddr string, edit func([]byte) []byte) string {
	t.Helper()
	promBin := requireTool(t, "prometheus", "prometheus")
	rules, err := os.ReadFile("../../deploy/prometheus/rules/tensionwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	rules = regexp.MustCompile(`for: \d+[mh]`).ReplaceAll(rules, []byte("for: 2s"))
	if edit != nil {
		rules = edit(rules)
	}
	os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o600)
	alerting := ""
	if amAddr != "" {
		alerting = fmt.Sprintf("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [%q]\n", amAddr)
	}
	promAddr := freePort(t)
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
%sscrape_configs:
  - job_name: tensionwatch-scorer
    static_configs:
      - targets: [%q]
`, alerting, scorerHost)), 0o600)
	prom := exec.Command(promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+promAddr)
	prom.Stdout, prom.Stderr = io.Discard, io.Discard
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prom.Process.Kill(); prom.Wait() })
	return promAddr
}

// firingAlerts returns Prometheus's firing alerts as alertname/region.
func firingAlerts(promAddr string) map[string]bool {
	resp, err := http.Get("http://" + promAddr + "/api/v1/alerts")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&r)
	out := map[string]bool{}
	for _, a := range r.Data.Alerts {
		if a.State == "firing" {
			out[a.Labels["alertname"]+"/"+a.Labels["region"]] = true
		}
	}
	return out
}

// promQuery returns the value of a PromQL query's first sample.
func promQuery(promAddr, q string) (float64, bool) {
	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&r)
	if len(r.Data.Result) == 0 {
		return 0, false
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}
