// Package grafana defines the provisioned Grafana dashboards as Go code with
// the Grafana foundation SDK, and checks them (grafana_test.go). The JSON
// under dashboards/ is generated from this file: edit it, then run
// `go run ./grafana/gen` (or `make dashboards`, or `go generate ./grafana/`).
// A test fails when the checked-in JSON differs from what the code builds.
//
// The gauge bands of the thresholds and the regions of the region variable
// come from the taxonomy (pkg/events), so the dashboards follow its edits.
package grafana

//go:generate go run ./gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// The datasources the dashboards use, by the uids that
// provisioning/datasources/tensionwatch.yml gives them.
var (
	promDS = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("prometheus")}
	apiDS  = common.DataSourceRef{Type: cog.ToPtr("yesoreyeram-infinity-datasource"), Uid: cog.ToPtr("tensionwatch-api")}
)

// AnomalyZScore is the z-score at which a region's anomaly alert fires
// (TensionRegionAnomaly in deploy/prometheus/rules); the z-score panel
// turns red there. A test holds the two equal.
const AnomalyZScore = 3

// bandColors colour the taxonomy's gauge bands, lowest first.
var bandColors = []string{"green", "yellow", "orange", "red", "dark-red", "purple"}

// The dashboards' uids: their addresses (/d/<uid>/...) are in links, alerts
// and the README, so they never change.
const (
	OverviewUID = "tensionwatch"
	PipelineUID = "tensionwatch-health"
)

// Generate builds every dashboard for the taxonomy and returns its JSON by
// file name (as written under dashboards/).
func Generate(tx *events.Taxonomy) (map[string][]byte, error) {
	bands, err := bandThresholds(tx)
	if err != nil {
		return nil, err
	}
	files := map[string]*dashboard.DashboardBuilder{
		"tensionwatch.json":          overview(tx, bands),
		"tensionwatch-pipeline.json": pipeline(),
	}
	out := map[string][]byte{}
	for name, b := range files {
		d, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("building %s: %w", name, err)
		}
		tidy(&d)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("encoding %s: %w", name, err)
		}
		out[name] = unescapeHTML(buf.Bytes())
	}
	return out, nil
}

// unescapeHTML undoes the \u003c, \u003e and \u0026 that the SDK's own
// MarshalJSON methods write for <, > and &, so that the files read as
// written ("calm < 30 <= elevated").
func unescapeHTML(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+6 <= len(b) {
			if c, ok := htmlEscapes[string(b[i:i+6])]; ok {
				out = append(out, c)
				i += 5
				continue
			}
		}
		if b[i] == '\\' && i+1 < len(b) { // any other escape, such as \\ or \"
			out = append(out, b[i], b[i+1])
			i++
			continue
		}
		out = append(out, b[i])
	}
	return out
}

var htmlEscapes = map[string]byte{`\u003c`: '<', `\u003e`: '>', `\u0026`: '&'}

// Write generates the dashboards into dir, replacing its *.json files: a
// dashboard the code no longer defines disappears from dir too.
func Write(dir string, tx *events.Taxonomy) ([]string, error) {
	files, err := Generate(tx)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the dashboards' folder: %w", err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	for _, f := range old {
		if _, ok := files[filepath.Base(f)]; !ok {
			if err := os.Remove(f); err != nil {
				return nil, fmt.Errorf("removing a dashboard no longer defined: %w", err)
			}
		}
	}
	var names []string
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, fmt.Errorf("writing the dashboard: %w", err)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// tidy drops defaults of the SDK that would change what users see: the
// placement "inControlsMenu" that it gives links and annotations moves them
// into Grafana 12's controls menu, away from the top of the dashboard.
func tidy(d *dashboard.Dashboard) {
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for i := range d.Annotations.List {
		d.Annotations.List[i].Placement = nil
	}
	for _, p := range d.Panels {
		if p.Panel == nil || p.Panel.FieldConfig == nil {
			continue
		}
		for i := range p.Panel.FieldConfig.Defaults.Links {
			p.Panel.FieldConfig.Defaults.Links[i].Placement = nil
		}
	}
}

