// Package grafana holds the provisioned dashboards; this test checks them
// with the tools of the ecosystem, since Grafana itself cannot run here.
package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/collector"
	"github.com/tensionwatch/tensionwatch/internal/poller"
	"github.com/tensionwatch/tensionwatch/internal/scorer"
	"github.com/tensionwatch/tensionwatch/internal/seen"
	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func compile(t *testing.T, c *jsonschema.Compiler, file, fragment string) *jsonschema.Schema {
	t.Helper()
	abs, _ := filepath.Abs(filepath.Join("schema", file))
	s, err := c.Compile("file://" + abs + fragment)
	if err != nil {
		t.Fatalf("compiling %s%s: %v", file, fragment, err)
	}
	return s
}

type dashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Panels []struct {
		Type       string               `json:"type"`
		Title      string               `json:"title"`
		Datasource struct{ UID string } `json:"datasource"`
		Options    json.RawMessage      `json:"options"`
		Targets    []json.RawMessage    `json:"targets"`
	} `json:"panels"`
}

func dashboards(t *testing.T) map[string][]byte {
	files, _ := filepath.Glob("dashboards/*.json")
	if len(files) < 2 {
		t.Fatalf("dashboards: %v", files)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

// TestDashboardsMatchGrafanaSchema validates each dashboard, each panel's
// options and each Prometheus query against Grafana's own JSON schemas.
func TestDashboardsMatchGrafanaSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	dash := compile(t, c, "dashboard.jsonschema.json", "")
	query := compile(t, c, "prometheus.jsonschema.json", "")
	opts := map[string]*jsonschema.Schema{}
	for _, kind := range []string{"gauge", "timeseries", "table", "stat"} {
		opts[kind] = compile(t, c, kind+".jsonschema.json", "#/definitions/Options")
	}
	for file, b := range dashboards(t) {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := dash.Validate(inst); err != nil {
			t.Errorf("%s: %v", file, err)
		}
		var d dashboard
		json.Unmarshal(b, &d)
		for _, p := range d.Panels {
			s, ok := opts[p.Type]
			if !ok {
				t.Errorf("%s: panel %q: no schema for panel type %q", file, p.Title, p.Type)
				continue
			}
			o, _ := jsonschema.UnmarshalJSON(bytes.NewReader(p.Options))
			if err := s.Validate(o); err != nil {
				t.Errorf("%s: panel %q options: %v", file, p.Title, err)
			}
			if p.Datasource.UID != "prometheus" {
				continue
			}
			for _, raw := range p.Targets {
				q, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
				if err := query.Validate(q); err != nil {
					t.Errorf("%s: panel %q query: %v", file, p.Title, err)
				}
			}
		}
	}
}

// exprs returns every PromQL expression of the dashboards and rule files.
func exprs(t *testing.T) map[string]string {
	out := map[string]string{}
	for file, b := range dashboards(t) {
		var d dashboard
		json.Unmarshal(b, &d)
		for _, p := range d.Panels {
			for _, raw := range p.Targets {
				var q struct {
					Expr string `json:"expr"`
				}
				json.Unmarshal(raw, &q)
				if q.Expr != "" {
					out[fmt.Sprintf("%s: %s", file, p.Title)+" #"+fmt.Sprint(len(out))] = q.Expr
				}
			}
		}
	}
	return out
}

func requireTool(t *testing.T, name, pkg string) string { return testtool.Require(t, pkg, name) }

// TestDashboardQueriesParse hands every dashboard query to promtool, which
// parses it with Prometheus's own parser (as a recording rule).
func TestDashboardQueriesParse(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboards\n    rules:\n")
	all := exprs(t)
	names := sortedKeys(all)
	for i, k := range names {
		// $region is a dashboard variable: Grafana substitutes it.
		e := strings.ReplaceAll(all[k], "$region", "taiwan_strait")
		fmt.Fprintf(&rules, "      - record: dashboard:query_%d:check\n        expr: %q\n", i, e)
	}
	path := filepath.Join(t.TempDir(), "dashboards.rules.yml")
	os.WriteFile(path, []byte(rules.String()), 0o600)
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules on the dashboards' queries: %v\n%s", err, out)
	}
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// exported gathers every metric name the collector and the scorer export.
func exported(t *testing.T) map[string]bool {
	reg := prometheus.NewRegistry()
	tx := events.DefaultTaxonomy()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	scorer.New(scorer.Config{}, tx, reg, log)
	clf, _ := classify.NewDefault(tx)
	store, err := seen.Open(filepath.Join(t.TempDir(), "seen.log"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	collector.New(clf, store, nil, reg, log)
	m := poller.NewMetrics(reg)
	m.Touch("feed")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"up": true}
	for _, mf := range mfs {
		n := mf.GetName()
		names[n] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			names[n+suffix] = true
		}
	}
	return names
}

var (
	identRE  = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	stringRE = regexp.MustCompile(`"[^"]*"`)
)

// metricNames returns the identifiers of expr that name tensionwatch metrics
// or recording rules.
func metricNames(expr string) []string {
	var out []string
	for _, id := range identRE.FindAllString(stringRE.ReplaceAllString(expr, `""`), -1) {
		if strings.Contains(id, "tensionwatch") || id == "up" {
			out = append(out, id)
		}
	}
	return out
}

// TestEveryQueryNamesAnExportedMetric checks the dashboards and the alert
// and recording rules against what the binaries really export.
func TestEveryQueryNamesAnExportedMetric(t *testing.T) {
	names := exported(t)
	var rf struct {
		Groups []struct {
			Rules []struct {
				Record, Alert, Expr string
			}
		}
	}
	b, err := os.ReadFile("../deploy/prometheus/rules/tensionwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	all := exprs(t)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				names[r.Record] = true
			}
		}
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			all["rule "+r.Record+r.Alert] = r.Expr
		}
	}
	for where, e := range all {
		ns := metricNames(e)
		if len(ns) == 0 {
			t.Errorf("%s: %q names no tensionwatch metric", where, e)
		}
		for _, n := range ns {
			if !names[n] {
				t.Errorf("%s: %q names %s, which neither binary exports nor a rule records", where, e, n)
			}
		}
	}
}

