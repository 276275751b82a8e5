// Package seen is the collector's durable memory of the items it has already
// delivered, so that a restart does not produce them again.
//
// The store is an append-only log of "<event id> <unix seconds>" lines, synced
// to disk after every batch. It is rewritten without expired entries when
// it has grown to twice its live size. A torn last line (a crash during a
// write) is ignored on load: its items are delivered again, which the
// scorer's deduplication absorbs.
package seen

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Store is a set of event IDs with the time each was added.
type Store struct {
	mu        sync.Mutex
	path      string
	f         *os.File
	ids       map[string]int64
	lines     int
	retention time.Duration
	now       func() time.Time
}

// Open loads the store at path, creating it if needed. Entries older than
// retention are forgotten at the next compaction (0 keeps them forever).
func Open(path string, retention time.Duration) (*Store, error) {
	s := &Store{path: path, ids: map[string]int64{}, retention: retention, now: time.Now}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("seen: %w", err)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("seen: %w", err)
	}
	s.f = f
	return s, nil
}

func (s *Store) load() error {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("seen: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, ts, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue // torn line
		}
		t, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || id == "" {
			continue
		}
		s.ids[id] = t
		s.lines++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("seen: reading %s: %w", s.path, err)
	}
	return nil
}

// Has reports whether id was added.
func (s *Store) Has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

// Len returns the number of IDs held.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// Add records ids durably: when it returns nil they are on disk.
func (s *Store) Add(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Unix()
	var b strings.Builder
	for _, id := range ids {
		if _, ok := s.ids[id]; ok {
			continue
		}
		fmt.Fprintf(&b, "%s %d\n", id, now)
	}
	if b.Len() == 0 {
		return nil
	}
	if _, err := s.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("seen: appending: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("seen: syncing: %w", err)
	}
	for _, id := range ids {
		if _, ok := s.ids[id]; !ok {
			s.ids[id] = now
			s.lines++
		}
	}
	if s.lines > 1024 && s.lines > 2*len(s.ids) || s.retention > 0 && s.lines > 4096 && s.lines%4096 == 0 {
		return s.compactLocked()
	}
	return nil
}

// Compact rewrites the log with only the live, unexpired entries.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compactLocked()
}

func (s *Store) compactLocked() error {
	if s.retention > 0 {
		cutoff := s.now().Add(-s.retention).Unix()
		for id, t := range s.ids {
			if t < cutoff {
				delete(s.ids, id)
			}
		}
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("seen: compacting: %w", err)
	}
	w := bufio.NewWriter(f)
	for id, t := range s.ids {
		fmt.Fprintf(w, "%s %d\n", id, t)
	}
	if err := errors.Join(w.Flush(), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("seen: compacting: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("seen: compacting: %w", err)
	}
	s.f.Close()
	s.f, err = os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("seen: reopening: %w", err)
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
