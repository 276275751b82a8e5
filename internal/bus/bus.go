package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Config says where the events topic lives.
type Config struct {
	Brokers           []string
	Topic             string
	Partitions        int // used only when the topic is created
	ReplicationFactor int // used only when the topic is created
	Security          Security
}

// DefaultTopic is the events topic's default name.
const DefaultTopic = "tensionwatch.events.v1"

// Validate checks the configuration.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("bus: no Kafka brokers configured")
	}
	for _, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			return fmt.Errorf("bus: broker %q: want host:port", b)
		}
	}
	if c.Topic == "" {
		return errors.New("bus: empty topic name")
	}
	return nil
}

// EnsureTopic creates the topic if it does not exist. It is not an error if
// it already exists, whatever its partition count.
func EnsureTopic(ctx context.Context, c Config) error {
	parts, rf := c.Partitions, c.ReplicationFactor
	if parts <= 0 {
		parts = 6
	}
	if rf <= 0 {
		rf = 1
	}
	cl := &kafka.Client{Addr: kafka.TCP(c.Brokers...), Timeout: 10 * time.Second, Transport: c.transport()}
	res, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: c.Topic, NumPartitions: parts, ReplicationFactor: rf,
	}}})
	if err != nil {
		return fmt.Errorf("bus: creating topic %s: %w", c.Topic, err)
	}
	if err := res.Errors[c.Topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("bus: creating topic %s: %w", c.Topic, err)
	}
	return nil
}

// Partitions lists the topic's partition IDs.
func Partitions(ctx context.Context, c Config) ([]int, error) {
	cl := &kafka.Client{Addr: kafka.TCP(c.Brokers...), Timeout: 10 * time.Second, Transport: c.transport()}
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{c.Topic}})
	if err != nil {
		return nil, fmt.Errorf("bus: metadata for %s: %w", c.Topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != c.Topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("bus: metadata for %s: %w", c.Topic, t.Error)
		}
		ids := make([]int, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			ids = append(ids, p.ID)
		}
		return ids, nil
	}
	return nil, fmt.Errorf("bus: topic %s not found", c.Topic)
}

// Message turns an event into its Kafka message (see package events).
func Message(e events.Event) (kafka.Message, error) {
	v, err := events.Marshal(e)
	if err != nil {
		return kafka.Message{}, err
	}
	return kafka.Message{
		Key:     []byte(e.ID),
		Value:   v,
		Time:    e.Fetched,
		Headers: []kafka.Header{{Key: events.SchemaHeader, Value: []byte(events.SchemaV1)}},
	}, nil
}
