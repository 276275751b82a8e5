package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
)

func TestTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	c := testtool.SelfSigned(t)
	cert, key, pool := c.CertFile, c.KeyFile, c.Pool
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("hunter2-secret\n"), 0o600)
	web := &WebConfig{TLSCertFile: cert, TLSKeyFile: key, Username: "watch", PasswordFile: pw}
	if err := web.Load(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ln, _ := Listen("127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, HealthMux(http.NotFoundHandler(), func() bool { return true }), log, web)
	}()
	base := "https://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path, user, pass string) int {
		req, _ := http.NewRequest("GET", base+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		var resp *http.Response
		var err error
		for range 50 {
			if resp, err = client.Do(req); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get("/metrics", "", ""); c != 401 {
		t.Errorf("no credentials: %d", c)
	}
	if c := get("/metrics", "watch", "wrong"); c != 401 {
		t.Errorf("wrong password: %d", c)
	}
	if c := get("/metrics", "watch", "hunter2-secret"); c != 404 { // authenticated, reaches the handler
		t.Errorf("right password: %d", c)
	}
	if c := get("/healthz", "", ""); c != 200 {
		t.Errorf("probe without credentials: %d", c)
	}
	if resp, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest { // Go's TLS server refuses plain HTTP with 400
			t.Errorf("plain HTTP on a TLS listener: %d", resp.StatusCode)
		}
	}
	cancel()
	<-done
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the password reached the log:\n%s", logs.String())
	}
}

func TestWebConfigErrors(t *testing.T) {
	for _, c := range []WebConfig{{TLSCertFile: "x"}, {Username: "u"}, {Username: "u", PasswordFile: "/nonexistent"}} {
		if err := c.Load(); err == nil {
			t.Errorf("%+v loaded", c)
		}
	}
}
