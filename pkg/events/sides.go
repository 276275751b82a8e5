package events

import (
	"maps"
	"slices"
	"strconv"
	"time"
)

// Side is a party that acts or is acted upon: a state (the PRC, the US,
// Taiwan) or "other". Its camp is one of the two sides of the security
// dilemma the product watches (us_allied, china_aligned), or empty for a
// side of neither.
type Side struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	Camp string `yaml:"camp" json:"camp,omitempty"`
}

// Dyad is a pair of opposed sides whose moves are scored together: A and B
// list the sides of each end ("US/Japan–PRC": A us, japan, australia; B
// prc, russia). Regions are its theatre: an incident whose actor is at one
// end and which names no target at the other end belongs to the first dyad,
// in file order, that has its actor and its region.
type Dyad struct {
	ID      string   `yaml:"id" json:"id"`
	Name    string   `yaml:"name" json:"name"`
	A       []string `yaml:"a" json:"a"`
	B       []string `yaml:"b" json:"b"`
	Regions []string `yaml:"regions" json:"regions"`
}

// ChainSpec holds the published parameters of action–reaction chains
// (METHODOLOGY.md, "Action and reaction").
type ChainSpec struct {
	// Window is how long after an incident's first report an incident of
	// the other camp can answer it.
	Window time.Duration `yaml:"window" json:"-"`
	// MinLevel is the least level (its class's, else its type's) of an
	// incident that counts as a move: one that can answer or be answered.
	MinLevel float64 `yaml:"min_level" json:"min_level"`
	// MinOutlets is how many distinct outlets must have reported a move
	// for another to answer it: news, not one outlet's story.
	MinOutlets int `yaml:"min_outlets" json:"min_outlets"`
	// JointFamilies are the type families whose acts are joint (talks,
	// summits): their reports form one incident whichever side a headline
	// names first. Reports of other families whose actors are of opposite
	// camps are two incidents (a launch and the launch answering it).
	JointFamilies []string `yaml:"joint_families" json:"joint_families"`
}

// Joint reports whether acts of the type family are joint (see
// ChainSpec.JointFamilies).
func (t *Taxonomy) Joint(family string) bool { return slices.Contains(t.Chains.JointFamilies, family) }

// SideByID returns the side with the given ID, or nil.
func (t *Taxonomy) SideByID(id string) *Side { return t.sideByID[id] }

// DyadByID returns the dyad with the given ID, or nil.
func (t *Taxonomy) DyadByID(id string) *Dyad { return t.dyadByID[id] }

// Partners reports whether two different sides are in one camp.
func (t *Taxonomy) Partners(a, b string) bool {
	sa, sb := t.sideByID[a], t.sideByID[b]
	return sa != nil && sb != nil && a != b && sa.Camp != "" && sa.Camp == sb.Camp
}

// Opposed reports whether two sides are in opposite camps.
func (t *Taxonomy) Opposed(a, b string) bool {
	sa, sb := t.sideByID[a], t.sideByID[b]
	return sa != nil && sb != nil && sa.Camp != "" && sb.Camp != "" && sa.Camp != sb.Camp
}

// DyadOf returns the dyad of an incident whose actor and target (either may
// be empty) and region are given, or "" for none: the first dyad, in file
// order, with the actor at one end and the target at the other; else, when
// the target is not at an end opposite the actor in any dyad (none named,
// or a partner: a visit to Taiwan by the Speaker), the first with the actor
// at an end and the region in its theatre.
func (t *Taxonomy) DyadOf(actor, target, region string) string {
	if actor == "" {
		return ""
	}
	for i := range t.Dyads {
		d := &t.Dyads[i]
		if slices.Contains(d.A, actor) && slices.Contains(d.B, target) || slices.Contains(d.B, actor) && slices.Contains(d.A, target) {
			return d.ID
		}
	}
	for i := range t.Dyads {
		d := &t.Dyads[i]
		if (slices.Contains(d.A, actor) || slices.Contains(d.B, actor)) && slices.Contains(d.Regions, region) {
			return d.ID
		}
	}
	return ""
}

