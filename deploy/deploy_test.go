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
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.yaml.in/yaml/v3"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/collector"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/poller"
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
	if !strings.Contains(body, `tensionwatch_collector_polls_total{feed="desk",result="ok"} 1`) {
		t.Fatalf("no successful poll recorded:\n%s", body)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

type discard struct{}

func (discard) Publish(context.Context, []events.Event) error { return nil }
