// Package e2e holds the end-to-end tests of the whole pipeline: feeds served
// by httptest, the collector, a real Kafka-protocol broker spoken to with
// kafka-go, the scorer's HTTP endpoints, and kcat as an independent client.
package e2e
