package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SchemaHeartbeatV1 is the schema header of a collector's heartbeat, which
// travels on the events topic beside the events: a scorer that runs apart
// from its collectors learns from it whether anyone is watching the feeds.
const SchemaHeartbeatV1 = "tensionwatch.heartbeat.v1"

// Heartbeat is a collector's periodic report of its feeds' health.
//
//	key:   "heartbeat/" + collector
//	value: {"v": 1, "collector", "time", "feeds", "feeds_ok", "last_success", "max_interval"}
//
// FeedsOK counts the feeds fetched successfully within two of their poll
// intervals; LastSuccess is the newest successful fetch of any feed (zero
// if none yet); MaxInterval the longest poll interval of the collector's
// feeds, in seconds.
// ReplayCollectorPrefix starts the Collector of a heartbeat sent by
// `tensionwatch --replay`: the events it stands for are a replay of old
// news, re-timed, and pages show it.
const ReplayCollectorPrefix = "replay-"

type Heartbeat struct {
	V           int       `json:"v"`
	Collector   string    `json:"collector"`
	Time        time.Time `json:"time"`
	Feeds       int       `json:"feeds"`
	FeedsOK     int       `json:"feeds_ok"`
	LastSuccess time.Time `json:"last_success"`
	MaxInterval float64   `json:"max_interval"`
}

// MarshalHeartbeat encodes a heartbeat (setting V).
func MarshalHeartbeat(h Heartbeat) ([]byte, error) {
	h.V = WireVersion
	if h.Collector == "" || h.Time.IsZero() {
		return nil, errors.New("events: a heartbeat needs a collector and a time")
	}
	return json.Marshal(h)
}

// UnmarshalHeartbeat decodes and checks a heartbeat.
func UnmarshalHeartbeat(b []byte) (Heartbeat, error) {
	var h Heartbeat
	if err := json.Unmarshal(b, &h); err != nil {
		return Heartbeat{}, fmt.Errorf("events: decoding heartbeat: %w", err)
	}
	switch {
	case h.V != WireVersion:
		return Heartbeat{}, fmt.Errorf("%w %d (want %d)", ErrVersion, h.V, WireVersion)
	case h.Collector == "" || h.Time.IsZero():
		return Heartbeat{}, errors.New("events: heartbeat without a collector or a time")
	case h.Feeds < 0 || h.FeedsOK < 0 || h.FeedsOK > h.Feeds:
		return Heartbeat{}, fmt.Errorf("events: heartbeat with %d of %d feeds ok", h.FeedsOK, h.Feeds)
	}
	return h, nil
}
