package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainShowsSidesAndChains: --explain prints who acted toward whom,
// what each incident answers, the dyads and the chains, and the CSV ends
// with the dyads' columns and longest_live_chain.
func TestExplainShowsSidesAndChains(t *testing.T) {
	dir := t.TempDir()
	items := filepath.Join(dir, "items.jsonl")
	lines := []string{
		`{"date": "2026-03-01T10:00:00Z", "source": "Desk", "url": "https://x.example/1", "title": "US House Speaker arrives in Taiwan for visit", "summary": ""}`,
		`{"date": "2026-03-01T11:00:00Z", "source": "Wire", "url": "https://y.example/1", "title": "US House Speaker arrives in Taiwan for visit, meets president", "summary": ""}`,
		`{"date": "2026-03-03T08:00:00Z", "source": "Desk", "url": "https://x.example/2", "title": "China launches military drills around Taiwan after US Speaker's visit", "summary": ""}`,
		`{"date": "2026-03-03T09:00:00Z", "source": "Wire", "url": "https://y.example/2", "title": "China launches live-fire military drills around Taiwan", "summary": ""}`,
	}
	if err := os.WriteFile(items, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "out.csv")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--items", items, "--out", csv, "--explain", "2026-03-03T12:00:00Z"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"[us → taiwan]", "[prc → taiwan]",
		"← answering 03-01 10:00 | US House Speaker arrives in Taiwan for visit",
		"dyad taiwan_prc (Taiwan–PRC)",
		"chains: 1, longest live 2 incidents",
		"[live] 03-03 08:00 prc→taiwan China launches",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--explain lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	if head, _, _ := strings.Cut(string(b), "\n"); !strings.HasSuffix(head, ",taiwan_prc,philippines_prc,allies_dprk,allies_prc,longest_live_chain") {
		t.Errorf("CSV header %q", head)
	}
}
