package app

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// WebConfig secures the HTTP endpoints: optional TLS and optional basic
// authentication (for everything but the /healthz and /readyz probes).
type WebConfig struct {
	TLSCertFile  string
	TLSKeyFile   string
	Username     string
	PasswordFile string
	password     []byte
}

// RegisterFlags registers the --web.* security flags.
func (c *WebConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.TLSCertFile, "web.tls-cert-file", "", "serve HTTPS with this PEM certificate (needs --web.tls-key-file)")
	fs.StringVar(&c.TLSKeyFile, "web.tls-key-file", "", "PEM private key for --web.tls-cert-file")
	fs.StringVar(&c.Username, "web.basic-auth.username", "", "require HTTP basic authentication with this user (probes stay open)")
	fs.StringVar(&c.PasswordFile, "web.basic-auth.password-file", "", "file holding the basic-auth password (never passed on the command line, never logged)")
}

// Load validates the configuration and reads the password file.
func (c *WebConfig) Load() error {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("--web.tls-cert-file and --web.tls-key-file go together")
	}
	if (c.Username == "") != (c.PasswordFile == "") {
		return errors.New("--web.basic-auth.username and --web.basic-auth.password-file go together")
	}
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return fmt.Errorf("--web.basic-auth.password-file: %w", err)
		}
		c.password = []byte(strings.TrimRight(string(b), "\r\n"))
		if len(c.password) == 0 {
			return errors.New("--web.basic-auth.password-file is empty")
		}
	}
	return nil
}

// Wrap adds basic authentication to h when it is configured.
func (c *WebConfig) Wrap(h http.Handler) http.Handler {
	if c.Username == "" {
		return h
	}
	wantUser, wantPass := sha256.Sum256([]byte(c.Username)), sha256.Sum256(c.password)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			h.ServeHTTP(w, r)
			return
		}
		u, p, ok := r.BasicAuth()
		gotUser, gotPass := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
		if !ok || subtle.ConstantTimeCompare(gotUser[:], wantUser[:])&subtle.ConstantTimeCompare(gotPass[:], wantPass[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="tensionwatch", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
