package bus

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func TestTLSAndSASL(t *testing.T) {
	cert := testtool.SelfSigned(t)
	ca := cert.CertFile
	e, err := StartEmbedded(EmbeddedConfig{Topic: DefaultTopic, Partitions: 2, TLS: cert.Server, SASLUser: "tw", SASLPassword: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	sec, err := SecurityConfig{TLS: true, CAFile: ca, SASLMechanism: "PLAIN", Username: "tw", PasswordFile: pw}.Build()
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Brokers: e.Addrs(), Topic: DefaultTopic, Security: sec}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := EnsureTopic(ctx, c); err != nil {
		t.Fatal(err)
	}
	p := NewProducer(c)
	defer p.Close()
	if err := p.Publish(ctx, []events.Event{testEvent(1, time.Now())}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(ctx, c, time.Time{})
	if err != nil || len(got) != 1 {
		t.Fatalf("read %d messages over TLS+SASL: %v", len(got), err)
	}

	// A wrong password is refused.
	os.WriteFile(pw, []byte("wrong"), 0o600)
	bad, _ := SecurityConfig{TLS: true, CAFile: ca, SASLMechanism: "PLAIN", Username: "tw", PasswordFile: pw}.Build()
	short, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := EnsureTopic(short, Config{Brokers: e.Addrs(), Topic: DefaultTopic, Security: bad}); err == nil {
		t.Fatal("a wrong SASL password was accepted")
	}
	// Plaintext to a TLS broker fails too.
	if err := EnsureTopic(short, Config{Brokers: e.Addrs(), Topic: DefaultTopic}); err == nil {
		t.Fatal("plaintext reached a TLS broker")
	}
}

func TestSecurityConfigErrors(t *testing.T) {
	for _, c := range []SecurityConfig{
		{SASLMechanism: "PLAIN"},
		{SASLMechanism: "KERBEROS", Username: "u", PasswordFile: "/dev/null"},
		{CAFile: "/nonexistent"},
	} {
		if _, err := c.Build(); err == nil {
			t.Errorf("%+v built", c)
		}
	}
}