// TestProvisioning decodes the provisioning files strictly and checks that
// the dashboards use only the datasources they provision.
func TestProvisioning(t *testing.T) {
	type ds struct {
		Name, UID, Type, Access, URL string
		IsDefault                    bool           `yaml:"isDefault"`
		JSONData                     map[string]any `yaml:"jsonData"`
	}
	var dsFile struct {
		APIVersion  int  `yaml:"apiVersion"`
		Datasources []ds `yaml:"datasources"`
	}
	strict(t, "provisioning/datasources/tensionwatch.yml", &dsFile)
	uids := map[string]bool{"-- Grafana --": true}
	for _, d := range dsFile.Datasources {
		uids[d.UID] = true
	}
	var provFile struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Folder, Type string
			DisableDeletion    bool           `yaml:"disableDeletion"`
			AllowUIUpdates     bool           `yaml:"allowUiUpdates"`
			Options            map[string]any `yaml:"options"`
		} `yaml:"providers"`
	}
	strict(t, "provisioning/dashboards/tensionwatch.yml", &provFile)
	if len(provFile.Providers) != 1 || provFile.Providers[0].Type != "file" {
		t.Errorf("providers: %+v", provFile.Providers)
	}
	uidRE := regexp.MustCompile(`"uid":\s*"([^"]+)"`)
	for file, b := range dashboards(t) {
		var d dashboard
		json.Unmarshal(b, &d)
		for _, m := range uidRE.FindAllStringSubmatch(string(b), -1) {
			if m[1] != d.UID && !uids[m[1]] {
				t.Errorf("%s uses datasource uid %q that is not provisioned", file, m[1])
			}
		}
	}
}

func strict(t *testing.T, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
