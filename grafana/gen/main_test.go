package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tensionwatch/tensionwatch/grafana"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// TestWritesTheDashboards runs the command as `go run ./grafana/gen` does
// from a module's root and from a folder below it, without --dir: both
// write the module's grafana/dashboards.
func TestWritesTheDashboards(t *testing.T) {
	want, err := grafana.Generate(events.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/x\n"), 0o600)
	sub := filepath.Join(root, "grafana", "gen")
	os.MkdirAll(sub, 0o755)
	for _, wd := range []string{root, sub} {
		out := filepath.Join(root, "grafana", "dashboards")
		os.RemoveAll(out)
		t.Chdir(wd)
		var stdout, stderr bytes.Buffer
		if code := run(nil, &stdout, &stderr); code != 0 {
			t.Fatalf("from %s: exit %d: %s", wd, code, stderr.String())
		}
		for name, b := range want {
			got, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatalf("from %s: %v", wd, err)
			}
			if !bytes.Equal(got, b) {
				t.Errorf("from %s: %s is not what grafana.Generate builds", wd, name)
			}
			if !strings.Contains(stdout.String(), filepath.Join(out, name)+"\n") {
				t.Errorf("from %s: the output %q does not name %s", wd, stdout.String(), name)
			}
		}
	}
}

func TestTaxonomyFile(t *testing.T) {
	src, err := os.ReadFile("../../pkg/events/taxonomy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tx := filepath.Join(dir, "taxonomy.yaml")
	os.WriteFile(tx, []byte(strings.Replace(string(src), "{name: severe,   min: 80}", "{name: severe,   min: 85}", 1)), 0o600)
	out := filepath.Join(dir, "dashboards")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--dir", out, "--taxonomy.file", tx}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "tensionwatch.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "high < 85 <= severe") || strings.Contains(string(b), "< 80 <=") {
		t.Errorf("the gauge does not follow --taxonomy.file's bands:\n%s", b)
	}

	os.WriteFile(tx, []byte("version: x\nindex:\n  bands: []\n"), 0o600)
	stderr.Reset()
	if code := run([]string{"--dir", out, "--taxonomy.file", tx}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tx) {
		t.Errorf("an invalid taxonomy: exit %d, %q; want 1 and the file named", code, stderr.String())
	}
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--help"}, 0, "--taxonomy.file"},
		{[]string{"--out", "x"}, 2, "flag provided but not defined"},
		{[]string{"dashboards"}, 2, `unexpected argument "dashboards"`},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(c.args, &stdout, &stderr); code != c.code || !strings.Contains(stderr.String(), c.says) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, stderr.String(), c.code, c.says)
		}
	}
}
