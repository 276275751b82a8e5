// These tests check the provisioned dashboards with the tools of the
// ecosystem, since Grafana itself cannot run here, and that the checked-in
// JSON is what dashboards.go generates.
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

type dashboardJSON struct {
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
		var d dashboardJSON
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
		var d dashboardJSON
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
	all := exprs(t)
	for _, r := range ruleList(t) {
		if r.Record != "" {
			names[r.Record] = true
		}
		all["rule "+r.Record+r.Alert] = r.Expr
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
		var d dashboardJSON
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

// TestCheckedInDashboardsAreGenerated regenerates the dashboards into a
// temporary folder and requires the checked-in files to be exactly those:
// the JSON cannot drift from the code that defines it.
func TestCheckedInDashboardsAreGenerated(t *testing.T) {
	dir := t.TempDir()
	names, err := Write(dir, events.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	checkedIn := dashboards(t)
	if len(names) != len(checkedIn) {
		t.Errorf("the code defines %v, dashboards/ holds %v; run go run ./grafana/gen", names, sortedKeys(asStrings(checkedIn)))
	}
	for _, name := range names {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := checkedIn[filepath.Join("dashboards", name)]
		if !ok {
			t.Errorf("dashboards/%s is missing; run go run ./grafana/gen", name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dashboards/%s differs from what dashboards.go generates (run go run ./grafana/gen): %s", name, firstDifference(got, want))
		}
	}
}

func asStrings(m map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// firstDifference shows the first line where the checked-in file (got)
// differs from the generated one (want).
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is %q, generated %q", i+1, gl, wl)
		}
	}
	return "same lines, different bytes"
}

// Test that Write removes dashboards the code no longer defines and leaves
// other files alone.
func TestWriteReplacesStaleDashboards(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	if _, err := Write(dir, events.DefaultTaxonomy()); err != nil {
		t.Fatalf("writing into a folder that does not exist yet: %v", err)
	}
	stale, other := filepath.Join(dir, "retired.json"), filepath.Join(dir, "README.md")
	os.WriteFile(stale, []byte("{}"), 0o600)
	os.WriteFile(other, []byte("notes"), 0o600)
	if _, err := Write(dir, events.DefaultTaxonomy()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("retired.json is still there (%v)", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("README.md was removed: %v", err)
	}
}

// generated is the part of a generated dashboard these tests look into.
type generated struct {
	Panels []struct {
		Title       string
		Description string
		FieldConfig struct {
			Defaults struct {
				Thresholds struct {
					Steps []struct {
						Value *float64
						Color string
					}
				}
			}
		}
	}
	Templating struct {
		List []struct {
			Name, Query string
		}
	}
}

func generate(t *testing.T, tx *events.Taxonomy, file string) generated {
	t.Helper()
	files, err := Generate(tx)
	if err != nil {
		t.Fatal(err)
	}
	var d generated
	if err := json.Unmarshal(files[file], &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

func panelNamed(t *testing.T, d generated, title string) int {
	t.Helper()
	for i, p := range d.Panels {
		if p.Title == title {
			return i
		}
	}
	t.Fatalf("no panel %q", title)
	return -1
}

// TestBandsAndRegionsComeFromTheTaxonomy generates the overview for the
// built-in taxonomy and for an edited one (a band moved, a region added):
// the gauge's and the sub-indices' thresholds, the gauge's description and
// the region variable follow the taxonomy.
func TestBandsAndRegionsComeFromTheTaxonomy(t *testing.T) {
	src, err := os.ReadFile("../pkg/events/taxonomy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "{name: high,     min: 60}", "{name: high,     min: 55}", 1)
	edited = strings.Replace(edited, "\nregions:\n", "\nregions:\n  - {id: arctic, description: \"the Arctic route\"}\n", 1)
	if edited == string(src) {
		t.Fatal("the taxonomy's bands or regions are not where this test edits them")
	}
	tx2, err := events.ParseTaxonomy([]byte(edited), "edited taxonomy")
	if err != nil {
		t.Fatal(err)
	}
	if tx2.Index.Bands[2].Min != 55 || tx2.Regions[0].ID != "arctic" {
		t.Fatalf("the edit did not take: %+v, %+v", tx2.Index.Bands, tx2.Regions[0])
	}
	for _, tx := range []*events.Taxonomy{events.DefaultTaxonomy(), tx2} {
		d := generate(t, tx, "tensionwatch.json")
		var legend []string
		for i, b := range tx.Index.Bands {
			if i > 0 {
				legend = append(legend, fmt.Sprint(b.Min))
			}
			legend = append(legend, b.Name)
		}
		gaugeDesc := d.Panels[panelNamed(t, d, "East Asia tension")].Description
		if want := strings.Join(legend, " "); !strings.Contains(strings.NewReplacer(" <= ", " ", " < ", " ").Replace(gaugeDesc), want) {
			t.Errorf("taxonomy %s: the gauge's description %q does not list the bands %q", tx.Version, gaugeDesc, want)
		}
		for _, title := range []string{"East Asia tension", "Regional sub-indices"} {
			steps := d.Panels[panelNamed(t, d, title)].FieldConfig.Defaults.Thresholds.Steps
			if len(steps) != len(tx.Index.Bands) {
				t.Fatalf("%s: %d threshold steps for %d bands", title, len(steps), len(tx.Index.Bands))
			}
			for i, s := range steps {
				if i == 0 && s.Value != nil || i > 0 && (s.Value == nil || *s.Value != tx.Index.Bands[i].Min) {
					t.Errorf("%s: step %d starts at %s, band %+v", title, i, stepValue(s.Value), tx.Index.Bands[i])
				}
				if s.Color != bandColors[i] {
					t.Errorf("%s: step %d is %s, want %s", title, i, s.Color, bandColors[i])
				}
			}
		}
		var ids []string
		for _, r := range tx.Regions {
			ids = append(ids, r.ID)
		}
		if len(d.Templating.List) != 1 || d.Templating.List[0].Name != "region" || d.Templating.List[0].Query != strings.Join(ids, ",") {
			t.Errorf("the region variable is %+v, the taxonomy's regions %v", d.Templating.List, ids)
		}
	}
}

func stepValue(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}

// TestZScorePanelTurnsRedWhereTheAlertFires holds the z-score panel's red
// threshold at the TensionRegionAnomaly alert's.
func TestZScorePanelTurnsRedWhereTheAlertFires(t *testing.T) {
	var expr string
	for _, r := range ruleList(t) {
		if r.Alert == "TensionRegionAnomaly" {
			expr = r.Expr
		}
	}
	m := regexp.MustCompile(`^region:tensionwatch_index_zscore:max >= ([0-9.]+)$`).FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		t.Fatalf("TensionRegionAnomaly's expression %q is not `region:tensionwatch_index_zscore:max >= N`", expr)
	}
	d := generate(t, events.DefaultTaxonomy(), "tensionwatch.json")
	steps := d.Panels[panelNamed(t, d, "Region z-scores")].FieldConfig.Defaults.Thresholds.Steps
	if len(steps) != 2 || steps[1].Value == nil || fmt.Sprint(*steps[1].Value) != m[1] || steps[1].Color != "red" {
		t.Errorf("the z-score panel's thresholds are %+v; the alert fires at %s", steps, m[1])
	}
}

// TestUnescapeHTMLKeepsTheStrings checks that undoing the SDK's HTML
// escapes leaves every string as it was, escaped backslashes included.
func TestUnescapeHTMLKeepsTheStrings(t *testing.T) {
	in := []string{"calm < 30 <= elevated", "a > b && c", `\u003c stays text`, `back\slash<`, `\\u003e`, `"quoted" <tag>`, "東アジア & <>"}
	escaped, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(escaped, []byte(`\u003c`)) {
		t.Fatalf("json.Marshal no longer escapes <: %s", escaped)
	}
	plain := unescapeHTML(escaped)
	if bytes.Contains(plain, []byte(`\u003c 30`)) || !bytes.Contains(plain, []byte("calm < 30 <= elevated")) {
		t.Errorf("not unescaped: %s", plain)
	}
	var out []string
	if err := json.Unmarshal(plain, &out); err != nil {
		t.Fatalf("%s: %v", plain, err)
	}
	if fmt.Sprintf("%q", out) != fmt.Sprintf("%q", in) {
		t.Errorf("got %q, want %q", out, in)
	}
}

// rule is a recording or alerting rule of deploy/prometheus/rules.
type rule struct{ Record, Alert, Expr string }

// ruleList reads every rule of the project's rules file, group after group.
func ruleList(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile("../deploy/prometheus/rules/tensionwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf struct{ Groups []struct{ Rules []rule } }
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	var out []rule
	for _, g := range rf.Groups {
		out = append(out, g.Rules...)
	}
	return out
}
