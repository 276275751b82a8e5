package scorer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/internal/web"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Handler serves /metrics, /api/v1/index, /api/v1/events, /api/v1/chains,
// /api/v1/history, /api/v1/status, /api/v1/alerts, the watch page, /healthz
// and /readyz.
func (s *Scorer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/index", s.serveIndex)
	mux.HandleFunc("GET /api/v1/events", s.serveEvents)
	mux.HandleFunc("GET /api/v1/chains", s.serveChains)
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
	// Watch says whether anyone is watching the feeds; while it is blind,
	// every band is "no_data".
	Watch Watch         `json:"watch"`
	Bands []events.Band `json:"bands"`
	// Parameters publishes the index's parameters (durations as text).
	Parameters Parameters `json:"parameters"`
	// Types publishes each type's level and half-life, Classes the
	// incident classes that read above their type's level.
	Types   []TypeLevel    `json:"types"`
	Classes []events.Class `json:"classes"`
	// RegionInfo describes the regions of Regions, in the taxonomy's order.
	// The one marked default holds the events that name no single place
	// (the taxonomy's rules.default_region): it is one region among the
	// others, not the East Asia gauge, which weighs every region together.
	RegionInfo []RegionInfo `json:"region_info"`
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

// RegionInfo describes one region.
type RegionInfo struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	// Default marks the region of events that name no single place.
	Default bool `json:"default,omitempty"`
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
	at, ok := timeParam(w, q, "at")
	if !ok {
		return
	}
	top, ok := countParam(w, q, "top", s.cfg.TopN)
	if !ok {
		return
	}
	// The served snapshot, unless a past time is asked for.
	var snap index.Snapshot
	if at.IsZero() {
		snap = withTop(s.current().snap, top)
	} else {
		snap = s.ix.Snapshot(at, top)
	}
	ix := s.tx.Index
	resp := IndexResponse{Snapshot: snap, Watch: s.Watch(s.cfg.Now()), Bands: ix.Bands, Parameters: Parameters{
		IndexSpec: ix, Window: ix.Window.String(), ClusterWindow: ix.ClusterWindow.String(),
		ClusterGap: ix.ClusterGap.String(), ClusterSpan: ix.ClusterSpan.String(),
		BaselineWindow: ix.BaselineWindow.String(), BaselineStep: ix.BaselineStep.String(),
	}}
	for _, ty := range s.tx.Types {
		resp.Types = append(resp.Types, TypeLevel{ty.ID, ty.Section, ty.Level, ty.HalfLife.String(), ty.Deescalatory})
	}
	resp.Classes = s.tx.Classes
	for _, reg := range s.tx.Regions {
		resp.RegionInfo = append(resp.RegionInfo, RegionInfo{reg.ID, reg.Description, reg.ID == s.tx.Rules.DefaultRegion})
	}
	resp.ModelVersion = classify.BuiltinModelVersion()
	if resp.Watch.Blind {
		markNoData(&resp.Snapshot)
	}
	writeJSON(w, http.StatusOK, resp)
}

// markNoData sets every band of a snapshot to NoData. It writes to the
// snapshot's maps: give it a copy (withTop's), never the served one.
func markNoData(snap *index.Snapshot) {
	snap.Gauge.Band = NoData
	for _, m := range []map[string]index.Number{snap.Regions, snap.Categories, snap.Dyads} {
		for id, n := range m {
			n.Band = NoData
			m[id] = n
		}
	}
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
	since, ok := timeParam(w, q, "since")
	if !ok {
		return
	}
	iq.Since = since
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
	FeedsTotal int        `json:"feeds_total"`
	Watch      Watch      `json:"watch"`
	// History says whether the events topic still held the whole window
	// when the scorer started.
	History HistoryStatus `json:"history"`
}

