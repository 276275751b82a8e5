package scorer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/web"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Handler serves /metrics, /api/v1/index, /api/v1/events, /healthz and /readyz.
func (s *Scorer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/index", s.serveIndex)
	mux.HandleFunc("GET /api/v1/events", s.serveEvents)
	mux.HandleFunc("GET /api/v1/history", s.serveHistory)
	mux.HandleFunc("GET /api/v1/status", s.serveStatus)
	mux.HandleFunc("GET /api/v1/alerts", s.serveAlerts)
	mux.Handle("GET /", web.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "replaying the events topic", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// IndexResponse is the body of /api/v1/index.
type IndexResponse struct {
	index.Snapshot
	Bands []events.Band `json:"bands"`
	// Parameters publishes the index's parameters (durations as text).
	Parameters Parameters `json:"parameters"`
	// Types publishes each type's level and half-life, Classes the
	// incident classes that read above their type's level.
	Types   []TypeLevel    `json:"types"`
	Classes []events.Class `json:"classes"`
	// ModelVersion is the version of the classifier's model built into
	// this binary (the collectors that classified the events may run
	// another with --model.file).
	ModelVersion string `json:"model_version"`
}

// Parameters are the published index parameters.
type Parameters struct {
	events.IndexSpec
	Window         string `json:"window"`
	ClusterWindow  string `json:"cluster_window"`
	ClusterGap     string `json:"cluster_gap"`
	ClusterSpan    string `json:"cluster_span"`
	BaselineWindow string `json:"baseline_window"`
	BaselineStep   string `json:"baseline_step"`
}

// TypeLevel is one type's published level.
type TypeLevel struct {
	Type         string  `json:"type"`
	Section      string  `json:"section"`
	Level        float64 `json:"level"`
	HalfLife     string  `json:"half_life"`
	Deescalatory bool    `json:"deescalatory"`
}

func (s *Scorer) serveIndex(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	at := s.cfg.Now()
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "at: want an RFC 3339 time such as 2026-11-22T10:00:00Z")
			return
		}
		at = t
	}
	top := s.cfg.TopN
	if v := q.Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 50 {
			writeError(w, http.StatusBadRequest, "top: want a whole number from 0 to 50")
			return
		}
		top = n
	}
	ix := s.tx.Index
	resp := IndexResponse{Snapshot: s.ix.Snapshot(at, top), Bands: ix.Bands, Parameters: Parameters{
		IndexSpec: ix, Window: ix.Window.String(), ClusterWindow: ix.ClusterWindow.String(),
		ClusterGap: ix.ClusterGap.String(), ClusterSpan: ix.ClusterSpan.String(),
		BaselineWindow: ix.BaselineWindow.String(), BaselineStep: ix.BaselineStep.String(),
	}}
	for _, ty := range s.tx.Types {
		resp.Types = append(resp.Types, TypeLevel{ty.ID, ty.Section, ty.Level, ty.HalfLife.String(), ty.Deescalatory})
	}
	resp.Classes = s.tx.Classes
	resp.ModelVersion = classify.BuiltinModelVersion()
	writeJSON(w, http.StatusOK, resp)
}

// EventsResponse is the body of /api/v1/events.
type EventsResponse struct {
	Events []events.Event `json:"events"`
	Count  int            `json:"count"`
	Limit  int            `json:"limit"`
}

func (s *Scorer) serveEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	iq := index.Query{Region: q.Get("region"), Type: q.Get("type"), Limit: s.cfg.EventsDefaultLimit}
	if iq.Region != "" && s.tx.RegionByID(iq.Region) == nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("region: unknown region %q", iq.Region))
		return
	}
	if iq.Type != "" && s.tx.TypeByID(iq.Type) == nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("type: unknown type %q", iq.Type))
		return
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since: want an RFC 3339 time such as 2026-11-22T10:00:00Z")
			return
		}
		iq.Since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit: want a whole number of at least 1")
			return
		}
		iq.Limit = min(n, s.cfg.EventsMaxLimit)
	}
	evs := s.ix.Events(iq)
	writeJSON(w, http.StatusOK, EventsResponse{Events: evs, Count: len(evs), Limit: iq.Limit})
}

// HistoryResponse is the body of /api/v1/history: the numbers at every
// step of the last hours, oldest first.
type HistoryResponse struct {
	Times      []time.Time          `json:"times"`
	Index      []float64            `json:"index"`
	Regions    map[string][]float64 `json:"regions"`
	Categories map[string][]float64 `json:"categories"`
}

