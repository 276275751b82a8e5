package bus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security configures TLS and SASL for the connections to the brokers.
type Security struct {
	TLS  *tls.Config    // nil: plaintext
	SASL sasl.Mechanism // nil: no authentication
}

// SecurityConfig is the textual form of Security (flags).
type SecurityConfig struct {
	TLS                bool
	CAFile             string
	InsecureSkipVerify bool
	SASLMechanism      string // "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	Username           string
	PasswordFile       string // the password is read from a file, never from a flag
}

// Build turns the configuration into TLS and SASL settings.
func (c SecurityConfig) Build() (Security, error) {
	var s Security
	if c.TLS || c.CAFile != "" {
		s.TLS = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in flag
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return s, fmt.Errorf("bus: --kafka.tls.ca-file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return s, fmt.Errorf("bus: --kafka.tls.ca-file %s: no PEM certificates", c.CAFile)
			}
			s.TLS.RootCAs = pool
		}
	}
	if c.SASLMechanism == "" {
		return s, nil
	}
	if c.Username == "" || c.PasswordFile == "" {
		return s, errors.New("bus: SASL needs --kafka.sasl.username and --kafka.sasl.password-file")
	}
	b, err := os.ReadFile(c.PasswordFile)
	if err != nil {
		return s, fmt.Errorf("bus: --kafka.sasl.password-file: %w", err)
	}
	pass := strings.TrimRight(string(b), "\r\n")
	switch strings.ToUpper(c.SASLMechanism) {
	case "PLAIN":
		s.SASL = plain.Mechanism{Username: c.Username, Password: pass}
	case "SCRAM-SHA-256":
		s.SASL, err = scram.Mechanism(scram.SHA256, c.Username, pass)
	case "SCRAM-SHA-512":
		s.SASL, err = scram.Mechanism(scram.SHA512, c.Username, pass)
	default:
		return s, fmt.Errorf("bus: --kafka.sasl.mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASLMechanism)
	}
	if err != nil {
		return s, fmt.Errorf("bus: SASL: %w", err)
	}
	return s, nil
}

func (c Config) transport() *kafka.Transport {
	return &kafka.Transport{TLS: c.Security.TLS, SASL: c.Security.SASL, DialTimeout: 10 * time.Second}
}

func (c Config) dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: c.Security.TLS, SASLMechanism: c.Security.SASL}
}
