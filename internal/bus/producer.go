package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Producer writes events to the topic and returns only once every message of
// a call is acknowledged by all in-sync replicas, or with the error that
// stopped it. kafka-go has no idempotent producer: a retried call can write a
// message twice, which consumers absorb by deduplicating on the event ID.
type Producer struct {
	w *kafka.Writer
}

// NewProducer returns a producer for c. Events are keyed by ID and placed by
// key hash, so one event always lands on one partition.
func NewProducer(c Config) *Producer {
	return &Producer{w: &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Topic:        c.Topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
		BatchSize:    500,
		MaxAttempts:  3,
		Compression:  kafka.Snappy,
		WriteTimeout: 10 * time.Second,
		ReadTimeout:  10 * time.Second,
		Transport:    c.transport(),
	}}
}

// Publish writes evs synchronously.
func (p *Producer) Publish(ctx context.Context, evs []events.Event) error {
	if len(evs) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, 0, len(evs))
	for _, e := range evs {
		m, err := Message(e)
		if err != nil {
			return fmt.Errorf("bus: encoding event %s: %w", e.ID, err)
		}
		msgs = append(msgs, m)
	}
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("bus: producing %d events to %s at %s: %w", len(msgs), p.w.Topic, p.w.Addr, err)
	}
	return nil
}

// Close flushes and closes the writer.
func (p *Producer) Close() error { return p.w.Close() }
