package scorer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Handler serves /metrics, /api/v1/index, /api/v1/events, /healthz and /readyz.
func (s *Scorer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/index", s.serveIndex)
	mux.HandleFunc("GET /api/v1/events", s.serveEvents)
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
	// Weights publishes each type's weight and half-life.
	Weights []TypeWeight `json:"weights"`
}

// Parameters are the published index parameters.
type Parameters struct {
	events.IndexSpec
	Window         string `json:"window"`
	ClusterWindow  string `json:"cluster_window"`
	BaselineWindow string `json:"baseline_window"`
	BaselineStep   string `json:"baseline_step"`
}

// TypeWeight is one type's published weight.
type TypeWeight struct {
	Type         string  `json:"type"`
	Section      string  `json:"section"`
	Weight       float64 `json:"weight"`
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
		BaselineWindow: ix.BaselineWindow.String(), BaselineStep: ix.BaselineStep.String(),
	}}
	for _, ty := range s.tx.Types {
		resp.Weights = append(resp.Weights, TypeWeight{ty.ID, ty.Section, ty.Weight, ty.HalfLife.String(), ty.Deescalatory})
	}
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
