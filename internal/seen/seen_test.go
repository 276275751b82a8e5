package seen

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSurvivesReopen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "seen.log")
	s, err := Open(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add("a", "b", "a"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Has("a") || !s.Has("b") || s.Has("c") || s.Len() != 2 {
		t.Fatalf("after reopen: a=%v b=%v c=%v len=%d", s.Has("a"), s.Has("b"), s.Has("c"), s.Len())
	}
}

func TestTornLastLineIsIgnored(t *testing.T) {
	p := filepath.Join(t.TempDir(), "seen.log")
	if err := os.WriteFile(p, []byte("a 100\nb 1"+"\nc"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Has("a") || !s.Has("b") || s.Has("c") {
		t.Fatal("torn line handling wrong")
	}
}

func TestCompactionDropsExpiredAndKeepsLive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "seen.log")
	s, err := Open(p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_000_000, 0)
	s.now = func() time.Time { return now }
	if err := s.Add("old"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	for i := range 10 {
		if err := s.Add(fmt.Sprint("new", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if s.Has("old") || !s.Has("new3") {
		t.Fatal("compaction kept the expired entry or lost a live one")
	}
	if err := s.Add("after"); err != nil { // the reopened file is appendable
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Len() != 11 || !s2.Has("after") {
		t.Fatalf("after compaction and reopen: len %d", s2.Len())
	}
}
