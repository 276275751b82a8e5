package scorer

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/chain"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// ChainsResponse is the body of /api/v1/chains: the dyads' numbers and the
// action–reaction chains among the incidents (METHODOLOGY.md, "Action and
// reaction").
type ChainsResponse struct {
	ComputedAt         time.Time `json:"computed_at"`
	MethodologyVersion string    `json:"methodology_version"`
	// Parameters publishes the chains' parameters (the window as text).
	Parameters ChainParameters `json:"parameters"`
	// Sides and Dyads are in the taxonomy's order; every dyad is listed.
	Sides []events.Side `json:"sides"`
	Dyads []DyadNumber  `json:"dyads"`
	Watch Watch         `json:"watch"`
	Bands []events.Band `json:"bands"`
	// LongestLive is the number of moves of the longest live chain (0 if
	// none), whatever the query's live and limit.
	LongestLive int `json:"longest_live"`
	// Count is how many chains there are before the query's limit.
	Count  int         `json:"count"`
	Chains []ChainView `json:"chains"`
}

// ChainParameters are the published parameters of the chains.
type ChainParameters struct {
	// Window is how long after a move's first report a move of the other
	// camp can answer it.
	Window        string   `json:"window"`
	MinLevel      float64  `json:"min_level"`
	MinOutlets    int      `json:"min_outlets"`
	JointFamilies []string `json:"joint_families"`
}

// DyadNumber is one dyad's number.
type DyadNumber struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	A         []string `json:"a"`
	B         []string `json:"b"`
	Value     float64  `json:"value"`
	Band      string   `json:"band"`
	Incidents int      `json:"incidents"`
}

// ChainView is one chain as the API lists it.
type ChainView struct {
	Live   bool `json:"live"`
	Length int  `json:"length"`
	// Moves are oldest first, each answering the one before it.
	Moves []chain.Move `json:"moves"`
	// Summary reads newest first: "title, 8 Apr 2023 ← title, 5 Apr 2023".
	Summary string `json:"summary"`
}

// DefaultChains is how many chains /api/v1/chains lists without limit=.
const DefaultChains = 20

// chainSummary reads a chain newest first, each move "title, 2 Jan 2006"
// (the day of its first report, UTC), with "←" between a move and the one
// it answers.
func chainSummary(moves []chain.Move) string {
	parts := make([]string, 0, len(moves))
	for i := len(moves) - 1; i >= 0; i-- {
		m := moves[i]
		parts = append(parts, fmt.Sprintf("%s, %s", strings.TrimSpace(m.Title), m.Start.UTC().Format("2 Jan 2006")))
	}
	return strings.Join(parts, " ← ")
}

// dyadNumbers lists every dyad of the taxonomy, in its order, with its
// number in snap (0 when the snapshot lacks it); blind marks every band
// no_data, as /api/v1/index does.
func (s *Scorer) dyadNumbers(snap index.Snapshot, blind bool) []DyadNumber {
	out := make([]DyadNumber, 0, len(s.tx.Dyads))
	for _, d := range s.tx.Dyads {
		n, ok := snap.Dyads[d.ID]
		band := n.Band
		if !ok {
			band = s.tx.Band(0)
		}
		if blind {
			band = NoData
		}
		out = append(out, DyadNumber{ID: d.ID, Name: d.Name, A: d.A, B: d.B, Value: n.Value, Band: band, Incidents: n.Incidents})
	}
	return out
}

func (s *Scorer) serveChains(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	at, ok := timeParam(w, q, "at")
	if !ok {
		return
	}
	liveOnly := false
	if v := q.Get("live"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "live: want true (only the live chains) or false (all)")
			return
		}
		liveOnly = b
	}
	limit, ok := countParam(w, q, "limit", DefaultChains)
	if !ok {
		return
	}
	// The served snapshot and its chains, unless a past time is asked for.
	var (
		snap   index.Snapshot
		chains chain.Result
	)
	if at.IsZero() {
		cur := s.current()
		snap, chains = cur.snap, cur.chains
	} else {
		snap, chains = s.ix.SnapshotNumbers(at), s.ix.Chains(at)
	}
	watch := s.Watch(s.cfg.Now())
	resp := ChainsResponse{
		ComputedAt: snap.ComputedAt, MethodologyVersion: snap.MethodologyVersion,
		Parameters: ChainParameters{Window: s.tx.Chains.Window.String(), MinLevel: s.tx.Chains.MinLevel,
			MinOutlets: s.tx.Chains.MinOutlets, JointFamilies: s.tx.Chains.JointFamilies},
		Sides: s.tx.Sides, Dyads: s.dyadNumbers(snap, watch.Blind), Watch: watch, Bands: s.tx.Index.Bands,
		LongestLive: chains.LongestLive, Chains: []ChainView{},
	}
	if resp.Sides == nil {
		resp.Sides = []events.Side{}
	}
	for _, c := range chains.Chains {
		if liveOnly && !c.Live {
			continue
		}
		resp.Count++
		if len(resp.Chains) < limit {
			resp.Chains = append(resp.Chains, ChainView{Live: c.Live, Length: len(c.Moves), Moves: c.Moves, Summary: chainSummary(c.Moves)})
		}
	}
	writeJSON(w, http.StatusOK, resp)
}
