package bus

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strconv"
	"time"

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
	// Retention is the topic's retention.ms (0: keep forever), set on
	// every start, also on a topic restored from DataDir. Messages older
	// than it are dropped within the hour.
	Retention time.Duration
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
	// kfake starts three brokers unless told otherwise.
	opts := []kfake.Opt{kfake.DefaultNumPartitions(cfg.Partitions), kfake.NumBrokers(max(1, cfg.Brokers))}
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
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("bus: starting embedded broker: %w", err)
	}
	e := &Embedded{c: c}
	if cfg.Topic != "" {
		if err := e.ensureTopic(cfg); err != nil {
			c.Close()
			return nil, err
		}
	}
	return e, nil
}

// ensureTopic creates the topic with its retention, or sets the retention
// of the topic restored from the data directory.
func (e *Embedded) ensureTopic(cfg EmbeddedConfig) error {
	want := "-1"
	if cfg.Retention > 0 {
		want = strconv.FormatInt(cfg.Retention.Milliseconds(), 10)
	}
	ti := e.c.TopicInfo(cfg.Topic)
	if ti == nil {
		if err := e.c.CreateTopic(cfg.Topic, int32(cfg.Partitions), map[string]string{"retention.ms": want}); err != nil {
			return fmt.Errorf("bus: creating topic %s on the embedded broker: %w", cfg.Topic, err)
		}
		return nil
	}
	if v := ti.Configs["retention.ms"]; v != nil && *v == want {
		return nil
	}
	if cfg.TLS != nil || cfg.SASLUser != "" {
		return fmt.Errorf("bus: cannot change the retention of topic %s restored on a secured embedded broker", cfg.Topic)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, _ := strconv.ParseInt(want, 10, 64)
	return SetTopicRetention(ctx, Config{Brokers: e.Addrs(), Topic: cfg.Topic}, time.Duration(d)*time.Millisecond)
}

// Addrs returns the brokers' host:port addresses.
func (e *Embedded) Addrs() []string { return e.c.ListenAddrs() }

// Cluster exposes the kfake cluster for fault injection in tests.
func (e *Embedded) Cluster() *kfake.Cluster { return e.c }

// Close stops the broker, persisting its state if it has a data directory.
func (e *Embedded) Close() { e.c.Close() }
