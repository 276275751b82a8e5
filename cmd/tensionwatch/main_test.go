package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
)

// TestRunsTheWholePipelineInOneProcess runs the binary's own run() with the
// embedded broker against an httptest feed, and stops it with its context.
func TestRunsTheWholePipelineInOneProcess(t *testing.T) {
	feed, err := os.ReadFile("../../testdata/feeds/asia-security.rss")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(feed) }))
	defer srv.Close()
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.yaml")
	os.WriteFile(feeds, []byte(fmt.Sprintf("allow_private_addresses: true\nfeeds:\n  - {id: desk, url: %q, source: Desk, kind: news, credibility: 0.8, interval: 1m}\n", srv.URL)), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	var logs testtool.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--feeds.file", feeds, "--data.dir", filepath.Join(dir, "data"), "--web.listen-address", "127.0.0.1:0", "--log.format", "json", "--fetch.start-spread", "0"},
			&logs, func(a string) { addrc <- a })
	}()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a
	case code := <-done:
		t.Fatalf("exited with %d: %s", code, logs.String())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var idx struct {
			Gauge struct{ Value float64 } `json:"gauge"`
		}
		resp, err := http.Get(base + "/api/v1/index")
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&idx)
			resp.Body.Close()
		}
		if idx.Gauge.Value > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gauge still 0 after 30s; logs:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d after a clean stop", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not stop within 20s of its context ending")
	}
	out := logs.String()
	for _, want := range []string{`"msg":"tensionwatch starting"`, `"gauge":"` + base + `/api/v1/index"`, `"msg":"tensionwatch stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	// The first line says where to look.
	first, _, _ := strings.Cut(out, "\n")
	if !strings.Contains(first, `"watch_page":"`+base+`/"`) {
		t.Errorf("the first log line does not name the watch page: %s", first)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "kafka")); err != nil {
		t.Errorf("the embedded broker kept nothing under --data.dir: %v", err)
	}
}

func TestHelpAndBadConfig(t *testing.T) {
	var out testtool.SyncBuffer
	if code := run(context.Background(), []string{"--help"}, &out, nil); code != 0 || !strings.Contains(out.String(), "--kafka.brokers") {
		t.Fatalf("--help: code %d, output:\n%s", code, out.String())
	}
	bad := filepath.Join(t.TempDir(), "feeds.yaml")
	os.WriteFile(bad, []byte("feeds:\n  - {id: a, url: \"https://x/\", source: S, kind: blog}\n"), 0o600)
	out = testtool.SyncBuffer{}
	if code := run(context.Background(), []string{"--feeds.file", bad}, &out, nil); code != 1 || !strings.Contains(out.String(), bad+":2:") {
		t.Fatalf("bad feeds file: code %d, output:\n%s", code, out.String())
	}
	out = testtool.SyncBuffer{}
	if code := run(context.Background(), []string{"--log.level", "loud"}, &out, nil); code != 1 || !strings.Contains(out.String(), "--log.level") {
		t.Fatalf("bad log level: code %d, output:\n%s", code, out.String())
	}
}

// TestUsageErrors: stray arguments are usage errors (exit 2), like bad
// flags.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"serve"}, {"--web.listen-address", ":0", "extra"}, {"--no-such-flag"}} {
		var out testtool.SyncBuffer
		if code := run(context.Background(), args, &out, nil); code != 2 {
			t.Errorf("%q: exit %d, want 2; output:\n%s", args, code, out.String())
		}
	}
	var out testtool.SyncBuffer
	run(context.Background(), []string{"serve"}, &out, nil)
	if !strings.Contains(out.String(), `unexpected argument "serve"`) {
		t.Errorf("no clear message for a stray argument: %s", out.String())
	}
}

// TestSecondInstanceOnADataDirFails starts tensionwatch twice on one data
// directory: the second fails at once, naming the first, before it opens
// the embedded broker's log.
func TestSecondInstanceOnADataDirFails(t *testing.T) {
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.yaml")
	os.WriteFile(feeds, []byte("allow_private_addresses: true\nfeeds:\n  - {id: desk, url: \"http://127.0.0.1:1/\", source: Desk, kind: news}\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	var logs testtool.SyncBuffer
	go func() {
		done <- run(ctx, []string{"--feeds.file", feeds, "--data.dir", filepath.Join(dir, "data"), "--web.listen-address", "127.0.0.1:0"}, &logs, func(a string) { addrc <- a })
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-addrc:
	case code := <-done:
		t.Fatalf("the first instance exited with %d: %s", code, logs.String())
	}
	var out testtool.SyncBuffer
	code := run(context.Background(), []string{"--feeds.file", feeds, "--data.dir", filepath.Join(dir, "data"), "--web.listen-address", "127.0.0.1:0"}, &out, nil)
	if code != 1 || !strings.Contains(out.String(), "in use by another") || !strings.Contains(out.String(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second instance: exit %d, output:\n%s", code, out.String())
	}
}

// TestListenerThatCannotStart: a port in use fails the start with the
// address in the message, before anything else starts.
func TestListenerThatCannotStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out testtool.SyncBuffer
	code := run(context.Background(), []string{"--data.dir", t.TempDir(), "--web.listen-address", ln.Addr().String()}, &out, nil)
	if code != 1 || !strings.Contains(out.String(), "--web.listen-address "+ln.Addr().String()) {
		t.Fatalf("exit %d, output:\n%s", code, out.String())
	}
}
