package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
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

func TestStrayArgumentsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"run", "now"}, {"run", "--kafka.brokers", "h:1", "extra"}, {"run", "--nope"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2: %s", args, code, errb.String())
		}
	}
}

// TestFirstLogLineNamesTheWatchPage starts the scorer against brokers that
// are not there: it serves (blind) and its first log line says where.
func TestFirstLogLineNamesTheWatchPage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb testtool.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"run", "--kafka.brokers", "127.0.0.1:1", "--web.listen-address", "127.0.0.1:0"}, &out, &errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), "\n") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	first, _, _ := strings.Cut(errb.String(), "\n")
	if !strings.Contains(first, "scorer starting") || !regexp.MustCompile(`watch_page=http://127\.0\.0\.1:\d+/`).MatchString(first) {
		t.Fatalf("first log line: %s", first)
	}
	if !strings.Contains(errb.String(), "127.0.0.1:1") {
		t.Errorf("the Kafka errors do not name the broker:\n%s", errb.String())
	}
}
