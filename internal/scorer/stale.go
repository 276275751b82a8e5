package scorer

import (
	"log/slog"
	"sync"
	"time"
)

// staleLogEvery is how often, at most, the scorer logs the events it
// received older than its window.
const staleLogEvery = time.Minute

// staleEvents notes the events that arrive older than the window (by their
// EventTime, as the index dates them): the index remembers their IDs but
// scores nothing of them, and without this log they would vanish silently
// (a feed serving old items, a replay with its original dates). The first
// is logged at once, then at most one line a minute with the count since
// the last (the refresher flushes what is left).
type staleEvents struct {
	log *slog.Logger

	mu      sync.Mutex
	pending int
	total   int
	oldest  time.Time
	cutoff  time.Time
	logged  time.Time
}

// note counts an event dated t, before cutoff, received at now.
func (s *staleEvents) note(t, cutoff, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending++
	s.total++
	if s.oldest.IsZero() || t.Before(s.oldest) {
		s.oldest = t
	}
	s.cutoff = cutoff
	if now.Sub(s.logged) >= staleLogEvery {
		s.flushLocked(now)
	}
}

// flush logs what was noted since the last line, if a line is due.
func (s *staleEvents) flush(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending > 0 && now.Sub(s.logged) >= staleLogEvery {
		s.flushLocked(now)
	}
}

func (s *staleEvents) flushLocked(now time.Time) {
	s.log.Warn("received events older than the window: they are counted as seen but not scored",
		"events", s.pending, "total", s.total, "oldest", s.oldest.UTC().Format(time.RFC3339), "cutoff", s.cutoff.UTC().Format(time.RFC3339),
		"hint", "an event is dated by its publication; a feed serving old items or tensionwatch --replay.speed 0 sends such events")
	s.pending, s.oldest, s.logged = 0, time.Time{}, now
}
