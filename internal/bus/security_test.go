package bus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// selfSigned returns a server TLS config for 127.0.0.1 and the CA file path.
func selfSigned(t *testing.T) (*tls.Config, string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, ca
}

func TestTLSAndSASL(t *testing.T) {
	serverTLS, ca := selfSigned(t)
	e, err := StartEmbedded(EmbeddedConfig{Topic: DefaultTopic, Partitions: 2, TLS: serverTLS, SASLUser: "tw", SASLPassword: "s3cret"})
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
