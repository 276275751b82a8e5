package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check", "--feeds.file", "../../deploy/feeds.yaml"}, nil, &out, &errb); code != 0 {
		t.Fatalf("check of deploy/feeds.yaml: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "feeds OK") || !strings.Contains(out.String(), "15 types, 7 regions") {
		t.Errorf("output: %s", out.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"check", "--feeds.file", "../../internal/feedlist/testdata/invalid-credibility.yml"}, nil, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "invalid-credibility.yml:7:") {
		t.Fatalf("check of an invalid file: %d %s", code, errb.String())
	}
}

func TestClassifyCommand(t *testing.T) {
	in := strings.NewReader(`{"title":"PLA jets cross Taiwan Strait median line","summary":""}` + "\n")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"classify", "--explain"}, in, &out, &errb); code != 0 {
		t.Fatalf("%d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "type=air_incursion region=taiwan_strait") {
		t.Errorf("output: %s", out.String())
	}
}

func TestClassifyWithAnotherRulesFile(t *testing.T) {
	b, err := os.ReadFile("../../pkg/events/taxonomy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// An analyst adds a term: "sabre-rattling" becomes a coercive statement.
	edited := strings.Replace(string(b), "      - terms: [threaten, threatened,", "      - terms: [sabre-rattling, threaten, threatened,", 1)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(path, []byte(edited), 0o600)
	line := `{"title":"Beijing accused of sabre-rattling over Taiwan","summary":""}` + "\n"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"classify"}, `"relevant":false`},
		{[]string{"classify", "--rules", path}, `"type":"coercive_statement"`},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tc.args, strings.NewReader(line), &out, &errb); code != 0 {
			t.Fatalf("%v: %d %s", tc.args, code, errb.String())
		}
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: output lacks %s: %s", tc.args, tc.want, out.String())
		}
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), nil, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "Commands:") {
		t.Errorf("no command: %d %s", code, errb.String())
	}
	if code := run(context.Background(), []string{"run", "--help"}, nil, &out, &errb); code != 0 || !strings.Contains(errb.String(), "--feeds.file") {
		t.Errorf("run --help: %d %s", code, errb.String())
	}
	if code := run(context.Background(), []string{"run"}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "--feeds.file is required") {
		t.Errorf("run without feeds: %d %s", code, errb.String())
	}
}
