package collector

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// DefaultOutboxLimit is the most events an outbox holds by default: days of
// a large deployment's events while Kafka is away, a few hundred MB at most.
const DefaultOutboxLimit = 50000

// ErrOutboxFull is returned by Append when the outbox holds its limit.
var ErrOutboxFull = errors.New("outbox full")

// Outbox is the collector's durable queue of classified events that Kafka
// has not acknowledged yet, in a file of the data directory. Append syncs
// the events to disk before it returns; the drainer produces them in order
// and acknowledges them (Ack) once Kafka has, after the seen store recorded
// them. On open, the events appended and not acknowledged are queued again.
//
// The file holds one record a line: "+" and an event in wire format, or
// "-" and the ID of an acknowledged event. Acknowledgements are not synced:
// one lost in a crash only queues again an event the seen store holds,
// which the drainer drops without producing it. The file is emptied when the
// queue is, and rewritten when most of its records are acknowledged ones.
type Outbox struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	queue   []events.Event // oldest first
	pending map[string]bool
	lines   int // records in the file
	limit   int
	ready   chan struct{}
}

// OpenOutbox opens the outbox at path, creating it if needed, and queues the
// events it holds. limit caps the events it accepts (0: DefaultOutboxLimit).
func OpenOutbox(path string, limit int) (*Outbox, error) {
	if limit <= 0 {
		limit = DefaultOutboxLimit
	}
	o := &Outbox{path: path, pending: map[string]bool{}, limit: limit, ready: make(chan struct{}, 1)}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if err := o.load(); err != nil {
		return nil, err
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		syncDir(filepath.Dir(path))
	}
	o.f = f
	if len(o.queue) > 0 {
		o.ready <- struct{}{}
	}
	return o, nil
}

func (o *Outbox) load() error {
	f, err := os.Open(o.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	acked := map[string]bool{}
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) < 2 {
			continue
		}
		o.lines++
		switch line[0] {
		case '+':
			e, err := events.Unmarshal(line[1:])
			if err != nil {
				continue // a torn last line: its fetch never completed
			}
			if !o.pending[e.ID] {
				o.pending[e.ID] = true
				o.queue = append(o.queue, e)
			}
		case '-':
			acked[string(line[1:])] = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("outbox: reading %s: %w", o.path, err)
	}
	if len(acked) > 0 {
		o.queue = slices.DeleteFunc(o.queue, func(e events.Event) bool { return acked[e.ID] })
		for id := range acked {
			delete(o.pending, id)
		}
	}
	return nil
}

// Append queues evs durably: when it returns nil they are on disk. It
// fails with ErrOutboxFull, queueing nothing, when they would exceed the
// limit.
func (o *Outbox) Append(evs []events.Event) error {
	if len(evs) == 0 {
		return nil
	}
	b, err := records(evs)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queue)+len(evs) > o.limit {
		return fmt.Errorf("%w: %d events wait for Kafka (the limit is %d)", ErrOutboxFull, len(o.queue), o.limit)
	}
	if _, err := o.f.Write(b.Bytes()); err != nil {
		return fmt.Errorf("outbox: appending to %s: %w", o.path, err)
	}
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("outbox: syncing %s: %w", o.path, err)
	}
	o.lines += len(evs)
	for _, e := range evs {
		if !o.pending[e.ID] {
			o.pending[e.ID] = true
			o.queue = append(o.queue, e)
		}
	}
	select {
	case o.ready <- struct{}{}:
	default:
	}
	return nil
}

// Ready is signalled when events were appended (or found on open).
func (o *Outbox) Ready() <-chan struct{} { return o.ready }

// Has reports whether the event id is queued.
func (o *Outbox) Has(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pending[id]
}

// Len returns the number of events queued.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// Oldest returns the fetch time of the oldest event queued, zero if none.
func (o *Outbox) Oldest() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queue) == 0 {
		return time.Time{}
	}
	return o.queue[0].Fetched
}

// Peek returns up to n of the oldest events queued.
func (o *Outbox) Peek(n int) []events.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.queue[:min(n, len(o.queue))])
}

// Ack removes the events ids from the queue: Kafka acknowledged them and
// the seen store holds them.
func (o *Outbox) Ack(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	acked := make(map[string]bool, len(ids))
	var b bytes.Buffer
	for _, id := range ids {
		if o.pending[id] && !acked[id] {
			acked[id] = true
			delete(o.pending, id)
			b.WriteByte('-')
			b.WriteString(id)
			b.WriteByte('\n')
		}
	}
	if len(acked) == 0 {
		return nil
	}
	o.queue = slices.DeleteFunc(o.queue, func(e events.Event) bool { return acked[e.ID] })
	if len(o.queue) == 0 {
		// Nothing left to drain: start the file afresh.
		o.queue = nil
		o.lines = 0
		if err := o.f.Truncate(0); err != nil {
			return fmt.Errorf("outbox: emptying %s: %w", o.path, err)
		}
		return nil
	}
	if _, err := o.f.Write(b.Bytes()); err != nil {
		return fmt.Errorf("outbox: appending to %s: %w", o.path, err)
	}
	o.lines += len(acked)
	if o.lines >= 1024 && o.lines > 2*len(o.queue) {
		return o.rewriteLocked()
	}
	return nil
}

// records encodes events as the outbox's "+" records, a line each.
func records(evs []events.Event) (*bytes.Buffer, error) {
	var b bytes.Buffer
	for _, e := range evs {
		v, err := events.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		b.WriteByte('+')
		b.Write(v)
		b.WriteByte('\n')
	}
	return &b, nil
}

// rewriteLocked replaces the file with the queued events only.
func (o *Outbox) rewriteLocked() error {
	b, err := records(o.queue)
	if err != nil {
		return err
	}
	tmp := o.path + ".tmp"
	if err := writeSynced(tmp, b.Bytes()); err != nil {
		return fmt.Errorf("outbox: rewriting %s: %w", o.path, err)
	}
	if err := os.Rename(tmp, o.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("outbox: rewriting %s: %w", o.path, err)
	}
	syncDir(filepath.Dir(o.path))
	o.f.Close()
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("outbox: reopening %s: %w", o.path, err)
	}
	o.f = f
	o.lines = len(o.queue)
	return nil
}

// Close closes the file; the queue stays on disk for the next open.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.f.Close()
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
	}
	return err
}

// syncDir makes a directory entry durable; best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
