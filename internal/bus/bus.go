package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	// Retention is the topic's retention.ms when tensionwatch creates it
	// (0: the broker's default). The scorer replays its window from the
	// topic on every start, so the binaries set it to the window plus two
	// days (index.Retention).
	Retention time.Duration
	Security  Security
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

// EnsureTopic creates the topic if it does not exist, with c.Retention as
// its retention.ms. It is not an error if it already exists, whatever its
// partition count and retention (TopicRetention reads the latter).
func EnsureTopic(ctx context.Context, c Config) error {
	parts, rf := c.Partitions, c.ReplicationFactor
	if parts <= 0 {
		parts = 6
	}
	if rf <= 0 {
		rf = 1
	}
	tc := kafka.TopicConfig{Topic: c.Topic, NumPartitions: parts, ReplicationFactor: rf}
	if c.Retention > 0 {
		tc.ConfigEntries = []kafka.ConfigEntry{{ConfigName: "retention.ms", ConfigValue: strconv.FormatInt(c.Retention.Milliseconds(), 10)}}
	}
	res, err := c.client().CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{tc}})
	if err != nil {
		return fmt.Errorf("bus: creating topic %s at %s: %w", c.Topic, c.brokerList(), err)
	}
	if err := res.Errors[c.Topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("bus: creating topic %s at %s: %w", c.Topic, c.brokerList(), err)
	}
	return nil
}

// Forever is the retention TopicRetention reports for a topic that keeps
// its messages forever (retention.ms -1).
const Forever = time.Duration(-1)

// TopicRetention returns the topic's retention.ms as the brokers apply it
// (the topic's own or the broker's default), or Forever.
func TopicRetention(ctx context.Context, c Config) (time.Duration, error) {
	res, err := c.client().DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: c.Topic, ConfigNames: []string{"retention.ms"},
	}}})
	if err != nil {
		return 0, fmt.Errorf("bus: describing topic %s at %s: %w", c.Topic, c.brokerList(), err)
	}
	for _, r := range res.Resources {
		if r.Error != nil {
			return 0, fmt.Errorf("bus: describing topic %s at %s: %w", c.Topic, c.brokerList(), r.Error)
		}
		for _, e := range r.ConfigEntries {
			if e.ConfigName != "retention.ms" {
				continue
			}
			ms, err := strconv.ParseInt(e.ConfigValue, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bus: topic %s has retention.ms %q", c.Topic, e.ConfigValue)
			}
			if ms < 0 {
				return Forever, nil
			}
			return time.Duration(ms) * time.Millisecond, nil
		}
	}
	return 0, fmt.Errorf("bus: topic %s at %s reports no retention.ms", c.Topic, c.brokerList())
}

// SetTopicRetention sets the topic's retention.ms. Only the embedded broker,
// which tensionwatch owns, is changed this way; a real cluster's topic is
// its operators' (the scorer warns when it keeps too little).
func SetTopicRetention(ctx context.Context, c Config, d time.Duration) error {
	res, err := c.client().IncrementalAlterConfigs(ctx, &kafka.IncrementalAlterConfigsRequest{Resources: []kafka.IncrementalAlterConfigsRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: c.Topic,
		Configs: []kafka.IncrementalAlterConfigsRequestConfig{{Name: "retention.ms", Value: strconv.FormatInt(d.Milliseconds(), 10), ConfigOperation: kafka.ConfigOperationSet}},
	}}})
	if err == nil {
		for _, r := range res.Resources {
			if r.Error != nil {
				err = r.Error
			}
		}
	}
	if err != nil {
		return fmt.Errorf("bus: setting the retention of topic %s at %s: %w", c.Topic, c.brokerList(), err)
	}
	return nil
}

func (c Config) client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(c.Brokers...), Timeout: 10 * time.Second, Transport: c.transport()}
}

// Partitions lists the topic's partition IDs.
func Partitions(ctx context.Context, c Config) ([]int, error) {
	md, err := c.client().Metadata(ctx, &kafka.MetadataRequest{Topics: []string{c.Topic}})
	if err != nil {
		return nil, fmt.Errorf("bus: metadata for %s at %s: %w", c.Topic, c.brokerList(), err)
	}
	for _, t := range md.Topics {
		if t.Name != c.Topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("bus: metadata for %s at %s: %w", c.Topic, c.brokerList(), t.Error)
		}
		ids := make([]int, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			ids = append(ids, p.ID)
		}
		return ids, nil
	}
	return nil, fmt.Errorf("bus: topic %s not found at %s", c.Topic, c.brokerList())
}

// brokerList names the brokers in error messages.
func (c Config) brokerList() string { return strings.Join(c.Brokers, ",") }

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
