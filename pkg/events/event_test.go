package events

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleEvent() Event {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return Event{
		ID:        ID("f", "guid-1", ""),
		Source:    Source{FeedID: "f", Outlet: "Outlet", Kind: KindNews, Credibility: 0.8},
		Link:      "https://example.com/a",
		Title:     "PLA holds drills around Taiwan",
		Published: now, Fetched: now,
		Classification: Classification{Relevant: true, Type: "military_exercise", Region: "taiwan_strait", Confidence: 0.9},
	}
}

func TestIDIsStableAndPrefersGUID(t *testing.T) {
	if ID("f", "g", "https://a") != ID("f", "g", "https://b") {
		t.Error("the GUID must decide the ID when present")
	}
	if ID("f", " g\n", "") != ID("f", "g", "") {
		t.Error("white space around a GUID must not change the ID")
	}
	if ID("f", "", "https://Example.com:443/x?utm_source=rss#top") != ID("f", "", "https://example.com/x") {
		t.Error("trivially different links must give one ID")
	}
	if ID("f", "", "https://example.com/x") == ID("f", "", "https://example.com/y") {
		t.Error("different links must give different IDs")
	}
	if len(ID("f", "g", "")) != 32 || strings.Trim(ID("f", "g", ""), "0123456789abcdef") != "" {
		t.Error("ID must be 32 lowercase hex characters")
	}
	// The documented recipe, byte for byte (pkg/events/doc.go).
	sum := sha256.Sum256([]byte("feed-a\x00guid-7"))
	if got, want := ID("feed-a", "guid-7", "https://x/7"), hex.EncodeToString(sum[:16]); got != want {
		t.Errorf("ID with a GUID = %s, want sha256(feed_id NUL guid) = %s", got, want)
	}
	sum = sha256.Sum256([]byte("https://example.com/x"))
	if got, want := ID("feed-a", "", "https://EXAMPLE.com/x#frag"), hex.EncodeToString(sum[:16]); got != want {
		t.Errorf("ID without a GUID = %s, want sha256(canonical link) = %s", got, want)
	}
}

// TestIDIsScopedByFeed: two feeds numbering their items "1" publish two
// different items; a GUID is unique only within its feed.
func TestIDIsScopedByFeed(t *testing.T) {
	a := ID("desk-a", "1", "https://a.example/story")
	b := ID("desk-b", "1", "https://b.example/other-story")
	if a == b {
		t.Fatal("GUID \"1\" of two feeds gives one ID: one item would be dropped as a duplicate")
	}
	if ID("desk-a", "1", "") != a {
		t.Error("the ID of an item with a GUID must not depend on its link")
	}
	// Without a GUID the link is global: the same story carried by two
	// feeds is one event.
	if ID("desk-a", "", "https://wire.example/x") != ID("desk-b", "", "https://wire.example/x?utm_medium=rss") {
		t.Error("an item without a GUID must have one ID whichever feed carries it")
	}
}

func TestWireRoundTrip(t *testing.T) {
	e := sampleEvent()
	b, err := Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"v":1`) {
		t.Errorf("wire value lacks the version: %s", b)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != e.ID || got.Classification.Type != e.Classification.Type || !got.Published.Equal(e.Published) {
		t.Errorf("round trip changed the event: %+v", got)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":      `{"v":1,`,
		"other version": `{"v":2,"id":"00000000000000000000000000000000"}`,
		"bad id":        `{"v":1,"id":"xyz","source":{"feed_id":"f"},"published":"2026-01-01T00:00:00Z","fetched":"2026-01-01T00:00:00Z"}`,
		"no times":      `{"v":1,"id":"00000000000000000000000000000000","source":{"feed_id":"f"}}`,
	} {
		if _, err := Unmarshal([]byte(in)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := Unmarshal([]byte(`{"v":2}`)); !errors.Is(err, ErrVersion) {
		t.Errorf("want ErrVersion, got %v", err)
	}
}

// FuzzUnmarshal feeds the wire decoder arbitrary bytes: it must return an
// event that validates, or an error, and never panic.
func FuzzUnmarshal(f *testing.F) {
	good, _ := Marshal(sampleEvent())
	for _, s := range [][]byte{good, []byte(`{"v":1}`), []byte(`{"v":2}`), []byte(`null`), []byte(`{"v":1,"id":"` + strings.Repeat("a", 32) + `"}`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Unmarshal(b)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("decoded an invalid event: %v", err)
		}
		again, err := Marshal(e)
		if err != nil {
			t.Fatalf("a decoded event does not encode: %v", err)
		}
		if _, err := Unmarshal(again); err != nil {
			t.Fatalf("round trip fails: %v", err)
		}
	})
}