// bandThresholds turns the taxonomy's gauge bands into panel thresholds:
// each band's colour from its Min on.
func bandThresholds(tx *events.Taxonomy) (*dashboard.ThresholdsConfigBuilder, error) {
	bands := tx.Index.Bands
	if len(bands) == 0 || len(bands) > len(bandColors) {
		return nil, fmt.Errorf("the taxonomy has %d gauge bands; the dashboards colour 1 to %d", len(bands), len(bandColors))
	}
	steps := make([]dashboard.Threshold, len(bands))
	for i, b := range bands {
		steps[i] = dashboard.Threshold{Color: bandColors[i]}
		if i > 0 {
			steps[i].Value = cog.ToPtr(b.Min)
		}
	}
	return thresholds(steps...), nil
}

func thresholds(steps ...dashboard.Threshold) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

// bandLegend describes the bands as "calm < 30 <= elevated < 60 <= ...".
func bandLegend(tx *events.Taxonomy) string {
	var s strings.Builder
	for i, b := range tx.Index.Bands {
		if i > 0 {
			fmt.Fprintf(&s, " < %g <= ", b.Min)
		}
		s.WriteString(b.Name)
	}
	return s.String()
}

// base holds what every dashboard shares: tag, UTC, read-only, shared
// crosshair, the last week refreshed every minute, the built-in annotations
// and a link to the pipeline's health.
func base(uid, title string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Tags([]string{"tensionwatch"}).
		Timezone("utc").
		Readonly().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-7d", "now").
		Refresh("1m").
		Version(1).
		Annotation(dashboard.NewAnnotationQueryBuilder().
			Name("Annotations & Alerts").
			Enable(true).
			Hide(true).
			IconColor("rgba(0, 211, 255, 1)").
			BuiltIn(1).
			Type("dashboard").
			Datasource(common.DataSourceRef{Type: cog.ToPtr("grafana"), Uid: cog.ToPtr("-- Grafana --")})).
		Link(dashboard.NewDashboardLinkBuilder("Pipeline health").
			Type(dashboard.DashboardLinkTypeLink).
			Icon("dashboard").
			Tooltip("").
			Url("/d/" + PipelineUID + "/tensionwatch-pipeline").
			KeepTime(true))
}

func pos(h, w, x, y uint32) dashboard.GridPos { return dashboard.GridPos{H: h, W: w, X: x, Y: y} }

// query is a Prometheus range query; refID A, B, ... in panel order.
func query(refID, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		RefId(refID).
		Expr(expr).
		Datasource(promDS).
		LegendFormat(legend).
		Range()
}

func gaugePanel(id uint32, title, desc, expr string, at dashboard.GridPos, bands *dashboard.ThresholdsConfigBuilder) *gauge.PanelBuilder {
	return gauge.NewPanelBuilder().
		Id(id).
		Title(title).
		Description(desc).
		Datasource(promDS).
		GridPos(at).
		WithTarget(prometheus.NewDataqueryBuilder().
			RefId("A").
			Expr(expr).
			Datasource(promDS).
			LegendFormat("").
			Instant()).
		ShowThresholdLabels(true).
		ShowThresholdMarkers(true).
		Sizing(common.BarGaugeSizingAuto).
		MinVizWidth(75).
		MinVizHeight(75).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		Unit("none").
		Thresholds(bands).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		Min(0).
		Max(100)
}

func timeseriesPanel(id uint32, title, desc, unit string, at dashboard.GridPos, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Id(id).
		Title(title).
		Description(desc).
		Datasource(promDS).
		GridPos(at).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending)).
		Unit(unit)
	for _, q := range queries {
		p.WithTarget(q)
	}
	return p
}

// withThresholds colours a time series panel's lines by the thresholds: a
// series takes the colour of the band it is in.
func withThresholds(p *timeseries.PanelBuilder, t *dashboard.ThresholdsConfigBuilder) *timeseries.PanelBuilder {
	return p.Thresholds(t).ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds))
}

// column is a column of an Infinity table: a JSON selector, its header and
// its type.
func column(selector, text, typ string) map[string]any {
	return map[string]any{"selector": selector, "text": text, "type": typ}
}

