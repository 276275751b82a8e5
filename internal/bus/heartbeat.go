package bus

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// IsHeartbeat reports whether a message is a collector's heartbeat rather
// than an event.
func IsHeartbeat(m kafka.Message) bool {
	for _, h := range m.Headers {
		if h.Key == events.SchemaHeader {
			return string(h.Value) == events.SchemaHeartbeatV1
		}
	}
	return false
}

// PublishHeartbeat writes a collector's heartbeat to the topic, keyed by
// the collector so that one collector's heartbeats stay in order.
func (p *Producer) PublishHeartbeat(ctx context.Context, h events.Heartbeat) error {
	b, err := events.MarshalHeartbeat(h)
	if err != nil {
		return err
	}
	m := kafka.Message{Key: []byte("heartbeat/" + h.Collector), Value: b, Time: h.Time,
		Headers: []kafka.Header{{Key: events.SchemaHeader, Value: []byte(events.SchemaHeartbeatV1)}}}
	if err := p.w.WriteMessages(ctx, m); err != nil {
		return fmt.Errorf("bus: producing a heartbeat to %s at %v: %w", p.w.Topic, p.w.Addr, err)
	}
	return nil
}
