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
	Security          bus.SecurityConfig
}

// RegisterFlags registers the Kafka flags. brokersHelp explains the default.
func (c *KafkaConfig) RegisterFlags(fs *flag.FlagSet, brokersDefault, brokersHelp string) {
	fs.StringVar(&c.Brokers, "kafka.brokers", brokersDefault, brokersHelp)
	fs.StringVar(&c.Topic, "kafka.topic", bus.DefaultTopic, "the events topic")
	fs.IntVar(&c.Partitions, "kafka.partitions", 6, "partitions of the events topic when tensionwatch creates it")
	fs.IntVar(&c.ReplicationFactor, "kafka.replication-factor", 1, "replication factor of the events topic when tensionwatch creates it")
	fs.BoolVar(&c.Security.TLS, "kafka.tls.enabled", false, "connect to the brokers over TLS")
	fs.StringVar(&c.Security.CAFile, "kafka.tls.ca-file", "", "PEM file of the CA that signed the brokers' certificates (implies --kafka.tls.enabled)")
	fs.BoolVar(&c.Security.InsecureSkipVerify, "kafka.tls.insecure-skip-verify", false, "do not verify the brokers' certificates (testing only)")
	fs.StringVar(&c.Security.SASLMechanism, "kafka.sasl.mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: none)")
	fs.StringVar(&c.Security.Username, "kafka.sasl.username", "", "SASL user name")
	fs.StringVar(&c.Security.PasswordFile, "kafka.sasl.password-file", "", "file holding the SASL password (never passed on the command line, never logged)")
}

// Bus returns the validated bus configuration for the given broker list.
func (c KafkaConfig) Bus(brokers []string) (bus.Config, error) {
	sec, err := c.Security.Build()
	if err != nil {
		return bus.Config{}, err
	}
	bc := bus.Config{Brokers: brokers, Topic: c.Topic, Partitions: c.Partitions, ReplicationFactor: c.ReplicationFactor, Security: sec}
	return bc, bc.Validate()
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
