package main

import (
	"bytes"
	"context"
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
