// Package bus is tensionwatch's Kafka plumbing, spoken with
// github.com/segmentio/kafka-go: creating the events topic, producing events
// with acknowledgement from all in-sync replicas, reading every partition of
// the topic from a point in time, and an embedded single-process broker
// (franz-go's kfake) for the one-command default and for tests.
//
// The message layout itself (key, value, headers, time) is the contract of
// package events; see its documentation.
package bus
