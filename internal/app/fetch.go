package app

import (
	"flag"
	"net/http"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/fetcher"
)

// FetchConfig holds the --fetch.* flags.
type FetchConfig struct {
	Timeout            time.Duration
	MaxBodyBytes       int64
	PerHostConcurrency int
	UserAgent          string
}

// RegisterFlags registers the fetch flags.
func (c *FetchConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Timeout, "fetch.timeout", 30*time.Second, "timeout of one feed request, body included")
	fs.Int64Var(&c.MaxBodyBytes, "fetch.max-body-bytes", 10<<20, "largest feed body read; a larger one is an error for that feed")
	fs.IntVar(&c.PerHostConcurrency, "fetch.per-host-concurrency", 2, "most requests in flight to one host")
	fs.StringVar(&c.UserAgent, "fetch.user-agent", "", "User-Agent header; empty uses tensionwatch/<version>")
}

// Fetcher returns the fetcher configuration.
func (c FetchConfig) Fetcher() fetcher.Config {
	return fetcher.Config{
		Timeout: c.Timeout, MaxBodyBytes: c.MaxBodyBytes,
		PerHostConcurrency: c.PerHostConcurrency, UserAgent: c.UserAgent,
	}
}

// HealthMux serves metrics at /metrics, liveness at /healthz and readiness
// (ready()) at /readyz.
func HealthMux(metrics http.Handler, ready func() bool) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}