func (s *Scorer) serveStatus(w http.ResponseWriter, _ *http.Request) {
	now := s.cfg.Now()
	resp := StatusResponse{Ready: s.Ready(), Events: s.ix.Len(), Watch: s.Watch(now), History: s.HistoryAt(now)}
	resp.FeedsUp, resp.FeedsTotal = resp.Watch.FeedsOK, resp.Watch.Feeds
	if t := s.lastEvent.Load(); t != nil {
		resp.LastEvent = t
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

// The windows and thresholds of the rules that /api/v1/alerts mirrors
// (deploy/prometheus/rules/tensionwatch.rules.yml; deploy's tests check that
// the rules use these values and the taxonomy's bands).
const (
	SevereEventWindow = 15 * time.Minute  // TensionSevereEvent: increase(...[15m])
	RapidRiseWindow   = 6 * time.Hour     // TensionRapidRise: offset 6h
	RapidRisePoints   = 25.0              // TensionRapidRise: >= 25
	AnomalyZ          = 3.0               // TensionRegionAnomaly: >= 3
	ConsumerLagLimit  = 300 * time.Second // TensionwatchConsumerLag: > 300
)

func (s *Scorer) serveAlerts(w http.ResponseWriter, _ *http.Request) {
	cur := s.current()
	now, snap := cur.at, cur.snap
	watch := s.Watch(s.cfg.Now())
	var out []Alert
	// Pipeline alerts first: while the watch is blind, the numbers say
	// nothing, and no tension alert is listed.
	if watch.Blind {
		out = append(out, Alert{"TensionwatchBlind", "page", "all", "no data: " + watch.Reason})
	} else if watch.FeedsOK < watch.Feeds {
		out = append(out, Alert{"TensionwatchFeedFailing", "ticket", "all",
			fmt.Sprintf("%d of %d feeds not fetched successfully within two poll intervals", watch.Feeds-watch.FeedsOK, watch.Feeds)})
	}
	if !s.Ready() {
		out = append(out, Alert{"TensionwatchReplaying", "info", "all", "replaying the events topic; numbers are partial"})
	}
	if h := s.HistoryAt(now); h.Partial {
		out = append(out, Alert{"TensionwatchPartialHistory", "ticket", "all", h.Reason})
	}
	if lag := s.lagSeconds(); lag > ConsumerLagLimit.Seconds() {
		out = append(out, Alert{"TensionwatchConsumerLag", "warning", "all", fmt.Sprintf("the scorer reads events %.0f s late", lag)})
	}
	if !watch.Blind {
		out = append(out, s.tensionAlerts(now, snap)...)
	}
	for _, e := range s.SevereSince(s.cfg.Now().Add(-SevereEventWindow)) {
		out = append(out, Alert{"TensionSevereEvent", "page", e.Classification.Region, e.Classification.Type + ": " + e.Title})
	}
	sort.SliceStable(out, func(i, j int) bool { return severityRank[out[i].Severity] < severityRank[out[j].Severity] })
	if out == nil {
		out = []Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out, "watch": watch})
}

// tensionAlerts are the alerts the numbers raise, at the taxonomy's bands:
// a region in its band above calm, the gauge in the top band, a rapid rise
// and an anomaly.
func (s *Scorer) tensionAlerts(now time.Time, snap index.Snapshot) []Alert {
	bands := s.tx.Index.Bands
	top := bands[len(bands)-1]
	var out []Alert
	for _, reg := range s.tx.Regions {
		n := snap.Regions[reg.ID]
		for i := len(bands) - 1; i > 0; i-- {
			if n.Value >= bands[i].Min {
				out = append(out, Alert{bandAlert(bands[i].Name), bandSeverity(i, len(bands)), reg.ID, fmt.Sprintf("%s: %.1f", bands[i].Name, n.Value)})
				break
			}
		}
		if n.ZScore != nil && *n.ZScore >= AnomalyZ {
			out = append(out, Alert{"TensionRegionAnomaly", "warning", reg.ID, fmt.Sprintf("z-score %.1f above its baseline", *n.ZScore)})
		}
	}
	if snap.Gauge.Value >= top.Min {
		out = append(out, Alert{"TensionGaugeSevere", "page", "all", fmt.Sprintf("East Asia gauge %.1f (%s)", snap.Gauge.Value, top.Name)})
	}
	if before := s.ix.SnapshotNumbers(now.Add(-RapidRiseWindow)); snap.Gauge.Value-before.Gauge.Value >= RapidRisePoints {
		out = append(out, Alert{"TensionRapidRise", "warning", "all", fmt.Sprintf("+%.1f points in 6 hours", snap.Gauge.Value-before.Gauge.Value)})
	}
	return out
}

// bandAlert names a band's alert as the rules do: TensionElevated,
// TensionHigh, TensionSevere.
func bandAlert(band string) string {
	if band == "" {
		return "Tension"
	}
	return "Tension" + strings.ToUpper(band[:1]) + band[1:]
}

// bandSeverity: the top band pages, the one below warns, the others inform.
func bandSeverity(i, n int) string {
	switch i {
	case n - 1:
		return "page"
	case n - 2:
		return "warning"
	}
	return "info"
}

var severityRank = map[string]int{"page": 0, "warning": 1, "ticket": 2, "info": 3}

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

// timeParam reads the query parameter name as an RFC 3339 time (zero when
// absent); on a bad value it writes the 400 and returns false.
func timeParam(w http.ResponseWriter, q url.Values, name string) (time.Time, bool) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		writeError(w, http.StatusBadRequest, name+": want an RFC 3339 time such as 2026-11-22T10:00:00Z")
		return time.Time{}, false
	}
	return t, true
}

// countParam reads the query parameter name as a whole number from 0 to
// MaxTop (def when absent); on a bad value it writes the 400 and returns
// false.
func countParam(w http.ResponseWriter, q url.Values, name string, def int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > MaxTop {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: want a whole number from 0 to %d", name, MaxTop))
		return 0, false
	}
	return n, true
}