func (s *Scorer) serveHistory(w http.ResponseWriter, r *http.Request) {
	hours, step := 72, time.Hour
	if v := r.URL.Query().Get("hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 24*30 {
			writeError(w, http.StatusBadRequest, "hours: want a whole number from 1 to 720")
			return
		}
		hours = n
	}
	now := s.cfg.Now()
	resp := HistoryResponse{Regions: map[string][]float64{}, Categories: map[string][]float64{}}
	end := now.Truncate(step)
	for t := end.Add(-time.Duration(hours-1) * step); !t.After(end); t = t.Add(step) {
		snap := s.ix.SnapshotNumbers(t)
		resp.Times = append(resp.Times, t)
		resp.Index = append(resp.Index, snap.Gauge.Value)
		for id, n := range snap.Regions {
			resp.Regions[id] = append(resp.Regions[id], n.Value)
		}
		for id, n := range snap.Categories {
			resp.Categories[id] = append(resp.Categories[id], n.Value)
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// StatusResponse is the body of /api/v1/status.
type StatusResponse struct {
	Ready      bool       `json:"ready"`
	Events     int        `json:"events"`
	LastEvent  *time.Time `json:"last_event,omitempty"`
	FeedsUp    int        `json:"feeds_up"`
	FeedsTotal int        `json:"feeds_total"` // 0 when no collector runs in this process
}

func (s *Scorer) serveStatus(w http.ResponseWriter, _ *http.Request) {
	resp := StatusResponse{Ready: s.Ready(), Events: s.ix.Len()}
	if t := s.lastEvent.Load(); t != nil {
		resp.LastEvent = t
	}
	if mfs, err := s.cfg.Gatherer.Gather(); err == nil {
		for _, mf := range mfs {
			if mf.GetName() != "tensionwatch_collector_feed_up" {
				continue
			}
			for _, m := range mf.GetMetric() {
				resp.FeedsTotal++
				if m.GetGauge().GetValue() == 1 {
					resp.FeedsUp++
				}
			}
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// Alert is one alert that the deploy/prometheus rules would fire now
// (without their `for:` durations).
type Alert struct {
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Region   string `json:"region"`
	Summary  string `json:"summary"`
}

func (s *Scorer) serveAlerts(w http.ResponseWriter, _ *http.Request) {
	now := s.cfg.Now()
	snap := s.ix.Snapshot(now, 0)
	var out []Alert
	for _, reg := range s.tx.Regions {
		n := snap.Regions[reg.ID]
		switch {
		case n.Value >= 80:
			out = append(out, Alert{"TensionSevere", "page", reg.ID, fmt.Sprintf("severe: %.1f", n.Value)})
		case n.Value >= 60:
			out = append(out, Alert{"TensionHigh", "warning", reg.ID, fmt.Sprintf("high: %.1f", n.Value)})
		case n.Value >= 30:
			out = append(out, Alert{"TensionElevated", "info", reg.ID, fmt.Sprintf("elevated: %.1f", n.Value)})
		}
		if n.ZScore != nil && *n.ZScore >= 3 {
			out = append(out, Alert{"TensionRegionAnomaly", "warning", reg.ID, fmt.Sprintf("z-score %.1f above its baseline", *n.ZScore)})
		}
	}
	if snap.Gauge.Value >= 80 {
		out = append(out, Alert{"TensionGaugeSevere", "page", "all", fmt.Sprintf("East Asia gauge %.1f", snap.Gauge.Value)})
	}
	if before := s.ix.SnapshotNumbers(now.Add(-6 * time.Hour)); snap.Gauge.Value-before.Gauge.Value >= 25 {
		out = append(out, Alert{"TensionRapidRise", "warning", "all", fmt.Sprintf("+%.1f points in 6 hours", snap.Gauge.Value-before.Gauge.Value)})
	}
	for _, e := range s.ix.Events(index.Query{Since: now.Add(-15 * time.Minute)}) {
		if e.Classification.Severe {
			out = append(out, Alert{"TensionSevereEvent", "page", e.Classification.Region, e.Classification.Type})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return severityRank[out[i].Severity] < severityRank[out[j].Severity] })
	if out == nil {
		out = []Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

var severityRank = map[string]int{"page": 0, "warning": 1, "info": 2}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
