package deploy_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/collector"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/poller"
	"github.com/tensionwatch/tensionwatch/internal/scorer"
	"github.com/tensionwatch/tensionwatch/internal/seen"
	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func tool(t *testing.T, name, pkg string) string { return testtool.Require(t, pkg, name) }

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPrometheusConfigAndRules(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	out := run(t, promtool, "check", "config", "prometheus/prometheus.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatal(out)
	}
	run(t, promtool, "check", "rules", "prometheus/rules/tensionwatch.rules.yml")
	out = run(t, promtool, "test", "rules", "prometheus/tests/tensionwatch.rules_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatal(out)
	}
}

// TestEveryAlertHasAUnitTest keeps the rule file and its tests together.
func TestEveryAlertHasAUnitTest(t *testing.T) {
	rules, _ := os.ReadFile("prometheus/rules/tensionwatch.rules.yml")
	tests, _ := os.ReadFile("prometheus/tests/tensionwatch.rules_test.yml")
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert       string
				Annotations map[string]string
				Labels      map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(rules, &rf); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
				t.Errorf("alert %s has no promtool unit test", r.Alert)
			}
			if r.Annotations["summary"] == "" || !strings.Contains(r.Annotations["description"], "http") {
				t.Errorf("alert %s needs a summary and a description with a link", r.Alert)
			}
			if r.Labels["severity"] == "" || (r.Labels["region"] == "" && !strings.Contains(r.Annotations["summary"], "$labels.region")) {
				t.Errorf("alert %s needs severity and region labels", r.Alert)
			}
		}
	}
	if n < 12 {
		t.Errorf("only %d alerts", n)
	}
}

func TestAlertmanagerConfig(t *testing.T) {
	amtool := tool(t, "amtool", "prometheus-alertmanager")
	run(t, amtool, "check-config", "alertmanager/alertmanager.yml")
}

func TestComposeFile(t *testing.T) {
	dc := tool(t, "docker-compose", "docker-compose")
	run(t, dc, "-f", "docker-compose.yml", "config", "-q")
	services := run(t, dc, "-f", "docker-compose.yml", "config", "--services")
	for _, s := range []string{"kafka", "kafka-init", "collector", "scorer-1", "scorer-2", "prometheus", "alertmanager", "grafana"} {
		if !strings.Contains(services, s+"\n") {
			t.Errorf("compose lacks service %s", s)
		}
	}
}

// TestKubernetesManifests decodes every manifest as YAML and checks that the
// collectors shard the feeds as many ways as there are replicas.
func TestKubernetesManifests(t *testing.T) {
	files, _ := filepath.Glob("k8s/*.yaml")
	kinds := map[string]bool{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc struct {
				Kind string
				Spec struct{ Replicas int }
			}
			if err := dec.Decode(&doc); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			kinds[doc.Kind] = true
			if doc.Kind == "StatefulSet" && (doc.Spec.Replicas != 3 || !strings.Contains(string(b), "--feeds.shard=auto/3")) {
				t.Errorf("%s: the collector's shard count must equal its replicas", f)
			}
		}
	}
	for _, k := range []string{"Namespace", "ConfigMap", "StatefulSet", "Deployment", "Service", "Kustomization"} {
		if !kinds[k] {
			t.Errorf("no %s manifest", k)
		}
	}
}

// TestCollectorMetricsPassPromtool lints a live collector's /metrics after a
// real poll of an httptest feed.
func TestCollectorMetricsPassPromtool(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	feed, _ := os.ReadFile("../testdata/feeds/asia-security.rss")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(feed) }))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clf, _ := classify.NewDefault(events.DefaultTaxonomy())
	store, _ := seen.Open(filepath.Join(t.TempDir(), "seen.log"), 0)
	defer store.Close()
	col := collector.New(clf, store, discard{}, reg, log)
	feeds := []feedlist.Feed{{ID: "desk", URL: srv.URL, Source: "Desk", Kind: "news", Credibility: 0.8, Interval: time.Hour}}
	p := poller.New(poller.Config{}, fetcher.New(fetcher.Config{AllowPrivate: true}), feeds, col.Handle, log, poller.NewMetrics(reg))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p.Run(ctx)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if v, ok := testtool.ParseMetrics(t, strings.NewReader(body)).Value("tensionwatch_collector_polls_total", "feed", "desk", "result", "ok"); !ok || v != 1 {
		t.Fatalf("successful polls = %v (present %v), want 1:\n%s", v, ok, body)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

type discard struct{}

func (discard) Publish(context.Context, []events.Event) error { return nil }

// TestRuleThresholdsAreTheTaxonomys checks that every threshold of the
// alert rules is the one the scorer's /api/v1/alerts and the taxonomy use:
// the band alerts at the taxonomy's band edges, the others at the scorer's
// constants. Change one and this fails until the other follows.
func TestRuleThresholdsAreTheTaxonomys(t *testing.T) {
	b, err := os.ReadFile("prometheus/rules/tensionwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				exprs[r.Alert] = strings.Join(strings.Fields(r.Expr), " ")
			}
		}
	}
	bands := events.DefaultTaxonomy().Index.Bands
	if len(bands) != 4 {
		t.Fatalf("the rules have three band alerts above calm; the taxonomy has %d bands", len(bands))
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	want := map[string]string{}
	for i, b := range bands[1:] {
		name := "Tension" + strings.ToUpper(b.Name[:1]) + b.Name[1:]
		e := "region:tensionwatch_region_index:max >= " + num(b.Min)
		if i+2 < len(bands) {
			e += " < " + num(bands[i+2].Min)
		}
		want[name] = e
	}
	top := bands[len(bands)-1]
	want["TensionGaugeSevere"] = ":tensionwatch_index:max >= " + num(top.Min)
	want["TensionRapidRise"] = "(:tensionwatch_index:max - (:tensionwatch_index:max offset " +
		model.Duration(scorer.RapidRiseWindow).String() + ")) >= " + num(scorer.RapidRisePoints)
	want["TensionRegionAnomaly"] = "region:tensionwatch_index_zscore:max >= " + num(scorer.AnomalyZ)
	want["TensionSevereEvent"] = "max by (region, type) (increase(tensionwatch_severe_events_total[" +
		model.Duration(scorer.SevereEventWindow).String() + "])) > 0"
	want["TensionwatchConsumerLag"] = "max(tensionwatch_scorer_consumer_lag_seconds) > " + num(scorer.ConsumerLagLimit.Seconds())
	for name, w := range want {
		if got, ok := exprs[name]; !ok {
			t.Errorf("no alert %s", name)
		} else if got != w {
			t.Errorf("%s: expr %q, want %q", name, got, w)
		}
	}
}

// TestComposeKeepsTheWindow checks that the compose stack's topic keeps
// what a restarted scorer replays: the window plus two days.
func TestComposeKeepsTheWindow(t *testing.T) {
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := index.Retention(events.DefaultTaxonomy()).Milliseconds()
	n := strings.Count(string(b), "retention.ms="+strconv.FormatInt(want, 10))
	if n != 2 || strings.Count(string(b), "retention.ms=") != 2 {
		t.Errorf("the compose file must create and alter the topic with retention.ms=%d (the window plus two days); found it %d times", want, n)
	}
}
