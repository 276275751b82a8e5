package index

import (
	"cmp"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/chain"
)

// sides is who acted toward whom in an incident, and its dyad (and the
// dyad's index in the taxonomy, -1 for none).
type sides struct {
	actor, target, dyad string
	dyadIdx             int
}

// votes counts the sides an incident's reports give: its actor is the one
// most of its reports name (a tie goes to the report that gave the incident
// its level, then to the smaller ID), its target the one most of the
// reports naming that actor name.
type votes struct {
	actors  map[string]int
	targets map[[2]string]int
}

// vote adds report j (added in order) and appends the incident's sides
// with the reports so far.
func (in *Incident) vote(ix *Index, j int) {
	if in.votes.actors == nil {
		in.votes = votes{actors: map[string]int{}, targets: map[[2]string]int{}}
	}
	c := in.Reports[j].Classification
	if c.Actor != "" {
		in.votes.actors[c.Actor]++
		if c.Target != "" && c.Target != c.Actor {
			in.votes.targets[[2]string{c.Actor, c.Target}]++
		}
	}
	top := in.Reports[in.prefTop[j]].Classification
	var s sides
	best := 0
	for a, n := range in.votes.actors {
		if n > best || n == best && prefer(a, s.actor, top.Actor) {
			s.actor, best = a, n
		}
	}
	best = 0
	for k, n := range in.votes.targets {
		if k[0] == s.actor && (n > best || n == best && prefer(k[1], s.target, top.Target)) {
			s.target, best = k[1], n
		}
	}
	s.dyad = ix.tx.DyadOf(s.actor, s.target, in.Region)
	s.dyadIdx = -1
	if s.dyad != "" {
		s.dyadIdx = ix.dyadIdx[s.dyad]
	}
	in.prefSides = append(in.prefSides, s)
	if j == len(in.Reports)-1 {
		in.dyadAll = s.dyadIdx
	}
}

// prefer breaks a tie between two sides with as many votes: the strongest
// report's, then the smaller ID.
func prefer(a, b, top string) bool {
	switch {
	case a == top:
		return true
	case b == top:
		return false
	}
	return cmp.Less(a, b)
}

// sidesAt returns the incident's sides with its first reports.
func (in *Incident) sidesAt(reports int) sides { return in.prefSides[reports-1] }

// dyadAt returns the index of the incident's dyad with its first reports
// (-1 for none).
func (in *Incident) dyadAt(reports int) int {
	if reports == len(in.Reports) {
		return in.dyadAll
	}
	return in.prefSides[reports-1].dyadIdx
}

// Moves returns the incidents first reported at or before now, with an
// actor, as the chains see them (internal/chain), with the reports they had
// at now.
func (ix *Index) Moves(now time.Time) []chain.Move {
	ix.cmu.Lock()
	defer ix.cmu.Unlock()
	return ix.moves(ix.clustered(), now)
}

func (ix *Index) moves(incidents []*Incident, now time.Time) []chain.Move {
	out := make([]chain.Move, 0, len(incidents))
	for _, in := range incidents {
		if in.Start.After(now) {
			break
		}
		reports := in.reportsAt(now)
		if reports == 0 {
			continue
		}
		sd := in.sidesAt(reports)
		if sd.actor == "" {
			continue
		}
		top := in.Reports[in.prefTop[reports-1]]
		class, level := ix.tx.Level(top.Classification)
		out = append(out, chain.Move{
			IncidentID: in.ID, Title: top.Title, Link: top.Link, Start: in.Start,
			Type: in.Type, Class: class, Region: in.Region, Level: level,
			Actor: sd.actor, Target: sd.target, Dyad: sd.dyad, Outlets: int(in.prefNOutlets[reports-1]),
			Deescalatory: in.ty.Deescalatory,
		})
	}
	return out
}

// Chains returns the action–reaction chains among the incidents at now.
func (ix *Index) Chains(now time.Time) chain.Result {
	ix.cmu.Lock()
	defer ix.cmu.Unlock()
	incidents := ix.clustered()
	return chain.Find(ix.tx, ix.moves(incidents, now), now)
}

// linkAnswers sets the answering move of every contribution of a snapshot.
func (ix *Index) linkAnswers(snap *Snapshot, res chain.Result) {
	link := func(n *Number) {
		for i := range n.Top {
			c := &n.Top[i]
			if id := res.Moves[c.IncidentID].Answering; id != "" {
				m := res.Moves[id]
				c.Answering = &Answer{IncidentID: id, Title: m.Title, Link: m.Link, Actor: m.Actor, Start: m.Start}
			}
		}
	}
	link(&snap.Gauge)
	for _, m := range []map[string]Number{snap.Regions, snap.Categories, snap.Dyads} {
		for k, n := range m {
			link(&n)
			m[k] = n
		}
	}
}
