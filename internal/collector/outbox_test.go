package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/seen"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func testEvent(i int) events.Event {
	at := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return events.Event{
		ID:        events.ID("desk", fmt.Sprint(i), ""),
		Source:    events.Source{FeedID: "desk", Outlet: "Desk", Kind: events.KindNews, Credibility: 0.8},
		Link:      fmt.Sprintf("https://x/%d", i),
		Title:     fmt.Sprintf("Missile launch %d", i),
		Published: at, Fetched: at,
		Classification: events.Classification{Relevant: true, Type: "weapons_test", Region: "korean_peninsula", Confidence: 0.9},
	}
}

func openOutbox(t *testing.T, p string) *Outbox {
	t.Helper()
	o, err := OpenOutbox(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestOutboxSurvivesReopenInOrder: events appended and not acknowledged are
// queued again, oldest first, after a reopen; acknowledged ones are not; a
// torn last line (a crash in the middle of an append) is ignored.
func TestOutboxSurvivesReopenInOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "outbox.log")
	o := openOutbox(t, p)
	var evs []events.Event
	for i := range 5 {
		evs = append(evs, testEvent(i))
	}
	if err := o.Append(evs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := o.Append(evs[3:]); err != nil {
		t.Fatal(err)
	}
	if err := o.Ack([]string{evs[1].ID}); err != nil {
		t.Fatal(err)
	}
	o.Close()
	f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`+{"v":1,"id":"` + testEvent(9).ID + `","source":{"fe`) // torn
	f.Close()

	o = openOutbox(t, p)
	defer o.Close()
	got := o.Peek(10)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.Title)
	}
	if want := "Missile launch 0,Missile launch 2,Missile launch 3,Missile launch 4"; strings.Join(ids, ",") != want {
		t.Fatalf("after reopen the outbox holds %s, want %s", strings.Join(ids, ","), want)
	}
	if got[0].Classification.Type != "weapons_test" || !got[0].Published.Equal(evs[0].Published) {
		t.Fatalf("event changed on disk: %+v", got[0])
	}
	select {
	case <-o.Ready():
	default:
		t.Fatal("a reopened outbox with events is not ready to drain")
	}
}

// TestOutboxFileStaysSmall: the file is emptied when the queue is, and
// rewritten when most of its records are acknowledgements.
func TestOutboxFileStaysSmall(t *testing.T) {
	p := filepath.Join(t.TempDir(), "outbox.log")
	o := openOutbox(t, p)
	defer o.Close()
	o.Append([]events.Event{testEvent(1), testEvent(2)})
	o.Ack([]string{testEvent(1).ID, testEvent(2).ID})
	if fi, _ := os.Stat(p); fi.Size() != 0 {
		t.Fatalf("empty outbox, file of %d bytes", fi.Size())
	}
	// A backlog that drains while one old event stays.
	o.Append([]events.Event{testEvent(0)})
	for i := 1; i <= 2000; i++ {
		e := testEvent(i)
		o.Append([]events.Event{e})
		o.Ack([]string{e.ID})
	}
	b, _ := os.ReadFile(p)
	if lines := strings.Count(string(b), "\n"); lines > 1100 {
		t.Fatalf("the file holds %d records for one queued event", lines)
	}
	o.Close()
	o = openOutbox(t, p)
	if o.Len() != 1 || o.Peek(1)[0].ID != testEvent(0).ID {
		t.Fatalf("after the rewrites the outbox holds %d events", o.Len())
	}
}

// deadBroker returns an address nothing listens on.
func deadBroker(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestNothingLostWhenKafkaIsDownAndTheItemLeavesItsFeed drives a real
// kafka-go producer: while Kafka is unreachable the fetch succeeds and the
// events wait in the outbox; the collector is stopped, the items leave the
// feed, and the restarted collector (now with Kafka up) produces them from
// the outbox, once, before anything else, and only then marks them seen.
func TestNothingLostWhenKafkaIsDownAndTheItemLeavesItsFeed(t *testing.T) {
	dir := t.TempDir()
	down := bus.NewProducer(bus.Config{Brokers: []string{deadBroker(t)}, Topic: bus.DefaultTopic})
	store, err := seen.Open(filepath.Join(dir, "seen.log"), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ob := openOutbox(t, filepath.Join(dir, "outbox.log"))
	c := New(classifier(t), store, down, prometheus.NewRegistry(), quiet, WithOutbox(ob), WithRetry(20*time.Millisecond, 100*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan struct{})
	go func() { c.Drain(ctx); close(drained) }()
	if err := c.Handle(ctx, feed, result()); err != nil {
		t.Fatalf("the fetch failed while Kafka was down: %v", err)
	}
	waitFor(t, "two failed produce attempts", func() bool { return testutil.ToFloat64(c.fails) >= 2 })
	cancel()
	<-drained
	if err := c.Flush(context.Background()); err == nil {
		t.Fatal("Flush succeeded with Kafka down")
	}
	down.Close()
	ob.Close()
	store.Close()

	// Kafka is back; the feed no longer lists the items.
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{Topic: bus.DefaultTopic, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}
	up := bus.NewProducer(bc)
	defer up.Close()
	store, err = seen.Open(filepath.Join(dir, "seen.log"), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ob = openOutbox(t, filepath.Join(dir, "outbox.log"))
	defer ob.Close()
	if ob.Len() != 2 || store.Len() != 1 { // the fitness item was irrelevant: seen at once
		t.Fatalf("after the restart: outbox %d (want 2), seen %d (want 1)", ob.Len(), store.Len())
	}
	c = New(classifier(t), store, up, prometheus.NewRegistry(), quiet, WithOutbox(ob))
	if err := c.Handle(context.Background(), feed, &fetcher.Result{}); err != nil { // the feed is empty now
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go c.Drain(ctx)
	waitFor(t, "the outbox to drain", func() bool { return ob.Len() == 0 })

	rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer rcancel()
	msgs, err := bus.ReadAll(rctx, bc, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, m := range msgs {
		e, err := events.Unmarshal(m.Value)
		if err != nil {
			continue // not an event (a heartbeat)
		}
		if !store.Has(e.ID) {
			t.Errorf("event %s in Kafka but not marked seen", e.ID)
		}
		titles = append(titles, e.Title)
	}
	if len(titles) != 2 {
		t.Fatalf("the topic holds %d events, want the 2 produced from the outbox: %q", len(titles), titles)
	}
}

// TestDataDirLock: a second collector on the same data directory fails
// with an error naming the directory and the process holding it; once the
// first releases it, it can be taken again.
func TestDataDirLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	unlock, err := LockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDataDir(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock of %s: %v, want ErrLocked", dir, err)
	}
	for _, want := range []string{dir, fmt.Sprintf("pid %d@", os.Getpid()), "--data.dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock, err = LockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock()
}
