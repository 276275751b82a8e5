// Package scorer serves the tension index: it applies decoded Kafka messages
// to an index.Index, exports the gauge and the pipeline's health as
// Prometheus metrics, and answers the JSON API that lists the events behind
// every number. Kafka consumption itself is in package app and package bus.
//
// The gauges (tensionwatch_index, tensionwatch_region_index,
// tensionwatch_category_index, tensionwatch_index_zscore,
// tensionwatch_dyad_index, tensionwatch_chain_longest_live_incidents,
// tensionwatch_index_last_computed_timestamp_seconds) are exported by a
// custom collector from the snapshot (and chains) the refresher last
// computed (refresh.go), so a scrape costs nothing. Every region, section and
// dyad is exported from the start, at 0.
//
// /metrics serves Config.Gatherer, which should include the Registerer given
// to New; when it is nil, that Registerer is used if it is also a Gatherer
// (a *prometheus.Registry is), else prometheus.DefaultGatherer.
package scorer
