package app

import (
	"errors"
	"flag"
	"net/http"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/poller"
)

// FetchConfig holds the --fetch.* flags.
type FetchConfig struct {
	Timeout            time.Duration
	MaxBodyBytes       int64
	PerHostConcurrency int
	MaxConcurrent      int
	UserAgent          string
	// StartSpread is poller.Config.StartSpread: poller.SpreadInterval
	// (the flag's default, "interval"), a duration, or 0 for none.
	StartSpread time.Duration
}

// RegisterFlags registers the fetch flags: those of one request
// (RegisterRequestFlags) and --fetch.start-spread.
func (c *FetchConfig) RegisterFlags(fs *flag.FlagSet) {
	c.RegisterRequestFlags(fs)
	c.StartSpread = poller.SpreadInterval
	fs.Var((*spreadFlag)(&c.StartSpread), "fetch.start-spread",
		"spread the first polls after a start over `interval|duration`, each feed at a fixed offset hashed from its id: \"interval\" is each feed's own interval, 0 polls every feed at once")
}

// RegisterRequestFlags registers the flags of how feeds are fetched, not
// when: timeout, body cap, concurrency and User-Agent (for commands that
// fetch each feed once, such as "collector probe").
func (c *FetchConfig) RegisterRequestFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Timeout, "fetch.timeout", 30*time.Second, "timeout of one feed request, body included")
	fs.Int64Var(&c.MaxBodyBytes, "fetch.max-body-bytes", 10<<20, "largest feed body read, after decompression; a larger one is an error for that feed")
	fs.IntVar(&c.PerHostConcurrency, "fetch.per-host-concurrency", 2, "most requests in flight to one host")
	fs.IntVar(&c.MaxConcurrent, "fetch.max-concurrent", fetcher.DefaultMaxConcurrent, "most feed fetches in flight in all (request, body and parse), whatever the number of feeds")
	fs.StringVar(&c.UserAgent, "fetch.user-agent", "",
		"User-Agent header; empty uses \"tensionwatch/<version> (+"+fetcher.ProjectURL+")\". A feed's headers: in the feeds file override it for that feed")
}

// Fetcher returns the fetcher configuration.
func (c FetchConfig) Fetcher() fetcher.Config {
	return fetcher.Config{
		Timeout: c.Timeout, MaxBodyBytes: c.MaxBodyBytes,
		PerHostConcurrency: c.PerHostConcurrency, MaxConcurrent: c.MaxConcurrent, UserAgent: c.UserAgent,
	}
}

// Poller returns the poll scheduling the flags ask for.
func (c FetchConfig) Poller() poller.Config {
	return poller.Config{StartSpread: c.StartSpread}
}

// spreadFlag is --fetch.start-spread: "interval" or a duration.
type spreadFlag time.Duration

func (f *spreadFlag) String() string {
	if f == nil || time.Duration(*f) == poller.SpreadInterval {
		return "interval"
	}
	return time.Duration(*f).String()
}

func (f *spreadFlag) Set(s string) error {
	if s == "interval" {
		*f = spreadFlag(poller.SpreadInterval)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return errors.New(`want "interval", 0 or a duration such as 5m`)
	}
	*f = spreadFlag(d)
	return nil
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
