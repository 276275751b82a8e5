package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Handler receives each message of every partition, one at a time.
// replayed is true for a message that was already in its partition when
// ConsumeAll started: part of the start-up replay, not news.
type Handler func(m kafka.Message, replayed bool) error

// Replay describes a completed start-up replay.
type Replay struct {
	Partitions int
	Messages   int64 // messages read in the replay
	// Truncated lists the partitions whose retention has already dropped
	// messages written after since: the earliest message they retain is
	// newer than since and is not their first ever. Numbers computed
	// from such a replay are partial.
	Truncated []int
	// Earliest is the time of the earliest message read in the replay in a
	// truncated partition (zero if none is truncated).
	Earliest time.Time
}

// ConsumeAll reads every partition of the topic, starting in each at the
// first message written at or after since, and calls handle for each message
// from a single goroutine. caughtUp, if not nil, is called once when every
// partition has been read up to the end it had when ConsumeAll started: the
// start-up replay is then complete, and Replay says whether the topic still
// held everything since asked for. ConsumeAll returns when ctx is done (with
// nil) or on an error it cannot retry. Partitions added after the start are
// not read until the next start.
//
// No consumer group is used: every replica reads everything and keeps its
// own, complete copy of the index, and its start point is a time, not a
// committed offset.
func ConsumeAll(ctx context.Context, c Config, since time.Time, handle Handler, caughtUp func(Replay), log *slog.Logger) error {
	parts, err := Partitions(ctx, c)
	if err != nil {
		return err
	}
	type start struct{ first, from, end int64 }
	starts := make(map[int]start, len(parts))
	for _, p := range parts {
		first, from, end, err := offsetsSince(ctx, c, p, since)
		if err != nil {
			return err
		}
		starts[p] = start{first, from, end}
	}

	msgs := make(chan kafka.Message, 256)
	errc := make(chan error, len(parts))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers:   c.Brokers,
			Topic:     c.Topic,
			Partition: p,
			MinBytes:  1,
			MaxBytes:  10 << 20,
			MaxWait:   250 * time.Millisecond,
			Dialer:    c.dialer(),
		})
		if err := r.SetOffset(starts[p].from); err != nil {
			r.Close()
			return fmt.Errorf("bus: partition %d of %s at %s: %w", p, c.Topic, c.brokerList(), err)
		}
		wg.Add(1)
		go func(p int, r *kafka.Reader) {
			defer wg.Done()
			defer r.Close()
			for {
				m, err := r.FetchMessage(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errc <- fmt.Errorf("bus: reading partition %d of %s at %s: %w", p, c.Topic, c.brokerList(), err)
					}
					return
				}
				select {
				case msgs <- m:
				case <-ctx.Done():
					return
				}
			}
		}(p, r)
	}
	defer wg.Wait()

	pending := map[int]bool{}
	for p, s := range starts {
		if s.from < s.end {
			pending[p] = true
		}
	}
	if log != nil {
		log.Info("replaying events topic", "topic", c.Topic, "partitions", len(parts), "since", since.UTC().Format(time.RFC3339), "partitions_behind", len(pending))
	}
	rep := Replay{Partitions: len(parts)}
	signal := func() {
		if caughtUp != nil {
			sort.Ints(rep.Truncated)
			caughtUp(rep)
			caughtUp = nil
		}
	}
	if len(pending) == 0 {
		signal()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case m := <-msgs:
			st := starts[m.Partition]
			if m.Offset < st.end {
				rep.Messages++
				// The first retained message, not the partition's first
				// ever, and newer than since: retention dropped some of
				// the window.
				if m.Offset == st.from && st.from == st.first && st.first > 0 && m.Time.After(since) {
					rep.Truncated = append(rep.Truncated, m.Partition)
					if rep.Earliest.IsZero() || m.Time.Before(rep.Earliest) {
						rep.Earliest = m.Time
					}
				}
			}
			if err := handle(m, m.Offset < st.end); err != nil {
				return err
			}
			if pending[m.Partition] && m.Offset+1 >= starts[m.Partition].end {
				delete(pending, m.Partition)
				if len(pending) == 0 {
					signal()
				}
			}
		}
	}
}

// offsetsSince returns the first retained offset, the first offset at or
// after t and the end offset (the next offset to be written) of a partition.
func offsetsSince(ctx context.Context, c Config, p int, t time.Time) (first, from, end int64, err error) {
	d := c.dialer()
	var conn *kafka.Conn
	for _, b := range c.Brokers {
		conn, err = d.DialLeader(ctx, "tcp", b, c.Topic, p)
		if err == nil {
			break
		}
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("bus: dialling the leader of partition %d of %s at %s: %w", p, c.Topic, c.brokerList(), err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	first, end, err = conn.ReadOffsets()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("bus: offsets of partition %d of %s at %s: %w", p, c.Topic, conn.RemoteAddr(), err)
	}
	from, err = conn.ReadOffset(t)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("bus: offset at %s of partition %d of %s at %s: %w", t.Format(time.RFC3339), p, c.Topic, conn.RemoteAddr(), err)
	}
	switch {
	case from < 0: // no message at or after t
		from = end
	case from < first:
		from = first
	}
	return first, from, end, nil
}

// ErrStopped is returned by a handler to stop ConsumeAll without error.
var ErrStopped = errors.New("bus: stopped")

// ReadAll returns every message of the topic written at or after since, up
// to the end each partition had when it was called.
func ReadAll(ctx context.Context, c Config, since time.Time) ([]kafka.Message, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		out  []kafka.Message
		done bool
	)
	err := ConsumeAll(ctx, c, since, func(m kafka.Message, _ bool) error {
		out = append(out, m)
		return nil
	}, func(Replay) { done = true; cancel() }, nil)
	if err != nil {
		return nil, err
	}
	if !done {
		return nil, fmt.Errorf("bus: reading %s: %w", c.Topic, context.Cause(ctx))
	}
	return out, nil
}