func (t *Taxonomy) validateSides(errs *problems) {
	t.sideByID = map[string]*Side{}
	camps := map[string]bool{}
	for i := range t.Sides {
		s := &t.Sides[i]
		at := []string{"sides", strconv.Itoa(i)}
		if s.ID == "" || t.sideByID[s.ID] != nil {
			errs.add(at, "sides[%d]: empty or duplicate id %q", i, s.ID)
		}
		if s.Name == "" {
			errs.add(at, "side %s: name is required", s.ID)
		}
		if s.Camp != "" {
			camps[s.Camp] = true
		}
		t.sideByID[s.ID] = s
	}
	if len(t.Sides) > 0 && len(camps) != 2 {
		errs.add([]string{"sides"}, "sides: %d camps; the sides must fall in exactly two camps (or none)", len(camps))
	}
	t.dyadByID = map[string]*Dyad{}
	for i := range t.Dyads {
		d := &t.Dyads[i]
		at := []string{"dyads", strconv.Itoa(i)}
		if d.ID == "" || t.dyadByID[d.ID] != nil {
			errs.add(at, "dyads[%d]: empty or duplicate id %q", i, d.ID)
		}
		if d.Name == "" || len(d.A) == 0 || len(d.B) == 0 {
			errs.add(at, "dyad %s: needs a name and sides at both ends (a, b)", d.ID)
		}
		for _, end := range [][]string{d.A, d.B} {
			for _, s := range end {
				if t.sideByID[s] == nil {
					errs.add(at, "dyad %s: unknown side %q", d.ID, s)
				}
			}
		}
		for _, s := range d.A {
			for _, o := range d.B {
				if !t.Opposed(s, o) {
					errs.add(at, "dyad %s: %s and %s are not in opposite camps", d.ID, s, o)
				}
			}
		}
		for _, r := range d.Regions {
			if t.RegionByID(r) == nil {
				errs.add(at, "dyad %s: unknown region %q", d.ID, r)
			}
		}
		t.dyadByID[d.ID] = d
	}
	if len(t.Dyads) > 0 && t.Chains.Window <= 0 {
		errs.add([]string{"chains", "window"}, "chains.window must be > 0")
	}
	for i, f := range t.Chains.JointFamilies {
		if !slices.ContainsFunc(t.Types, func(ty Type) bool { return ty.Family == f }) {
			errs.add([]string{"chains", "joint_families", strconv.Itoa(i)}, "chains.joint_families: no type has family %q", f)
		}
	}
	if len(t.Dyads) > 0 && t.Chains.MinOutlets < 1 {
		errs.add([]string{"chains", "min_outlets"}, "chains.min_outlets must be at least 1")
	}
	if t.Chains.MinLevel < 0 || t.Chains.MinLevel > 100 {
		errs.add([]string{"chains", "min_level"}, "chains.min_level must be in [0,100]")
	}
	for _, id := range slices.Sorted(maps.Keys(t.Rules.Sides)) {
		if t.sideByID[id] == nil {
			errs.add([]string{"rules", "sides", id}, "rules.sides: unknown side %q", id)
		}
		t.Rules.checkGroups([]string{"rules", "sides", id}, t.Rules.Sides[id], errs)
	}
	for _, from := range slices.Sorted(maps.Keys(t.Rules.OneCamp)) {
		if t.TypeByID(from) == nil || t.TypeByID(t.Rules.OneCamp[from]) == nil {
			errs.add([]string{"rules", "one_camp", from}, "rules.one_camp: unknown type in %s: %s", from, t.Rules.OneCamp[from])
		}
	}
	for i, ty := range t.Rules.SideCues.SpeechTypes {
		if t.TypeByID(ty) == nil {
			errs.add([]string{"rules", "side_cues", "speech_types", strconv.Itoa(i)}, "rules.side_cues.speech_types: unknown type %q", ty)
		}
	}
}