// infinityTable is a table of a JSON list the scorer's API serves, through
// the Infinity datasource, which the SDK has no query type for: its query is
// written as the plugin stores it. params are the URL's query parameters,
// key and value in turn.
func infinityTable(id uint32, at dashboard.GridPos, title, desc, url, root string, params []string, columns ...map[string]any) *table.PanelBuilder {
	var ps []any
	for i := 0; i+1 < len(params); i += 2 {
		ps = append(ps, map[string]any{"key": params[i], "value": params[i+1]})
	}
	cols := make([]any, len(columns))
	for i, c := range columns {
		cols[i] = c
	}
	infinity := variants.UnknownDataquery{
		"refId":         "A",
		"datasource":    apiDS,
		"type":          "json",
		"source":        "url",
		"format":        "table",
		"url":           url,
		"url_options":   map[string]any{"method": "GET", "params": ps},
		"root_selector": root,
		"columns":       cols,
	}
	return table.NewPanelBuilder().
		Id(id).
		Title(title).
		Description(desc).
		Datasource(apiDS).
		GridPos(at).
		WithTarget(variants.NewUnknownDataqueryBuilderFromObject(infinity)).
		FrameIndex(0).
		ShowHeader(true).
		CellHeight(common.TableCellHeightSm).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}).CountRows(false))
}

// eventsTable lists the latest events from the scorer's /api/v1/events,
// each linked to its source.
func eventsTable(id uint32, at dashboard.GridPos) *table.PanelBuilder {
	return infinityTable(id, at, "Latest events (scorer API)",
		"The events behind the numbers, newest first, from the scorer's /api/v1/events, with links to their sources.",
		"/api/v1/events", "events", []string{"limit", "50"},
		column("published", "Published", "timestamp"),
		column("classification.type", "Type", "string"),
		column("classification.region", "Region", "string"),
		column("title", "Title", "string"),
		column("source.outlet", "Outlet", "string"),
		column("link", "Link", "string")).
		DataLinks([]cog.Builder[dashboard.DashboardLink]{
			dashboard.NewDashboardLinkBuilder("Open the source").
				Type(dashboard.DashboardLinkTypeLink).
				Icon("external link").
				Tooltip("").
				Url("${__data.fields.Link}").
				TargetBlank(true),
		})
}

// overview is the home dashboard: the gauge, the sub-indices, the z-scores,
// the event rates and the latest events.
func overview(tx *events.Taxonomy, bands *dashboard.ThresholdsConfigBuilder) *dashboard.DashboardBuilder {
	regions := make([]string, len(tx.Regions))
	for i, r := range tx.Regions {
		regions[i] = r.ID
	}
	return base(OverviewUID, "tensionwatch").
		WithVariable(dashboard.NewCustomVariableBuilder("region").
			Label("Region").
			Values(dashboard.StringOrMap{String: cog.ToPtr(strings.Join(regions, ","))}).
			Multi(true).
			IncludeAll(true).
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
			})).
		WithPanel(gaugePanel(1, "East Asia tension",
			"The East Asia gauge, 0-100: "+bandLegend(tx)+" (METHODOLOGY.md).",
			":tensionwatch_index:max", pos(9, 6, 0, 0), bands)).
		WithPanel(withThresholds(timeseriesPanel(2, "Regional sub-indices",
			"Each region's sub-index over time, with the bands.", "none", pos(9, 18, 6, 0),
			query("A", `region:tensionwatch_region_index:max{region=~"$region"}`, "{{region}}")), bands).
			Min(0).Max(100)).
		WithPanel(timeseriesPanel(3, "Paper sections",
			"Sub-indices of the policy paper's sections.", "none", pos(8, 12, 0, 9),
			query("A", "category:tensionwatch_category_index:max", "{{category}}")).
			Min(0).Max(100)).
		WithPanel(withThresholds(timeseriesPanel(4, "Region z-scores",
			fmt.Sprintf("How far each region stands above its own 28-day baseline; %d or more alerts.", AnomalyZScore),
			"none", pos(8, 12, 12, 9),
			query("A", `region:tensionwatch_index_zscore:max{region=~"$region"}`, "{{region}}")),
			thresholds(dashboard.Threshold{Color: "green"}, dashboard.Threshold{Value: cog.ToPtr[float64](AnomalyZScore), Color: "red"}))).
		WithPanel(timeseriesPanel(5, "Event rate by type",
			"Distinct events per hour, by type.", "short", pos(8, 12, 0, 17),
			query("A", "type:tensionwatch_events:rate1h * 3600", "{{type}}"))).
		WithPanel(timeseriesPanel(6, "Severe events",
			"Events that page on their own (rules.severe).", "short", pos(8, 12, 12, 17),
			query("A", "max by (region, type) (increase(tensionwatch_severe_events_total[1h]))", "{{type}} {{region}}"))).
		WithPanel(timeseriesPanel(8, "Dyads: who presses whom",
			"Each dyad's number (METHODOLOGY.md §10): the incidents whose actor and target fall on its two ends, weighed like a region's.",
			"none", pos(8, 16, 0, 25),
			query("A", "dyad:tensionwatch_dyad_index:max", "{{dyad}}")).
			Min(0).Max(100)).
		WithPanel(timeseriesPanel(9, "Longest live chain",
			"Incidents in the longest action–reaction chain whose last move is recent enough to be answered still.",
			"short", pos(8, 8, 16, 25),
			query("A", ":tensionwatch_chain_longest_live_incidents:max", "incidents")).
			Min(0)).
		WithPanel(chainsTable(10, pos(8, 24, 0, 33))).
		WithPanel(eventsTable(7, pos(12, 24, 0, 41)))
}

