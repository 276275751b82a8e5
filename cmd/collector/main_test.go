package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/collector"
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
	if code := run(context.Background(), []string{"run"}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--feeds.file is required") {
		t.Errorf("run without feeds: %d %s", code, errb.String())
	}
}

// TestUsageErrorsExit2: a stray argument, an unknown flag, a malformed
// value or a missing required flag is a usage error in every command:
// exit code 2, and a message naming the problem. Nothing starts.
func TestUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--feeds.file", "../../deploy/feeds.yaml", "--data.dir", dir, "stray"}, `unexpected argument "stray"`},
		{[]string{"run", "feeds.yaml"}, `unexpected argument "feeds.yaml"`},
		{[]string{"run", "--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"run", "--fetch.max-concurrent", "many"}, `invalid value "many" for flag -fetch.max-concurrent`},
		{[]string{"run", "--fetch.start-spread", "soon"}, `invalid value "soon" for flag -fetch.start-spread`},
		{[]string{"run", "--feeds.file", "x.yaml", "--seen.ttl", "0s"}, "--seen.ttl must be positive"},
		{[]string{"check", "extra"}, `unexpected argument "extra"`},
		{[]string{"classify", "--explain", "x"}, `unexpected argument "x"`},
		{[]string{"train", "x"}, `unexpected argument "x"`},
		{[]string{"train"}, "give --out, --cv or both"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused run touched its data dir: %v", entries)
	}
}

// TestRunFailsAtOnceWhenItCannotListen: a taken --web.listen-address stops
// "collector run" before it locks its data dir or fetches a feed.
func TestRunFailsAtOnceWhenItCannotListen(t *testing.T) {
	var fetched atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.yaml")
	os.WriteFile(feeds, []byte(fmt.Sprintf("allow_private_addresses: true\nfeeds:\n  - {id: a, url: %q, source: S, kind: news, interval: 1s}\n", srv.URL)), 0o600)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"run", "--feeds.file", feeds, "--data.dir", filepath.Join(dir, "data"), "--kafka.brokers", "127.0.0.1:1",
		"--web.listen-address", taken.Addr().String(), "--fetch.start-spread", "0"}, nil, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "--web.listen-address "+taken.Addr().String()) || !strings.Contains(errb.String(), "address already in use") {
		t.Fatalf("exit %d, stderr %q; want 1 and the address in use", code, errb.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to fail", d)
	}
	if fetched.Load() != 0 {
		t.Errorf("%d feed requests although the collector could not serve its metrics", fetched.Load())
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("the data dir was created although the collector could not start")
	}
}

// TestSecondCollectorOnADataDirFails: "collector run" on a data dir another
// collector holds fails at once, naming the dir and the other process.
func TestSecondCollectorOnADataDirFails(t *testing.T) {
	dir := t.TempDir()
	unlock, err := collector.LockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"run", "--feeds.file", "../../deploy/feeds.yaml", "--data.dir", dir, "--kafka.brokers", "127.0.0.1:1",
		"--web.listen-address", "127.0.0.1:0", "--log.level", "error"}, nil, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "data dir "+dir+" is in use by another collector") ||
		!strings.Contains(errb.String(), fmt.Sprintf("pid %d@", os.Getpid())) {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

// TestCheckWarnsAboutPrivateAddresses: "collector check" accepts a feeds
// file with a loopback feed but warns that the collector will refuse it.
func TestCheckWarnsAboutPrivateAddresses(t *testing.T) {
	p := filepath.Join(t.TempDir(), "feeds.yaml")
	os.WriteFile(p, []byte("feeds:\n  - {id: a, url: \"https://203.0.113.5/rss\", source: S, kind: news}\n  - {id: b, url: \"http://127.0.0.1:8080/rss\", source: S, kind: news}\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check", "--feeds.file", p}, nil, &out, &errb); code != 0 {
		t.Fatalf("check: %d %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), `warning: `+p+`:3: feed "b": 127.0.0.1 is a loopback address`) || strings.Contains(errb.String(), `feed "a"`) {
		t.Errorf("warnings: %s", errb.String())
	}
	if !strings.Contains(out.String(), "2 feeds OK") {
		t.Errorf("output: %s", out.String())
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
	if code := run(context.Background(), []string{"train"}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "give --out, --cv or both") {
		t.Errorf("train without --out: %d %s", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"train", "--out", model, "--curve"}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "--curve and --by-set need --cv") {
		t.Errorf("--curve without --cv: %d %s", code, errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"train", "--sets", sets, "--data", dir, "--cv", "2", "--curve", "--by-set",
		"--buckets", "4096", "--epochs", "3"}, nil, &out, &errb); code != 0 {
		t.Fatalf("train --curve: %d %s", code, errb.String())
	}
	for _, want := range []string{"Learning curve", "| share of training groups | en relevance F1 | en type macro-F1 |", "\n| 0.25 |", "\n| 0.75 |", "\n| 1.00 |",
		"The same, by labelled set", "| set | system |", "| tiny | **combined** | 4 | 2 |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("train --curve output lacks %q:\n%s", want, out.String())
		}
	}
}
