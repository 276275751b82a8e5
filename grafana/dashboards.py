#!/usr/bin/env python3
"""Writes grafana/dashboards/*.json, the dashboards provisioned from files.

Dashboards as code: edit this file and run `python3 grafana/dashboards.py`;
`go test ./grafana/` checks every dashboard against Grafana's JSON schema and
that every PromQL expression parses (promtool) and names exported metrics.
"""
import json, os

PROM = {"type": "prometheus", "uid": "prometheus"}
API = {"type": "yesoreyeram-infinity-datasource", "uid": "tensionwatch-api"}
BANDS = {"mode": "absolute", "steps": [
    {"value": None, "color": "green"}, {"value": 30, "color": "yellow"},
    {"value": 60, "color": "orange"}, {"value": 80, "color": "red"}]}


def target(expr, legend="", ref="A", instant=False):
    t = {"refId": ref, "expr": expr, "datasource": PROM, "legendFormat": legend, "range": not instant}
    if instant:
        t["instant"] = True
    return t


def field_config(unit="none", thresholds=None, mn=None, mx=None):
    d = {"unit": unit}
    if thresholds:
        d["thresholds"] = thresholds
        d["color"] = {"mode": "thresholds"}
    if mn is not None:
        d["min"] = mn
    if mx is not None:
        d["max"] = mx
    return {"defaults": d, "overrides": []}


def gauge(pid, title, expr, pos, desc):
    return {"type": "gauge", "id": pid, "title": title, "description": desc, "datasource": PROM, "gridPos": pos,
            "targets": [target(expr, instant=True)],
            "options": {"showThresholdLabels": True, "showThresholdMarkers": True, "sizing": "auto",
                        "minVizWidth": 75, "minVizHeight": 75, "orientation": "auto",
                        "reduceOptions": {"calcs": ["lastNotNull"], "values": False}},
            "fieldConfig": field_config(thresholds=BANDS, mn=0, mx=100)}


def timeseries(pid, title, targets, pos, desc, unit="none", thresholds=None, mn=None, mx=None):
    return {"type": "timeseries", "id": pid, "title": title, "description": desc, "datasource": PROM, "gridPos": pos,
            "targets": targets,
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
                        "tooltip": {"mode": "multi", "sort": "desc"}},
            "fieldConfig": field_config(unit, thresholds, mn, mx)}


def events_table(pid, pos):
    return {"type": "table", "id": pid, "title": "Latest events (scorer API)", "datasource": API, "gridPos": pos,
            "description": "The events behind the numbers, newest first, from the scorer's /api/v1/events, with links to their sources.",
            "targets": [{"refId": "A", "datasource": API, "type": "json", "source": "url", "format": "table",
                         "url": "/api/v1/events", "url_options": {"method": "GET", "params": [{"key": "limit", "value": "50"}]},
                         "root_selector": "events",
                         "columns": [{"selector": "published", "text": "Published", "type": "timestamp"},
                                     {"selector": "classification.type", "text": "Type", "type": "string"},
                                     {"selector": "classification.region", "text": "Region", "type": "string"},
                                     {"selector": "title", "text": "Title", "type": "string"},
                                     {"selector": "source.outlet", "text": "Outlet", "type": "string"},
                                     {"selector": "link", "text": "Link", "type": "string"}]}],
            "options": {"frameIndex": 0, "showHeader": True, "cellHeight": "sm",
                        "footer": {"show": False, "reducer": [], "countRows": False}},
            "fieldConfig": {"defaults": {"links": [{"title": "Open the source", "type": "link", "icon": "external link", "tooltip": "",
                                                    "url": "${__data.fields.Link}", "tags": [], "asDropdown": False,
                                                    "targetBlank": True, "includeVars": False, "keepTime": False}]},
                            "overrides": []}}


