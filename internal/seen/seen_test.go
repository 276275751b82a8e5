package seen

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// id returns a valid event ID (32 hex characters) for a short name.
func id(name string) string { return fmt.Sprintf("%032x", name) }

// clock is a settable time for a store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func open(t *testing.T, p string, ttl time.Duration, c *clock) *Store {
	t.Helper()
	now := time.Now
	if c != nil {
		now = c.now
	}
	s, err := OpenWithClock(p, ttl, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fileLines(t *testing.T, p string) int {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n") - strings.Count(string(b), headerPrefix)
}

func TestSurvivesReopen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "seen.log")
	s := open(t, p, 0, nil)
	if err := s.Add(id("a"), id("b"), id("a")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if n := fileLines(t, p); n != 2 {
		t.Errorf("%d records for two IDs", n)
	}
	s = open(t, p, 0, nil)
	defer s.Close()
	if !s.Has(id("a")) || !s.Has(id("b")) || s.Has(id("c")) || s.Len() != 2 {
		t.Fatalf("after reopen: a=%v b=%v c=%v len=%d", s.Has(id("a")), s.Has(id("b")), s.Has(id("c")), s.Len())
	}
}

func TestRejectsWhatIsNotAnEventID(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "seen.log"), 0, nil)
	defer s.Close()
	if err := s.Add("not-an-id"); err == nil {
		t.Fatal("Add accepted a non-ID")
	}
	if s.Has("not-an-id") || s.Len() != 0 {
		t.Fatal("a non-ID is held")
	}
}

func TestTornLastLineIsIgnored(t *testing.T) {
	p := filepath.Join(t.TempDir(), "seen.log")
	torn := id("c")[:20]
	if err := os.WriteFile(p, []byte(id("a")+" 100\n"+id("b")+" 1\n"+torn), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, p, 0, nil)
	defer s.Close()
	if !s.Has(id("a")) || !s.Has(id("b")) || s.Has(id("c")) || s.Len() != 2 {
		t.Fatal("torn line handling wrong")
	}
}

