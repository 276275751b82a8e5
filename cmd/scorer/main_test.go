package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestUsageAndValidation(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "Commands:") {
		t.Errorf("no command: %d %s", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"run", "--help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "--kafka.brokers") {
		t.Errorf("run --help: %d %s", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"run", "--kafka.brokers", "nohostport"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "want host:port") {
		t.Errorf("bad brokers: %d %s", code, errb.String())
	}
}
