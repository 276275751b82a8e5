// Package deploy holds what runs tensionwatch for real; the Go part only
// embeds the curated default feed list into the binaries.
package deploy

import _ "embed"

// DefaultFeeds is deploy/feeds.yaml, the feed list tensionwatch polls when no
// --feeds.file is given.
//
//go:embed feeds.yaml
var DefaultFeeds []byte
