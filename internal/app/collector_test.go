package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/collector"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// TestCleanError: Kafka errors reach the log without Go type names and
// without one copy of the same error per message, and still match what
// they wrap.
func TestCleanError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	we := kafka.WriteErrors{refused, refused, refused, kafka.NotLeaderForPartition}
	err := CleanError(fmt.Errorf("bus: producing 4 events to t at 10.0.0.1:9092: %w", we))
	want := "bus: producing 4 events to t at 10.0.0.1:9092: 3 of 4 messages: dial tcp: connection refused; 1 of 4 messages: [6] Not Leader For Partition"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got  %s\nwant %s...", err, want)
	}
	var got kafka.WriteErrors
	if !errors.As(err, &got) || len(got) != 4 {
		t.Error("the cleaned error no longer wraps what it wrapped")
	}
	err = CleanError(fmt.Errorf("bus: creating topic t at 10.0.0.1:9092: %w", fmt.Errorf("kafka.(*Client).CreateTopics: %w", refused)))
	if got := err.Error(); got != "bus: creating topic t at 10.0.0.1:9092: dial tcp: connection refused" {
		t.Errorf("got %s", got)
	}
	plain := errors.New("plain")
	if CleanError(plain) != plain || CleanError(nil) != nil {
		t.Error("an error without type names must pass unchanged")
	}
}

// TestRunCollectorDrainsTheOutboxBeforePolling: events left in the outbox
// by an earlier run are produced before the first feed is fetched.
func TestRunCollectorDrainsTheOutboxBeforePolling(t *testing.T) {
	dir := t.TempDir()
	ob, err := collector.OpenOutbox(filepath.Join(dir, OutboxFile), 0)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Second)
	var backlog []events.Event
	for i := range 3 {
		backlog = append(backlog, events.Event{ID: events.ID("old", fmt.Sprint(i), ""), Source: events.Source{FeedID: "old", Outlet: "Old", Kind: events.KindNews, Credibility: 0.8},
			Link: fmt.Sprintf("https://x/old/%d", i), Title: "North Korea fires ballistic missile", Published: at, Fetched: at,
			Classification: events.Classification{Relevant: true, Type: "weapons_test", Region: "korean_peninsula", Confidence: 0.9}})
	}
	if err := ob.Append(backlog); err != nil {
		t.Fatal(err)
	}
	ob.Close()

	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	var (
		mu           sync.Mutex
		outboxAtPoll = int64(-1)
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if outboxAtPoll < 0 {
			fi, err := os.Stat(filepath.Join(dir, OutboxFile))
			if err == nil {
				outboxAtPoll = fi.Size()
			}
		}
		mu.Unlock()
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x/</link><description>d</description></channel></rss>`)
	}))
	defer srv.Close()
	clf, err := classify.NewDefault(events.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunCollector(ctx, CollectorOptions{
			Feeds:      &feedlist.List{AllowPrivateAddresses: true, Feeds: []feedlist.Feed{{ID: "new", URL: srv.URL, Source: "New", Kind: "news", Credibility: 0.8, Interval: time.Hour}}},
			Classifier: clf, Bus: bc, DataDir: dir, Registry: prometheus.NewRegistry(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		polled := outboxAtPoll >= 0
		mu.Unlock()
		if polled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the feed was never polled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if outboxAtPoll != 0 {
		t.Fatalf("the first poll came with %d bytes in the outbox: the backlog was not produced first", outboxAtPoll)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer rcancel()
	msgs, err := bus.ReadAll(rctx, bc, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	evs := 0
	for _, m := range msgs {
		if !bus.IsHeartbeat(m) {
			evs++
		}
	}
	if evs != 3 {
		t.Fatalf("%d events in the topic, want the backlog's 3", evs)
	}
}
