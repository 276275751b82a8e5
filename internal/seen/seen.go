// Package seen is the collector's durable memory of the items it has already
// handled (delivered to Kafka, or classified as irrelevant), so that neither
// a new poll nor a restart produces them again.
//
// An ID is kept while its feed still lists the item and for a TTL after the
// collector last saw it listed (Touch); then it is forgotten (Expire). A
// feed that drops an item never lists it again, so the store holds about
// what the feeds list plus a TTL's worth of turnover, however long it runs.
//
// The store is an append-only log of "<event id> <unix seconds>" lines: an
// Add is synced to disk before it returns; a Touch is written only when the
// time on disk has fallen more than a TTL/8 behind (and is not synced: a
// lost touch makes an ID expire at most TTL/8 early). A later line for an
// ID supersedes the earlier ones, which are then dead records. Expire runs
// on a timer and after every CheckEvery appended lines; it drops the IDs not
// listed for a TTL and rewrites the file (write, sync, rename) when more than
// half of its records are dead. A torn last line (a crash during a write)
// is ignored on load: its items are delivered again, which the scorer's
// deduplication absorbs.
//
// The file's first line is a header, "# tensionwatch seen v2
// legacy-until=<unix seconds>". A file without it was written by a
// collector whose event IDs were not scoped by feed: its IDs are kept for a
// TTL from the upgrade, and HoldsLegacyIDs says so until then, so that the
// collector also looks items up by their old IDs and an upgrade produces
// nothing twice.
package seen

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CheckEvery is the number of appended lines after which Add and Touch run
// Expire themselves, so that a busy store compacts between timer ticks.
const CheckEvery = 16384

// key is an event ID (32 hex characters) in binary: half the memory of the
// string, which matters at millions of IDs.
type key [16]byte

func parseKey(id string) (key, bool) {
	var k key
	if len(id) != 2*len(k) {
		return k, false
	}
	if _, err := hex.Decode(k[:], []byte(id)); err != nil {
		return k, false
	}
	return k, true
}

// entry holds when an ID was last listed by its feed, and the time its
// newest line on disk says, in Unix seconds (uint32 lasts until 2106 and
// makes an ID cost a quarter less than int64 would).
type entry struct {
	last, disk uint32
}

// secs converts Unix seconds to an entry's time.
func secs(t int64) uint32 { return uint32(min(max(t, 0), math.MaxUint32)) }

// Store is a set of event IDs with the time each was last seen listed.
type Store struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	ids     map[key]entry
	lines   int // records in the file, live and dead
	written int // lines appended since the last expiry check
	check   int // CheckEvery
	// legacyUntil is when the last ID of an older collector (IDs not
	// scoped by feed) will have expired; 0 if the store never held any.
	legacyUntil int64
	ttl         time.Duration
	now         func() time.Time
}

// Open loads the store at path, creating it if needed. An ID not listed for
// ttl is forgotten by the next Expire (0 keeps every ID forever).
func Open(path string, ttl time.Duration) (*Store, error) {
	return OpenWithClock(path, ttl, time.Now)
}

// OpenWithClock is Open with the store's clock (tests set their own).
func OpenWithClock(path string, ttl time.Duration, now func() time.Time) (*Store, error) {
	s := &Store{path: path, ids: map[key]entry{}, ttl: ttl, now: now, check: CheckEvery}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("seen store: %w", err)
	}
	header, err := s.load()
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("seen store: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		syncDir(filepath.Dir(path)) // the new file's name is durable too
	}
	s.f = f
	if !header {
		// A new file, or one an older collector wrote: its IDs were not
		// scoped by feed, and are kept for a TTL from now, while the
		// collector looks items up by their old IDs too. The header says
		// so from now on.
		if s.lines > 0 {
			now := s.now().Unix()
			s.legacyUntil = math.MaxInt64 // without a TTL nothing expires
			if s.ttl > 0 {
				s.legacyUntil = now + int64(s.ttl/time.Second)
			}
			for k, e := range s.ids {
				e.last = max(e.last, secs(now)) // their time said "added", not "last listed"
				s.ids[k] = e
			}
		}
		if err := s.compactLocked(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return s, nil
}

// headerPrefix starts the first line of a store's file: the format, and
// until when it may hold IDs of an older collector.
const headerPrefix = "# tensionwatch seen v2 legacy-until="

// HoldsLegacyIDs reports whether the store may still hold IDs written by a
// collector older than feed-scoped IDs (events.ID before feed IDs): the
// collector then also looks an item up by its old ID.
func (s *Store) HoldsLegacyIDs() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.legacyUntil > s.now().Unix()
}

