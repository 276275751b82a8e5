package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Listen opens the HTTP listener early, so that a taken port fails start-up
// before anything else starts, and so that tests can ask for port 0.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--web.listen-address %s: %w", addr, err)
	}
	return ln, nil
}

// Serve serves h on ln until ctx is done, then shuts down with a deadline.
// web (may be nil) adds TLS and basic authentication.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, web *WebConfig) error {
	if web == nil {
		web = &WebConfig{}
	}
	srv := &http.Server{
		Handler:           web.Wrap(h),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	scheme := "http"
	if web.TLSCertFile != "" {
		scheme = "https"
		go func() { errc <- srv.ServeTLS(ln, web.TLSCertFile, web.TLSKeyFile) }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	log.Info("serving HTTP", "address", ln.Addr().String(), "scheme", scheme, "basic_auth", web.Username != "")
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server shutdown: %w", err)
	}
	return nil
}

// BaseURL is how a person reaches a listener: ":8080" or "[::]:8080"
// become "http://localhost:8080" (https with TLS).
func BaseURL(ln net.Listener, web *WebConfig) string {
	scheme := "http"
	if web != nil && web.TLSCertFile != "" {
		scheme = "https"
	}
	a := ln.Addr().String()
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" || host == "::" || host == "0.0.0.0" {
		a = "localhost:" + port
	}
	return scheme + "://" + a
}
