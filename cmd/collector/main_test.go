package main

import (
	"bytes"
	"context"
	"fmt"
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

// TestTrainAndModelFile trains a small model from a sets file of the test's
// own, classifies with it, and checks the errors of bad model files.
func TestTrainAndModelFile(t *testing.T) {
	dir := t.TempDir()
	var items, labels strings.Builder
	for i, it := range []struct {
		title       string
		relevant    bool
		typ, region string
	}{
		{"North Korea fires ballistic missile into the sea", true, "weapons_test", "korean_peninsula"},
		{"China holds drills around Taiwan", true, "military_exercise", "taiwan_strait"},
		{"Stock markets rise in Tokyo", false, "", ""},
		{"Football team starts training camp", false, "", ""},
	} {
		fmt.Fprintf(&items, `{"url":"u%d","title":%q,"summary":""}`+"\n", i, it.title)
		if it.relevant {
			fmt.Fprintf(&labels, `{"url":"u%d","relevant":true,"type":%q,"region":%q}`+"\n", i, it.typ, it.region)
		} else {
			fmt.Fprintf(&labels, `{"url":"u%d","relevant":false,"type":null,"region":null}`+"\n", i)
		}
	}
	os.WriteFile(filepath.Join(dir, "items.jsonl"), []byte(items.String()), 0o600)
	os.WriteFile(filepath.Join(dir, "labels.jsonl"), []byte(labels.String()), 0o600)
	sets := filepath.Join(dir, "sets.yaml")
	os.WriteFile(sets, []byte("- {name: tiny, items: items.jsonl, labels: labels.jsonl, lang: en}\n"), 0o600)
	model := filepath.Join(dir, "model.bin")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"train", "--sets", sets, "--data", dir, "--out", model, "--cv", "2",
		"--buckets", "4096", "--epochs", "3"}, nil, &out, &errb); code != 0 {
		t.Fatalf("train: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "4 labelled items (2 relevant)") || !strings.Contains(out.String(), "| en | **combined** |") {
		t.Errorf("train output: %s", out.String())
	}
	line := `{"title":"North Korea fires ballistic missile into the sea","summary":""}` + "\n"
	out.Reset()
	if code := run(context.Background(), []string{"classify", "--model.file", model}, strings.NewReader(line), &out, &errb); code != 0 ||
		!strings.Contains(out.String(), `"relevant":true`) {
		t.Fatalf("classify with the trained model: %d %s %s", code, out.String(), errb.String())
	}
	notModel := filepath.Join(dir, "items.jsonl")
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.bin"), "reading the model"},
		{notModel, "not a model file"},
	} {
		errb.Reset()
		if code := run(context.Background(), []string{"classify", "--model.file", tc.file}, strings.NewReader(line), &out, &errb); code != 1 ||
			!strings.Contains(errb.String(), tc.want) {
			t.Errorf("--model.file %s: %d %s", tc.file, code, errb.String())
		}
	}
	errb.Reset()
	if code := run(context.Background(), []string{"train"}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "give --out, --cv or both") {
		t.Errorf("train without --out: %d %s", code, errb.String())
	}
}
