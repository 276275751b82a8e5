package app

import (
	"flag"
	"strings"

	"github.com/tensionwatch/tensionwatch/internal/bus"
)

// KafkaConfig holds the --kafka.* flags.
type KafkaConfig struct {
	Brokers           string
	Topic             string
	Partitions        int
	ReplicationFactor int
}

// RegisterFlags registers the Kafka flags. brokersHelp explains the default.
func (c *KafkaConfig) RegisterFlags(fs *flag.FlagSet, brokersDefault, brokersHelp string) {
	fs.StringVar(&c.Brokers, "kafka.brokers", brokersDefault, brokersHelp)
	fs.StringVar(&c.Topic, "kafka.topic", bus.DefaultTopic, "the events topic")
	fs.IntVar(&c.Partitions, "kafka.partitions", 6, "partitions of the events topic when tensionwatch creates it")
	fs.IntVar(&c.ReplicationFactor, "kafka.replication-factor", 1, "replication factor of the events topic when tensionwatch creates it")
}

// Bus returns the bus configuration for the given broker list.
func (c KafkaConfig) Bus(brokers []string) bus.Config {
	return bus.Config{Brokers: brokers, Topic: c.Topic, Partitions: c.Partitions, ReplicationFactor: c.ReplicationFactor}
}

// BrokerList splits the --kafka.brokers value.
func (c KafkaConfig) BrokerList() []string {
	var out []string
	for _, b := range strings.Split(c.Brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}