def dashboard(uid, title, panels, variables=()):
    return {"uid": uid, "title": title, "tags": ["tensionwatch"], "timezone": "utc", "editable": False,
            "graphTooltip": 1, "time": {"from": "now-7d", "to": "now"}, "refresh": "1m", "schemaVersion": 41,
            "version": 1, "panels": panels, "templating": {"list": list(variables)},
            "annotations": {"list": [{"name": "Annotations & Alerts", "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                      "builtIn": 1, "type": "dashboard", "datasource": {"type": "grafana", "uid": "-- Grafana --"}}]},
            "links": [{"title": "Pipeline health", "type": "link", "icon": "dashboard", "tooltip": "", "url": "/d/tensionwatch-health/tensionwatch-pipeline",
                       "tags": [], "asDropdown": False, "targetBlank": False, "includeVars": False, "keepTime": True}]}


REGION_VAR = {"type": "custom", "name": "region", "label": "Region",
              "query": "taiwan_strait,east_china_sea,south_china_sea,korean_peninsula,sea_of_japan,western_pacific,east_asia",
              "multi": True, "includeAll": True, "current": {"text": "All", "value": "$__all"}}

overview = dashboard("tensionwatch", "tensionwatch", [
    gauge(1, "East Asia tension", ":tensionwatch_index:max", {"h": 9, "w": 6, "x": 0, "y": 0},
          "The East Asia gauge, 0-100: calm < 30 <= elevated < 60 <= high < 80 <= severe (METHODOLOGY.md)."),
    timeseries(2, "Regional sub-indices", [target('region:tensionwatch_region_index:max{region=~"$region"}', "{{region}}")],
               {"h": 9, "w": 18, "x": 6, "y": 0}, "Each region's sub-index over time, with the bands.", thresholds=BANDS, mn=0, mx=100),
    timeseries(3, "Paper sections", [target("category:tensionwatch_category_index:max", "{{category}}")],
               {"h": 8, "w": 12, "x": 0, "y": 9}, "Sub-indices of the policy paper's sections.", mn=0, mx=100),
    timeseries(4, "Region z-scores", [target('region:tensionwatch_index_zscore:max{region=~"$region"}', "{{region}}")],
               {"h": 8, "w": 12, "x": 12, "y": 9}, "How far each region stands above its own 28-day baseline; 3 or more alerts.",
               thresholds={"mode": "absolute", "steps": [{"value": None, "color": "green"}, {"value": 3, "color": "red"}]}),
    timeseries(5, "Event rate by type", [target("type:tensionwatch_events:rate1h * 3600", "{{type}}")],
               {"h": 8, "w": 12, "x": 0, "y": 17}, "Distinct events per hour, by type.", unit="short"),
    timeseries(6, "Severe events", [target("max by (region, type) (increase(tensionwatch_severe_events_total[1h]))", "{{type}} {{region}}")],
               {"h": 8, "w": 12, "x": 12, "y": 17}, "Events that page on their own (rules.severe).", unit="short"),
    events_table(7, {"h": 12, "w": 24, "x": 0, "y": 25}),
], [REGION_VAR])

health = dashboard("tensionwatch-health", "tensionwatch pipeline", [
    timeseries(1, "Feeds up", [target("job:tensionwatch_collector_feed_up:avg", "share of feeds up"),
                               target("job:tensionwatch_collector_feeds_down:sum", "feeds down", "B")],
               {"h": 8, "w": 12, "x": 0, "y": 0}, "Share of feeds whose last poll succeeded, and how many are down."),
    timeseries(2, "Polls by result", [target("sum by (result) (rate(tensionwatch_collector_polls_total[5m]))", "{{result}}")],
               {"h": 8, "w": 12, "x": 12, "y": 0}, "Feed polls per second: ok, not_modified (304), error.", unit="reqps"),
    timeseries(3, "Consumer lag", [target("max by (instance) (tensionwatch_scorer_consumer_lag_seconds)", "{{instance}}")],
               {"h": 8, "w": 12, "x": 0, "y": 8}, "Age of the last event each scorer read.", unit="s"),
    timeseries(4, "Produce and decode failures", [
        target("rate(tensionwatch_collector_produce_failures_total[5m])", "produce failures {{instance}}"),
        target("rate(tensionwatch_scorer_decode_failures_total[5m])", "decode failures {{instance}}", "B")],
               {"h": 8, "w": 12, "x": 12, "y": 8}, "Failed produce calls (items are retried) and undecodable messages (skipped).", unit="short"),
    timeseries(5, "Targets up", [target('up{job=~"tensionwatch-.*"}', "{{job}} {{instance}}")],
               {"h": 8, "w": 12, "x": 0, "y": 16}, "Whether Prometheus reaches each collector and scorer."),
    timeseries(6, "Items handled", [target("sum by (result) (rate(tensionwatch_collector_items_total[5m]))", "{{result}}")],
               {"h": 8, "w": 12, "x": 12, "y": 16}, "Feed items per second: event, irrelevant, duplicate.", unit="short"),
])

here = os.path.dirname(os.path.abspath(__file__))
for name, d in [("tensionwatch.json", overview), ("tensionwatch-pipeline.json", health)]:
    with open(os.path.join(here, "dashboards", name), "w") as f:
        json.dump(d, f, indent=2)
        f.write("\n")
