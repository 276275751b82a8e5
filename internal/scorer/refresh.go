package scorer

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/chain"
	"github.com/tensionwatch/tensionwatch/internal/index"
)

// MaxTop is how many contributions of each number the cached snapshot
// lists: the most /api/v1/index?top= may ask for.
const MaxTop = 50

// current is the snapshot /metrics, /api/v1/index, /api/v1/chains,
// /api/v1/alerts and the page are served from.
type current struct {
	snap   index.Snapshot // with MaxTop contributions per number
	chains chain.Result   // the action–reaction chains at the same time
	at     time.Time
	gen    uint64 // of the events it saw (Scorer.gen)
}

// refresher state, kept apart from the consumer's.
type refresher struct {
	mu      sync.Mutex // one refresh at a time
	cur     atomic.Pointer[current]
	gen     atomic.Uint64 // bumped by every event added
	running atomic.Bool
}

// Run keeps the served snapshot up to date until ctx is done: every
// RefreshInterval it prunes the index and computes one snapshot if events
// were added since the last one, or if the last one is older than
// MaxSnapshotAge (the numbers decay with time). Readers never compute: they
// take the latest snapshot, and the consumer never waits for them.
func (s *Scorer) Run(ctx context.Context) {
	s.rf.running.Store(true)
	defer s.rf.running.Store(false)
	t := time.NewTicker(s.cfg.RefreshInterval)
	defer t.Stop()
	for {
		now := s.cfg.Now()
		if c := s.rf.cur.Load(); c == nil || c.gen != s.rf.gen.Load() || now.Sub(c.at) >= s.cfg.MaxSnapshotAge {
			s.Refresh(now)
		}
		s.stale.flush(now)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh prunes the index and computes the served snapshot and chains at
// now.
func (s *Scorer) Refresh(now time.Time) {
	s.rf.mu.Lock()
	defer s.rf.mu.Unlock()
	gen := s.rf.gen.Load()
	start := time.Now()
	s.ix.Prune(now)
	snap, chains := s.ix.SnapshotAndChains(now, MaxTop)
	s.refreshSeconds.Observe(time.Since(start).Seconds())
	s.rf.cur.Store(&current{snap: snap, chains: chains, at: now, gen: gen})
}

// current returns the served snapshot. Without Run (tests, tools), it
// computes one whenever events were added since the last.
func (s *Scorer) current() *current {
	c := s.rf.cur.Load()
	if c == nil || !s.rf.running.Load() && c.gen != s.rf.gen.Load() {
		s.Refresh(s.cfg.Now())
		c = s.rf.cur.Load()
	}
	return c
}

// withTop returns a copy of snap listing at most top contributions per
// number.
func withTop(snap index.Snapshot, top int) index.Snapshot {
	cut := func(n index.Number) index.Number {
		n.Top = n.Top[:min(top, len(n.Top))]
		return n
	}
	snap.Gauge = cut(snap.Gauge)
	snap.Regions, snap.Categories, snap.Dyads = maps.Clone(snap.Regions), maps.Clone(snap.Categories), maps.Clone(snap.Dyads)
	for _, m := range []map[string]index.Number{snap.Regions, snap.Categories, snap.Dyads} {
		for id, n := range m {
			m[id] = cut(n)
		}
	}
	return snap
}
