package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// The relevant items of testdata/feeds; the fixtures also hold a fitness
// "exercise", a highway "patrol" and a product "launch" that must not become events.
var wantLinks = []string{
	"https://news.example.org/asia/ccg-senkaku",
	"https://news.example.org/asia/dprk-missiles",
	"https://news.example.org/asia/pla-drills-taiwan",
	"https://news.example.org/asia/second-thomas",
	"https://thinktank.example.org/2026/11/hotline",
	"https://thinktank.example.org/2026/11/us-destroyer-transit",
}

type eventsResponse struct {
	Events []events.Event `json:"events"`
	Count  int            `json:"count"`
}

func listedLinks(t testing.TB, base string) []string {
	var r eventsResponse
	getJSON(t, base+"/api/v1/events?limit=1000", &r)
	var links []string
	for _, e := range r.Events {
		links = append(links, e.Link)
	}
	sort.Strings(links)
	return links
}

func indexAt(t testing.TB, base string, at time.Time) json.RawMessage {
	var raw json.RawMessage
	getJSON(t, base+"/api/v1/index?at="+at.UTC().Format(time.RFC3339), &raw)
	// computed_at aside, the numbers must match; the snapshot is computed at
	// the given time, so the whole document is comparable.
	return raw
}

// TestPipelineEndToEnd drives feeds → collector → Kafka → scorer with real
// parts: an httptest feed server, the embedded kfake broker spoken to with
// kafka-go, and the scorer's HTTP API. Then it restarts each side, and reads
// the topic with kcat.
func TestPipelineEndToEnd(t *testing.T) {
	dir := t.TempDir()
	srv := newFeedServer(t)
	feeds := writeFeeds(t, dir, srv.URL, time.Second)

	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: dir + "/kafka", Topic: bus.DefaultTopic, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	bc := bus.Config{Brokers: emb.Addrs(), Topic: bus.DefaultTopic}

	scorer, base := startScorer(t, bc)
	collector := startCollector(t, feeds, bc, dir)

	// 1. Every relevant item reaches the scorer, and only those.
	waitFor(t, "the scorer to list the fixtures' events", 30*time.Second, func() bool {
		return len(listedLinks(t, base)) >= len(wantLinks)
	})
	time.Sleep(300 * time.Millisecond) // let any stray extra event arrive
	if got := listedLinks(t, base); strings.Join(got, "\n") != strings.Join(wantLinks, "\n") {
		t.Fatalf("events listed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLinks, "\n"))
	}
	var r eventsResponse
	getJSON(t, base+"/api/v1/events?limit=1000", &r)
	for _, e := range r.Events {
		c := e.Classification
		if !c.Relevant || c.Type == "" || c.Region == "" || e.Source.FeedID == "" || len(c.Evidence) == 0 {
			t.Errorf("event %s (%q) lacks its classification or source: %+v", e.ID, e.Title, e)
		}
	}

	// 2. The second poll of each feed is answered 304.
	waitFor(t, "a 304 on each feed's second poll", 15*time.Second, func() bool {
		_, a := srv.counts("asia-security.rss")
		_, b := srv.counts("think-tank.atom")
		return a > 0 && b > 0
	})

	// 3. The gauge moved (at the scorer's next refresh).
	waitFor(t, "tensionwatch_index above 0", 15*time.Second, func() bool {
		v, _ := metric(t, base, "tensionwatch_index")
		return v > 0
	})
	for _, region := range []string{"taiwan_strait", "korean_peninsula", "east_china_sea", "south_china_sea", "sea_of_japan", "western_pacific", "east_asia"} {
		if _, ok := metric(t, base, `tensionwatch_region_index{region="`+region+`"}`); !ok {
			t.Errorf("tensionwatch_region_index for %s missing", region)
		}
	}

	// 4. Restart the collector while the server ignores validators, so the
	// restarted collector fetches every item again: nothing is produced twice.
	collector.stop(t)
	before := len(topicMessages(t, bc))
	if before != len(wantLinks) {
		t.Fatalf("topic holds %d messages before the restart, want %d", before, len(wantLinks))
	}
	srv.ignoreValidators.Store(true)
	ok0, _ := srv.counts("asia-security.rss")
	collector = startCollector(t, feeds, bc, dir)
	waitFor(t, "the restarted collector to refetch both feeds twice", 20*time.Second, func() bool {
		a, _ := srv.counts("asia-security.rss")
		return a >= ok0+2
	})
	collector.stop(t)
	if after := len(topicMessages(t, bc)); after != before {
		t.Fatalf("restarted collector produced duplicates: topic went from %d to %d messages", before, after)
	}

	// 5. Restart the scorer: it rebuilds the same numbers from Kafka.
	at := time.Now().Truncate(time.Second)
	want := indexAt(t, base, at)
	scorer.stop(t)
	scorer, base = startScorer(t, bc)
	defer scorer.stop(t)
	waitFor(t, "the restarted scorer to be ready", 20*time.Second, func() bool {
		resp, err := httpGet(base + "/readyz")
		return err == nil && resp == 200
	})
	if got := indexAt(t, base, at); !bytes.Equal(normalise(got), normalise(want)) {
		t.Fatalf("index at %s differs after restart:\nbefore %s\nafter  %s", at, want, got)
	}

	// 6. An independent Kafka client, kcat, reads valid v1 events.
	kcat := requireTool(t, "kcat", "kcat")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-b", strings.Join(bc.Brokers, ","), "-C", "-t", bc.Topic,
		"-o", "beginning", "-e", "-q", "-f", "%k\t%h\t%s\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	// Heartbeats travel beside the events, told apart by their schema
	// header; kcat reads valid ones of both.
	var lines []string
	beats := 0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(l, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("kcat line %q", l)
		}
		if strings.Contains(parts[1], events.SchemaHeartbeatV1) {
			if _, err := events.UnmarshalHeartbeat([]byte(parts[2])); err != nil {
				t.Errorf("kcat read an invalid heartbeat: %v: %s", err, parts[2])
			}
			beats++
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) != len(wantLinks) || beats == 0 {
		t.Fatalf("kcat read %d events and %d heartbeats, want %d events and heartbeats:\n%s", len(lines), beats, len(wantLinks), out)
	}
	for _, l := range lines {
		parts := strings.SplitN(l, "\t", 3)
		e, err := events.Unmarshal([]byte(parts[2]))
		if err != nil {
			t.Errorf("kcat read an invalid event: %v: %s", err, parts[2])
			continue
		}
		if parts[0] != e.ID {
			t.Errorf("message key %q is not the event ID %q", parts[0], e.ID)
		}
		if parts[1] != events.SchemaHeader+"="+events.SchemaV1 {
			t.Errorf("headers %q, want %s=%s", parts[1], events.SchemaHeader, events.SchemaV1)
		}
	}
}