// load reads the file, if any, and reports whether it has a header.
func (s *Store) load() (header bool, err error) {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("seen store: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), headerPrefix); ok {
			header = true
			s.legacyUntil, _ = strconv.ParseInt(v, 10, 64)
			continue
		}
		id, ts, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue // torn line
		}
		t, err := strconv.ParseInt(ts, 10, 64)
		k, valid := parseKey(id)
		if err != nil || !valid {
			continue
		}
		s.lines++
		if e, ok := s.ids[k]; !ok || secs(t) > e.last {
			s.ids[k] = entry{last: secs(t), disk: secs(t)}
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("seen store: reading %s: %w", s.path, err)
	}
	return header, nil
}

// Has reports whether id is held.
func (s *Store) Has(id string) bool {
	k, ok := parseKey(id)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok = s.ids[k]
	return ok
}

// Len returns the number of IDs held.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// Records returns the number of records in the file, live and dead.
func (s *Store) Records() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines
}

// Add records ids as seen now, durably: when it returns nil they are on
// disk. IDs must be event IDs (32 lowercase hex characters).
func (s *Store) Add(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Unix()
	var b strings.Builder
	var add []key
	inCall := make(map[key]bool, len(ids))
	for _, id := range ids {
		k, ok := parseKey(id)
		if !ok {
			return fmt.Errorf("seen store: %q is not an event ID", id)
		}
		if e, held := s.ids[k]; held && e.disk == secs(now) || inCall[k] {
			continue
		}
		inCall[k] = true
		fmt.Fprintf(&b, "%s %d\n", id, now)
		add = append(add, k)
	}
	if len(add) == 0 {
		return nil
	}
	if _, err := s.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("seen store: appending to %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("seen store: syncing %s: %w", s.path, err)
	}
	for _, k := range add {
		s.ids[k] = entry{last: secs(now), disk: secs(now)}
	}
	s.lines += len(add)
	return s.afterWriteLocked(len(add))
}

// Touch records that the held ones of ids are still listed by their feed,
// which keeps them for another TTL. IDs not held are ignored. The new time
// is written when the one on disk is more than TTL/8 old, without a sync.
func (s *Store) Touch(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Unix()
	refresh := int64(s.ttl / 8 / time.Second)
	var b strings.Builder
	n := 0
	for _, id := range ids {
		k, ok := parseKey(id)
		if !ok {
			continue
		}
		e, held := s.ids[k]
		if !held {
			continue
		}
		e.last = max(e.last, secs(now))
		if s.ttl > 0 && now-int64(e.disk) > refresh {
			fmt.Fprintf(&b, "%s %d\n", id, now)
			e.disk = secs(now)
			n++
		}
		s.ids[k] = e
	}
	if n == 0 {
		return nil
	}
	if _, err := s.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("seen store: appending to %s: %w", s.path, err)
	}
	s.lines += n
	return s.afterWriteLocked(n)
}

func (s *Store) afterWriteLocked(n int) error {
	s.written += n
	if s.written < s.check {
		return nil
	}
	_, err := s.expireLocked()
	return err
}

// Expire forgets the IDs not listed for a TTL and, when more than half of
// the file's records are then dead, rewrites it with the live ones only.
// It returns how many IDs it forgot.
func (s *Store) Expire() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expireLocked()
}

func (s *Store) expireLocked() (int, error) {
	s.written = 0
	forgot := 0
	if s.ttl > 0 {
		cutoff := s.now().Add(-s.ttl).Unix()
		for k, e := range s.ids {
			if int64(e.last) < cutoff {
				delete(s.ids, k)
				forgot++
			}
		}
	}
	if dead := s.lines - len(s.ids); dead > 0 && dead*2 > s.lines {
		return forgot, s.compactLocked()
	}
	return forgot, nil
}

// Compact rewrites the log with one record per ID held, whatever the share
// of dead records.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compactLocked()
}

func (s *Store) compactLocked() error {
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("seen store: compacting: %w", err)
	}
	w := bufio.NewWriter(f)
	if s.legacyUntil <= s.now().Unix() {
		s.legacyUntil = 0
	}
	fmt.Fprintf(w, "%s%d\n", headerPrefix, s.legacyUntil)
	var hexID [32]byte
	for k, e := range s.ids {
		// The newest time is written, touches not yet on disk included.
		hex.Encode(hexID[:], k[:])
		w.Write(hexID[:])
		w.WriteByte(' ')
		w.WriteString(strconv.FormatInt(int64(e.last), 10))
		w.WriteByte('\n')
	}
	if err := errors.Join(w.Flush(), f.Sync(), f.Close()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("seen store: compacting: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("seen store: compacting: %w", err)
	}
	syncDir(filepath.Dir(s.path))
	s.f.Close()
	s.f, err = os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("seen store: reopening %s: %w", s.path, err)
	}
	for k, e := range s.ids {
		e.disk = e.last
		s.ids[k] = e
	}
	s.lines = len(s.ids)
	return nil
}

// Close closes the log file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Close()
}

// syncDir makes a directory entry (a created or renamed file) durable. It
// is best effort: not every file system supports syncing a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
