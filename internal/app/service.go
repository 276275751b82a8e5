package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tensionwatch/tensionwatch/internal/bus"
	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/poller"
	"github.com/tensionwatch/tensionwatch/internal/scorer"
	"github.com/tensionwatch/tensionwatch/internal/version"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// ScorerServiceOptions configures a scorer, optionally with a collector in
// the same process (as in the tensionwatch binary).
type ScorerServiceOptions struct {
	Bus      bus.Config
	Taxonomy *events.Taxonomy
	Listener net.Listener
	Log      *slog.Logger
	Web      *WebConfig // TLS and basic auth of the HTTP endpoints (nil: neither)

	// Collector, when Feeds is not nil, also runs in this process and its
	// metrics are served on the same /metrics.
	Feeds         *feedlist.List
	Classifier    *classify.Classifier
	DataDir       string
	DataDirLocked bool // see CollectorOptions
	Fetch         fetcher.Config
	Poll          poller.Config

	// Also, if set, runs beside the collector once the scorer serves,
	// with the service's metrics registry, until it returns or ctx is done
	// (tensionwatch --replay). Its error stops the service; a nil return
	// leaves the rest running.
	Also func(ctx context.Context, sc *scorer.Scorer, reg prometheus.Registerer) error

	// Wrap, if set, wraps the HTTP handler (the tensionwatch binary adds
	// its own routes this way).
	Wrap func(http.Handler) http.Handler
	// Started, if set, is called with the scorer once it is serving.
	Started func(*scorer.Scorer)
}

// RunScorerService runs until ctx is done, then shuts down in order: stop
// polling and flush the producer, stop consuming, stop serving HTTP.
func RunScorerService(ctx context.Context, o ScorerServiceOptions) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sc := scorer.New(scorer.Config{Version: version.String(), Gatherer: reg}, o.Taxonomy, reg, o.Log)
	var h http.Handler = sc.Handler()
	if o.Wrap != nil {
		h = o.Wrap(h)
	}

	refreshCtx, stopRefresh := context.WithCancel(context.Background())
	defer stopRefresh()
	go sc.Run(refreshCtx)

	// If the HTTP server fails (a TLS key that does not load, say), the
	// whole service stops with its error: a gauge nobody can see is no
	// gauge.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	httpCtx, stopHTTP := context.WithCancel(context.Background())
	defer stopHTTP()
	httpErr := make(chan error, 1)
	go func() {
		err := Serve(httpCtx, o.Listener, h, o.Log, o.Web)
		if err != nil {
			o.Log.Error("the HTTP server failed; stopping", "err", err)
			stopRun()
		}
		httpErr <- err
	}()

	consCtx, stopCons := context.WithCancel(context.Background())
	defer stopCons()
	consErr := make(chan error, 1)
	go func() {
		consErr <- RunScorerConsumer(consCtx, ConsumeOptions{Bus: o.Bus, Scorer: sc, Log: o.Log,
			Since: func(now time.Time) time.Time { return index.Cutoff(o.Taxonomy, now) }, Retention: index.Retention(o.Taxonomy)})
	}()
	if o.Started != nil {
		o.Started(sc)
	}
	alsoErr := make(chan error, 1)
	if o.Also != nil {
		go func() {
			err := o.Also(runCtx, sc, reg)
			if err != nil {
				stopRun()
			}
			alsoErr <- err
		}()
	} else {
		alsoErr <- nil
	}

	var colErr error
	if o.Feeds != nil {
		colErr = RunCollector(runCtx, CollectorOptions{
			Feeds: o.Feeds, Classifier: o.Classifier, Bus: o.Bus, DataDir: o.DataDir, DataDirLocked: o.DataDirLocked,
			Fetch: o.Fetch, Poll: o.Poll, Registry: reg, Log: o.Log,
		})
	} else {
		<-runCtx.Done()
	}
	o.Log.Info("shutting down")
	stopCons()
	err := errors.Join(colErr, <-alsoErr, <-consErr)
	stopHTTP()
	return errors.Join(err, <-httpErr)
}
