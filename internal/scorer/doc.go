// Package scorer serves the tension index: it applies decoded Kafka messages
// to an index.Index, exports the gauge and the pipeline's health as
// Prometheus metrics, and answers the JSON API that lists the events behind
// every number. Kafka consumption itself is in package app and package bus.
//
// The gauges (tensionwatch_index, tensionwatch_region_index,
// tensionwatch_category_index, tensionwatch_index_zscore,
// tensionwatch_index_last_computed_timestamp_seconds) are computed by a
// custom collector at scrape time, so every scrape sees the index decayed to
// that moment and no ticker is needed. Every region and section is exported
// from the start, at 0.
//
// /metrics serves Config.Gatherer, which should include the Registerer given
// to New; when it is nil, that Registerer is used if it is also a Gatherer
// (a *prometheus.Registry is), else prometheus.DefaultGatherer.
package scorer