// chainsTable lists the live action–reaction chains from the scorer's
// /api/v1/chains, newest first: "Joint Sword, 8 Apr 2023 ← Tsai–McCarthy
// meeting, 5 Apr 2023".
func chainsTable(id uint32, at dashboard.GridPos) *table.PanelBuilder {
	return infinityTable(id, at, "Action and reaction: live chains (scorer API)",
		"Each move answered by the other camp's, newest first, from the scorer's /api/v1/chains (METHODOLOGY.md §10).",
		"/api/v1/chains", "chains", []string{"live", "true", "limit", "20"},
		column("summary", "Chain (newest first)", "string"),
		column("length", "Incidents", "number"))
}

// pipeline is the health dashboard of the collectors and scorers.
func pipeline() *dashboard.DashboardBuilder {
	return base(PipelineUID, "tensionwatch pipeline").
		WithPanel(timeseriesPanel(1, "Feeds up",
			"Share of feeds whose last poll succeeded, and how many are down.", "none", pos(8, 12, 0, 0),
			query("A", "job:tensionwatch_collector_feed_up:avg", "share of feeds up"),
			query("B", "job:tensionwatch_collector_feeds_down:sum", "feeds down"))).
		WithPanel(timeseriesPanel(2, "Polls by result",
			"Feed polls per second: ok, not_modified (304), error.", "reqps", pos(8, 12, 12, 0),
			query("A", "sum by (result) (rate(tensionwatch_collector_polls_total[5m]))", "{{result}}"))).
		WithPanel(timeseriesPanel(3, "Consumer lag",
			"Age of the last event each scorer read.", "s", pos(8, 12, 0, 8),
			query("A", "max by (instance) (tensionwatch_scorer_consumer_lag_seconds)", "{{instance}}"))).
		WithPanel(timeseriesPanel(4, "Produce and decode failures",
			"Failed produce calls (items are retried) and undecodable messages (skipped).", "short", pos(8, 12, 12, 8),
			query("A", "rate(tensionwatch_collector_produce_failures_total[5m])", "produce failures {{instance}}"),
			query("B", "rate(tensionwatch_scorer_decode_failures_total[5m])", "decode failures {{instance}}"))).
		WithPanel(timeseriesPanel(5, "Targets up",
			"Whether Prometheus reaches each collector and scorer.", "none", pos(8, 12, 0, 16),
			query("A", `up{job=~"tensionwatch-.*"}`, "{{job}} {{instance}}"))).
		WithPanel(timeseriesPanel(6, "Items handled",
			"Feed items per second: event, irrelevant, duplicate.", "short", pos(8, 12, 12, 16),
			query("A", "sum by (result) (rate(tensionwatch_collector_items_total[5m]))", "{{result}}")))
}
