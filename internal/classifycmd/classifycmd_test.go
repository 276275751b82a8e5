package classifycmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func classifier(t *testing.T) *classify.Classifier {
	c, err := classify.NewDefault(events.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAddsFieldsAndPassesOthersThrough(t *testing.T) {
	in := `{"url":"u1","title":"North Korea fires two ballistic missiles into the Sea of Japan","summary":"","extra":{"k":[1,2]}}
{"title":"Ten minutes of exercise a day","summary":"A workout study.","id":7}
`
	var out bytes.Buffer
	if err := Run(context.Background(), classifier(t), strings.NewReader(in), &out, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines", len(lines))
	}
	var a, b map[string]any
	json.Unmarshal([]byte(lines[0]), &a)
	json.Unmarshal([]byte(lines[1]), &b)
	if a["relevant"] != true || a["type"] != "weapons_test" || a["region"] != "korean_peninsula" || a["url"] != "u1" {
		t.Errorf("line 1: %v", a)
	}
	if extra, _ := json.Marshal(a["extra"]); string(extra) != `{"k":[1,2]}` {
		t.Errorf("extra field changed: %s", extra)
	}
	if m := a["magnitude"].(map[string]any); m["missiles"] != 2.0 {
		t.Errorf("magnitude: %v", m)
	}
	if b["relevant"] != false || b["type"] != nil || b["id"] != 7.0 {
		t.Errorf("line 2: %v", b)
	}
	for _, k := range []string{"relevant", "type", "region", "also", "confidence", "evidence"} {
		if _, ok := b[k]; !ok {
			t.Errorf("line 2 lacks %q", k)
		}
	}
}

func TestBadLineNamesItsNumber(t *testing.T) {
	in := "{\"title\":\"a\",\"summary\":\"\"}\n\n{\"summary\":\"no title\"}\n"
	var out bytes.Buffer
	err := Run(context.Background(), classifier(t), strings.NewReader(in), &out, false)
	if err == nil || !strings.HasPrefix(err.Error(), "line 3:") {
		t.Fatalf("err = %v, want one naming line 3", err)
	}
	if strings.Count(out.String(), "\n") != 1 {
		t.Errorf("the good line before the bad one was not written: %q", out.String())
	}
	if err := Run(context.Background(), classifier(t), strings.NewReader("not json\n"), &out, false); err == nil || !strings.Contains(err.Error(), "line 1: not a JSON object") {
		t.Errorf("err = %v", err)
	}
}

func TestExplain(t *testing.T) {
	in := `{"title":"Taiwan says 71 Chinese warplanes crossed the median line","summary":""}
{"title":"Tech firm announces product launch in Tokyo","summary":""}`
	var out bytes.Buffer
	if err := Run(context.Background(), classifier(t), strings.NewReader(in), &out, true); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"RELEVANT  type=air_incursion region=taiwan_strait", "aircraft=71", `"warplanes"`, "NOT RELEVANT", "excluded:"} {
		if !strings.Contains(s, want) {
			t.Errorf("explanation lacks %q:\n%s", want, s)
		}
	}
}

// TestOutputKeepsTheInputBytes: the input's fields are written back as they
// came (order, spacing, escapes), the classification's after them; a line
// that already has a classification field gets it replaced.
func TestOutputKeepsTheInputBytes(t *testing.T) {
	in := `{"z": 1, "title": "North Korea fires ballistic missile", "a": "\u00e9"}` + "\n" +
		`{"title":"Stocks rise","relevant":"stale","type":"x"}` + "\n"
	var out bytes.Buffer
	if err := Run(context.Background(), classifier(t), strings.NewReader(in), &out, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.HasPrefix(lines[0], `{"z": 1, "title": "North Korea fires ballistic missile", "a": "\u00e9","relevant":true,`) {
		t.Errorf("line 1: %s", lines[0])
	}
	var b map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &b); err != nil || b["relevant"] != false || b["type"] != nil {
		t.Errorf("line 2: %s (%v)", lines[1], err)
	}
	for _, bad := range []string{`{"title": 5}`, `{"summary": "no title"}`, `[1,2]`} {
		if err := Run(context.Background(), classifier(t), strings.NewReader(bad+"\n"), &out, false); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
