// Package chain finds action–reaction chains among incidents: a move by one
// camp of the security dilemma answered by a move of the other, and so on
// (METHODOLOGY.md, "Action and reaction"). It is a pure function of the
// incidents and the taxonomy's published parameters (`chains`).
package chain

import (
	"cmp"
	"slices"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Move is an incident as the chains see it.
type Move struct {
	IncidentID string    `json:"incident_id"`
	Title      string    `json:"title"`
	Link       string    `json:"link"`
	Start      time.Time `json:"start"` // its first report
	Type       string    `json:"type"`
	Class      string    `json:"class"`
	Region     string    `json:"region"`
	Level      float64   `json:"level"`
	Actor      string    `json:"actor"`
	Target     string    `json:"target"`
	Dyad       string    `json:"dyad"`
	// Outlets is how many distinct outlets reported it: how much news it
	// made, which decides what an answer answers.
	Outlets      int  `json:"outlets"`
	Deescalatory bool `json:"-"`
	// Answering is the ID of the move this one answers ("" for none).
	Answering string `json:"answering,omitempty"`
}

// Chain is a path of moves, each answering the one before it.
type Chain struct {
	Moves []Move `json:"moves"` // oldest first
	// Live: its last move is recent enough to be answered still (within
	// the chains' window of now).
	Live bool `json:"live"`
}

// Result is the chains among a set of incidents at a time.
type Result struct {
	// Moves by incident ID; a move's Answering names the move it answers.
	Moves map[string]Move `json:"-"`
	// Chains are the longest paths of answers (every path from a move that
	// answers none to one that no move answers, of two moves or more):
	// live ones first, then by their last move, newest first.
	Chains []Chain `json:"chains"`
	// LongestLive is the number of moves of the longest live chain (0 if
	// none).
	LongestLive int `json:"longest_live"`
}

// isMove reports whether an incident can answer or be answered: escalatory,
// with an actor in a camp, and at least the chains' least level.
func isMove(tx *events.Taxonomy, m Move) bool {
	s := tx.SideByID(m.Actor)
	return !m.Deescalatory && s != nil && s.Camp != "" && m.Level >= tx.Chains.MinLevel
}

// engaged returns the sides a move presses: its target, when that is of
// the other camp; else (no target named, or a partner: a visit to Taiwan)
// the sides at the other end of its dyad.
func engaged(tx *events.Taxonomy, x *Move) []string {
	if tx.Opposed(x.Actor, x.Target) {
		return []string{x.Target}
	}
	d := tx.DyadByID(x.Dyad)
	switch {
	case d == nil:
		return nil
	case slices.Contains(d.A, x.Actor):
		return d.B
	}
	return d.A
}

// node is a move with what Find compares, computed once: its actor's camp
// and the sides it presses (engaged).
type node struct {
	*Move
	camp    string
	pressed []string
}

// answers reports whether y answers x: y is by a side of the other camp,
// and aimed at x's actor or target, either from a side x pressed (see
// engaged) or in x's region (an ally answering for the side pressed: a
// protest, a visit of support); or y names no target, is by a side x
// pressed, and happened in x's dyad and region. "In x's region" never
// means the region of the unplaced (rules.default_region).
func answers(unplaced string, y, x *node) bool {
	if x.camp == y.camp { // both in a camp (moves are)
		return false
	}
	pressed := slices.Contains(x.pressed, y.Actor)
	placed := y.Region == x.Region && y.Region != unplaced
	if y.Target == "" {
		return pressed && placed && y.Dyad == x.Dyad
	}
	return (y.Target == x.Actor || y.Target == x.Target) && (pressed || placed)
}

// Find returns the chains among moves (incidents first reported at or
// before now). A move answers the move of the other camp it is aimed at
// (see answers), first reported before it and at most the chains' window
// before it, reported by at least the chains' least number of outlets,
// that made the most news (most outlets; then the higher level, then the
// later, then the smaller ID).
func Find(tx *events.Taxonomy, moves []Move, now time.Time) Result {
	var ms []*node
	res := Result{Moves: map[string]Move{}}
	for i := range moves {
		m := moves[i]
		m.Answering = ""
		if m.Start.After(now) || !isMove(tx, m) {
			continue
		}
		ms = append(ms, &node{Move: &m, camp: tx.SideByID(m.Actor).Camp, pressed: engaged(tx, &m)})
	}
	slices.SortFunc(ms, func(a, b *node) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.IncidentID, b.IncidentID))
	})
	win, unplaced := tx.Chains.Window, tx.Rules.DefaultRegion
	// The moves y may answer are those with y's target as actor or target,
	// or, when y names no target, those of y's region: each list in order
	// of first reports, searched from y's window on.
	byActor, byTarget, byRegion := map[string][]*node{}, map[string][]*node{}, map[string][]*node{}
	for _, m := range ms {
		if m.Outlets < tx.Chains.MinOutlets {
			continue // answered by none
		}
		byActor[m.Actor] = append(byActor[m.Actor], m)
		if m.Target != "" {
			byTarget[m.Target] = append(byTarget[m.Target], m)
		}
		byRegion[m.Region] = append(byRegion[m.Region], m)
	}
	for _, y := range ms {
		lists := [2][]*node{byRegion[y.Region]}
		if y.Target != "" {
			lists = [2][]*node{byActor[y.Target], byTarget[y.Target]}
		}
		var best *node
		for _, list := range lists {
			from, _ := slices.BinarySearchFunc(list, y.Start.Add(-win), func(m *node, t time.Time) int { return m.Start.Compare(t) })
			for _, x := range list[from:] {
				if !x.Start.Before(y.Start) {
					break
				}
				if answers(unplaced, y, x) && (best == nil || salience(x.Move, best.Move) > 0) {
					best = x
				}
			}
		}
		if best != nil {
			y.Answering = best.IncidentID
		}
	}
	answered := map[string]bool{}
	for _, m := range ms {
		res.Moves[m.IncidentID] = *m.Move
		if m.Answering != "" {
			answered[m.Answering] = true
		}
	}
	for _, m := range ms {
		if m.Answering == "" || answered[m.IncidentID] {
			continue // not the end of a chain
		}
		var path []Move
		for id := m.IncidentID; id != ""; id = res.Moves[id].Answering {
			path = append(path, res.Moves[id])
		}
		slices.Reverse(path)
		c := Chain{Moves: path, Live: !m.Start.Before(now.Add(-win))}
		if c.Live {
			res.LongestLive = max(res.LongestLive, len(path))
		}
		res.Chains = append(res.Chains, c)
	}
	slices.SortStableFunc(res.Chains, func(a, b Chain) int {
		if a.Live != b.Live {
			if a.Live {
				return -1
			}
			return 1
		}
		la, lb := a.Moves[len(a.Moves)-1], b.Moves[len(b.Moves)-1]
		return cmp.Or(lb.Start.Compare(la.Start), cmp.Compare(la.IncidentID, lb.IncidentID))
	})
	return res
}

// salience compares two candidate moves an answer may answer: >0 when a
// made more news than b.
func salience(a, b *Move) int {
	return cmp.Or(cmp.Compare(a.Outlets, b.Outlets), cmp.Compare(a.Level, b.Level),
		a.Start.Compare(b.Start), cmp.Compare(b.IncidentID, a.IncidentID))
}
