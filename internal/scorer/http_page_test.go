package scorer

import (
	"encoding/json"
	"testing"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// TestIndexDescribesTheRegions checks what the watch page reads to explain
// the gauge: every region of the snapshot is described, in the taxonomy's
// order, and exactly one is marked as the default region of events that
// name no single place, the one the page labels "region-wide / unplaced".
func TestIndexDescribesTheRegions(t *testing.T) {
	_, srv := newScorer(t)
	code, body := get(t, srv.URL+"/api/v1/index")
	if code != 200 {
		t.Fatalf("/api/v1/index: %d %s", code, body)
	}
	var resp struct {
		Regions    map[string]json.RawMessage `json:"regions"`
		RegionInfo []struct {
			ID          string `json:"id"`
			Description string `json:"description"`
			Default     bool   `json:"default"`
		} `json:"region_info"`
		Parameters struct {
			Aggregation     float64 `json:"aggregation"`
			MaxDeescalation float64 `json:"max_deescalation"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	tx := events.DefaultTaxonomy()
	if len(resp.RegionInfo) != len(tx.Regions) || len(resp.RegionInfo) != len(resp.Regions) {
		t.Fatalf("region_info has %d regions, the taxonomy %d, the snapshot %d", len(resp.RegionInfo), len(tx.Regions), len(resp.Regions))
	}
	var defaults []string
	for i, r := range resp.RegionInfo {
		if r.ID != tx.Regions[i].ID || r.Description != tx.Regions[i].Description || r.Description == "" {
			t.Errorf("region_info[%d] = %+v, want the taxonomy's %+v", i, r, tx.Regions[i])
		}
		if _, ok := resp.Regions[r.ID]; !ok {
			t.Errorf("region_info lists %q, which the snapshot lacks", r.ID)
		}
		if r.Default {
			defaults = append(defaults, r.ID)
		}
	}
	if len(defaults) != 1 || defaults[0] != tx.Rules.DefaultRegion || defaults[0] != "east_asia" {
		t.Errorf("default regions %v, want only the taxonomy's default_region east_asia", defaults)
	}
	// The page derives its sentence on the gauge from these.
	if resp.Parameters.Aggregation != tx.Index.Aggregation || resp.Parameters.MaxDeescalation != tx.Index.MaxDeescalation ||
		resp.Parameters.Aggregation <= 0 || resp.Parameters.MaxDeescalation <= 0 {
		t.Errorf("parameters %+v, want the taxonomy's aggregation %v and max_deescalation %v", resp.Parameters, tx.Index.Aggregation, tx.Index.MaxDeescalation)
	}
}