// TestForgottenAfterTTLOnceNoLongerListed: an ID is kept while its feed
// lists the item (Touch), for however long; once the feed stops listing it,
// it is forgotten a TTL after it was last listed, and the file shrinks.
func TestForgottenAfterTTLOnceNoLongerListed(t *testing.T) {
	const ttl = 7 * 24 * time.Hour
	p := filepath.Join(t.TempDir(), "seen.log")
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	s := open(t, p, ttl, c)
	defer func() { s.Close() }()

	// A feed lists "kept" and 200 items that leave the feed at once.
	var gone []string
	for i := range 200 {
		gone = append(gone, id(fmt.Sprint("gone", i)))
	}
	if err := s.Add(append([]string{id("kept")}, gone...)...); err != nil {
		t.Fatal(err)
	}
	// Thirty days of hourly polls that list "kept" only.
	for range 30 * 24 {
		c.advance(time.Hour)
		if err := s.Touch(id("kept")); err != nil {
			t.Fatal(err)
		}
		if c.t.Sub(time.Unix(1_800_000_000, 0)) < ttl {
			if _, err := s.Expire(); err != nil {
				t.Fatal(err)
			}
			if !s.Has(gone[0]) {
				t.Fatalf("forgotten %s after it was last listed, before the TTL (%s)", c.t.Sub(time.Unix(1_800_000_000, 0)), ttl)
			}
		}
	}
	before, size := fileLines(t, p), fileSize(t, p)
	forgot, err := s.Expire()
	if err != nil {
		t.Fatal(err)
	}
	if forgot != 200 || s.Has(gone[7]) || !s.Has(id("kept")) || s.Len() != 1 {
		t.Fatalf("Expire forgot %d (want 200); gone held %v, kept held %v, len %d", forgot, s.Has(gone[7]), s.Has(id("kept")), s.Len())
	}
	after, newSize := fileLines(t, p), fileSize(t, p)
	if after != 1 || newSize >= size {
		t.Fatalf("the file was not compacted: %d records (%d bytes) before, %d (%d bytes) after", before, size, after, newSize)
	}
	t.Logf("30 days: %d records (%d bytes) before expiry, %d (%d bytes) after", before, size, after, newSize)

	// The store reopens with what it kept, and "kept" keeps its time.
	s.Close()
	s = open(t, p, ttl, c)
	if s.Len() != 1 || !s.Has(id("kept")) {
		t.Fatalf("after reopen: len %d", s.Len())
	}
	c.advance(ttl - time.Hour)
	if _, err := s.Expire(); err != nil || !s.Has(id("kept")) {
		t.Fatalf("kept forgotten before its TTL after reopen (err %v)", err)
	}
	c.advance(2 * time.Hour)
	if _, err := s.Expire(); err != nil || s.Has(id("kept")) {
		t.Fatalf("kept held past its TTL (err %v)", err)
	}
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestTouchesAreWrittenSparingly: touching a listed ID on every poll writes
// a record only when the one on disk is more than TTL/8 old, so a store
// polled every minute does not grow by a record per item per poll.
func TestTouchesAreWrittenSparingly(t *testing.T) {
	const ttl = 8 * time.Hour // a touch is written at most once an hour
	p := filepath.Join(t.TempDir(), "seen.log")
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	s := open(t, p, ttl, c)
	defer s.Close()
	var ids []string
	for i := range 50 {
		ids = append(ids, id(fmt.Sprint("item", i)))
	}
	if err := s.Add(ids...); err != nil {
		t.Fatal(err)
	}
	for range 24 * 60 { // a day of polls every minute
		c.advance(time.Minute)
		if err := s.Touch(ids...); err != nil {
			t.Fatal(err)
		}
	}
	if n := fileLines(t, p); n > 50*25 {
		t.Fatalf("%d records after a day of touches of 50 IDs; want at most one per ID per hour", n)
	}
	// A crash loses the touches not on disk: at most TTL/8 of an ID's life.
	s2 := open(t, p, ttl, c)
	defer s2.Close()
	c.advance(ttl - ttl/8 - time.Minute)
	if _, err := s2.Expire(); err != nil || s2.Len() != 50 {
		t.Fatalf("after reopen, IDs forgotten more than TTL/8 early: len %d (err %v)", s2.Len(), err)
	}
}

// TestCompactionAfterManyWrites: without any timer, a store that only gets
// writes compacts itself every CheckEvery lines once most records are dead
// (1,000 here).
func TestCompactionAfterManyWrites(t *testing.T) {
	const ttl = 8 * time.Hour
	p := filepath.Join(t.TempDir(), "seen.log")
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	s := open(t, p, ttl, c)
	defer s.Close()
	s.check = 1000
	// One feed of 100 items turning over one item a minute for three days.
	for i := range 3 * 24 * 60 {
		c.advance(time.Minute)
		if err := s.Add(id(fmt.Sprint("i", i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := fileLines(t, p); n > s.check+s.Len() {
		t.Fatalf("%d records for %d live IDs: the store never compacted itself", n, s.Len())
	}
	if max := int(ttl/time.Minute) + 1 + s.check; s.Len() > max {
		t.Fatalf("%d IDs held, want at most the TTL's turnover and the writes since the last check, %d", s.Len(), max)
	}
}

// TestForeverWithoutTTL: with no TTL nothing is forgotten.
func TestForeverWithoutTTL(t *testing.T) {
	p := filepath.Join(t.TempDir(), "seen.log")
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	s := open(t, p, 0, c)
	defer s.Close()
	s.Add(id("old"))
	c.advance(10 * 365 * 24 * time.Hour)
	if _, err := s.Expire(); err != nil || !s.Has(id("old")) {
		t.Fatalf("an ID was forgotten without a TTL (err %v)", err)
	}
}

// TestOlderCollectorsFile: a file written by a collector whose IDs were not
// scoped by feed (no header, times of addition) keeps its IDs for one TTL
// from the upgrade, says so (HoldsLegacyIDs, which makes the collector look
// items up by their old IDs too), and after the TTL holds none of them and
// stops saying so, across reopens.
func TestOlderCollectorsFile(t *testing.T) {
	const ttl = 7 * 24 * time.Hour
	p := filepath.Join(t.TempDir(), "seen.log")
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	added := c.t.Add(-60 * 24 * time.Hour).Unix() // added 60 days ago, under the 90-day rule
	if err := os.WriteFile(p, []byte(fmt.Sprintf("%s %d\n%s %d\n", id("old1"), added, id("old2"), added)), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, p, ttl, c)
	if !s.HoldsLegacyIDs() || !s.Has(id("old1")) {
		t.Fatal("an older collector's file is not marked as holding legacy IDs")
	}
	if _, err := s.Expire(); err != nil || s.Len() != 2 {
		t.Fatalf("legacy IDs forgotten at once (len %d, err %v): every listed item would be produced again", s.Len(), err)
	}
	s.Add(id("new"))
	s.Close()
	c.advance(ttl - time.Minute)
	s = open(t, p, ttl, c)
	if !s.HoldsLegacyIDs() || s.Len() != 3 {
		t.Fatalf("reopened before the deadline: legacy %v, len %d", s.HoldsLegacyIDs(), s.Len())
	}
	c.advance(2 * time.Minute)
	if _, err := s.Expire(); err != nil || s.HoldsLegacyIDs() || s.Has(id("old1")) || s.Has(id("old2")) {
		t.Fatalf("after the TTL: legacy %v, old1 %v (err %v)", s.HoldsLegacyIDs(), s.Has(id("old1")), err)
	}
	s.Compact()
	s.Close()
	s = open(t, p, ttl, c)
	defer s.Close()
	if s.HoldsLegacyIDs() {
		t.Fatal("a compacted store still says it holds legacy IDs")
	}
	// A store created by this version never holds legacy IDs.
	n := open(t, filepath.Join(t.TempDir(), "new.log"), ttl, c)
	defer n.Close()
	n.Add(id("x"))
	if n.HoldsLegacyIDs() {
		t.Fatal("a new store says it holds legacy IDs")
	}
}

// TestMemoryPerID bounds the heap an ID costs: a week of a 2,000-feed
// deployment's items (about half a million IDs) must fit in tens of MiB.
func TestMemoryPerID(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	s := open(t, filepath.Join(t.TempDir(), "seen.log"), 7*24*time.Hour, nil)
	defer s.Close()
	const n = 500_000
	batch := make([]string, 0, 1000)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		batch = append(batch, fmt.Sprintf("%032x", i))
		if len(batch) == cap(batch) {
			if err := s.Add(batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapInuse-before.HeapInuse) / n
	t.Logf("%d IDs: %.0f bytes of heap each, %.1f MiB in all", s.Len(), per, per*n/(1<<20))
	if per > 80 {
		t.Errorf("%.0f bytes of heap per ID, want at most 80", per)
	}
}
