package bus

import (
	"crypto/tls"
	"fmt"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is an in-process Kafka-protocol broker (franz-go's kfake) for the
// single-binary default and for tests. With a data directory it keeps its
// log across restarts. It is not a production Kafka: point --kafka.brokers
// at a real cluster for that.
type Embedded struct {
	c *kfake.Cluster
}

// EmbeddedConfig configures the embedded broker.
type EmbeddedConfig struct {
	DataDir    string // "" keeps everything in memory
	Port       int    // 0 picks a free port
	Brokers    int    // number of brokers in the cluster, default 1
	Topic      string // created with Partitions partitions at start
	Partitions int
	// TLS and SASL (PLAIN user/password) secure the embedded broker; tests
	// use them to exercise the clients' security settings.
	TLS          *tls.Config
	SASLUser     string
	SASLPassword string
}

// StartEmbedded starts the broker on 127.0.0.1.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.Partitions <= 0 {
		cfg.Partitions = 6
	}
	opts := []kfake.Opt{kfake.DefaultNumPartitions(cfg.Partitions)}
	if cfg.Brokers > 1 {
		opts = append(opts, kfake.NumBrokers(cfg.Brokers))
	}
	if cfg.Port != 0 {
		opts = append(opts, kfake.Ports(cfg.Port))
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("bus: embedded broker data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.DataDir), kfake.SyncWrites())
	}
	if cfg.TLS != nil {
		opts = append(opts, kfake.TLS(cfg.TLS))
	}
	if cfg.SASLUser != "" {
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser("PLAIN", cfg.SASLUser, cfg.SASLPassword))
	}
	if cfg.Topic != "" {
		opts = append(opts, kfake.SeedTopics(int32(cfg.Partitions), cfg.Topic))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("bus: starting embedded broker: %w", err)
	}
	return &Embedded{c: c}, nil
}

// Addrs returns the brokers' host:port addresses.
func (e *Embedded) Addrs() []string { return e.c.ListenAddrs() }

// Cluster exposes the kfake cluster for fault injection in tests.
func (e *Embedded) Cluster() *kfake.Cluster { return e.c }

// Close stops the broker, persisting its state if it has a data directory.
func (e *Embedded) Close() { e.c.Close() }
