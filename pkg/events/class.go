package events

import (
	"maps"
	"slices"
	"strconv"
)

// Class is a kind of incident that reads a given level by itself,
// whatever the number of reports behind it: its severity comes from what
// happened (the type, the signals the text carries, the counts it gives),
// not from how many outlets wrote about it. Classes are listed in the
// taxonomy file under `classes`; an incident takes the highest level of
// the classes its reports match, and its type's level when none does.
//
// A classification matches a class when every condition that is set holds:
//
//   - Types, Regions: its type, its region is one of them;
//   - All: it carries every one of these signals;
//   - None: it carries none of these signals;
//   - Any, MinAircraft, MinShips, MinMissiles: the alternatives; at least
//     one holds (a listed signal, or a count at least the minimum).
type Class struct {
	ID string `yaml:"id" json:"id"`
	// Level is the gauge reading (0..100) such an incident gives alone,
	// fresh and fully corroborated.
	Level       float64  `yaml:"level" json:"level"`
	Types       []string `yaml:"types" json:"types,omitempty"`
	Regions     []string `yaml:"regions" json:"regions,omitempty"`
	Any         []string `yaml:"any" json:"any,omitempty"`
	All         []string `yaml:"all" json:"all,omitempty"`
	None        []string `yaml:"none" json:"none,omitempty"`
	MinAircraft int      `yaml:"min_aircraft" json:"min_aircraft,omitempty"`
	MinShips    int      `yaml:"min_ships" json:"min_ships,omitempty"`
	MinMissiles int      `yaml:"min_missiles" json:"min_missiles,omitempty"`
	// Why says, for the analyst and the methodology, why such an incident
	// reads this high.
	Why string `yaml:"why" json:"why"`
}

// Matches reports whether a relevant classification matches the class.
func (k *Class) Matches(c Classification) bool {
	if len(k.Types) > 0 && !slices.Contains(k.Types, c.Type) ||
		len(k.Regions) > 0 && !slices.Contains(k.Regions, c.Region) {
		return false
	}
	for _, s := range k.All {
		if !c.HasSignal(s) {
			return false
		}
	}
	for _, s := range k.None {
		if c.HasSignal(s) {
			return false
		}
	}
	m := c.Magnitude
	alternatives := len(k.Any) > 0 || k.MinAircraft > 0 || k.MinShips > 0 || k.MinMissiles > 0
	if !alternatives {
		return true
	}
	if k.MinAircraft > 0 && m.Aircraft >= k.MinAircraft || k.MinShips > 0 && m.Ships >= k.MinShips ||
		k.MinMissiles > 0 && m.Missiles >= k.MinMissiles {
		return true
	}
	for _, s := range k.Any {
		if c.HasSignal(s) {
			return true
		}
	}
	return false
}

// HasSignal reports whether the classification carries the named signal:
// one the classifier found (Signals), or a built-in one read from the
// magnitude (live_fire, named_exercise).
func (c Classification) HasSignal(name string) bool {
	switch name {
	case "live_fire":
		if c.Magnitude.LiveFire {
			return true
		}
	case "named_exercise":
		if c.Magnitude.Exercise != "" {
			return true
		}
	}
	return slices.Contains(c.Signals, name)
}

// ClassOf returns the class of a relevant classification: the matching
// class of the highest level (the first listed, on a tie), or nil when none
// matches and the type's level applies.
func (t *Taxonomy) ClassOf(c Classification) *Class {
	var best *Class
	for i := range t.Classes {
		k := &t.Classes[i]
		if (best == nil || k.Level > best.Level) && k.Matches(c) {
			best = k
		}
	}
	return best
}

// Level returns what a report of this classification reads alone: its
// class's level, else its type's. The class is the type's ID when no class
// applies, "" for an unknown type.
func (t *Taxonomy) Level(c Classification) (class string, level float64) {
	ty := t.TypeByID(c.Type)
	if ty == nil {
		return "", 0
	}
	if k := t.ClassOf(c); k != nil {
		return k.ID, k.Level
	}
	return ty.ID, ty.Level
}

// SignalNames returns every signal a class may name: the rules' signals
// and the built-in ones.
func (t *Taxonomy) SignalNames() []string {
	return append(slices.Sorted(maps.Keys(t.Rules.Signals)), BuiltinSignals...)
}

func (t *Taxonomy) validateClasses(errs *problems) {
	known := t.SignalNames()
	ids := map[string]bool{}
	for _, ty := range t.Types {
		ids[ty.ID] = true // a class must not take a type's name: the API shows both
	}
	for i := range t.Classes {
		k := &t.Classes[i]
		at := []string{"classes", strconv.Itoa(i)}
		if k.ID == "" || ids[k.ID] {
			errs.add(at, "classes[%d]: empty id, or %q is taken by a type or another class", i, k.ID)
		}
		ids[k.ID] = true
		if k.Level <= 0 || k.Level > 100 {
			errs.add(append(at, "level"), "class %s: level must be in (0,100]", k.ID)
		}
		for _, ty := range k.Types {
			if t.TypeByID(ty) == nil {
				errs.add(append(at, "types", ty), "class %s: unknown type %q", k.ID, ty)
			}
		}
		for _, r := range k.Regions {
			if t.RegionByID(r) == nil {
				errs.add(append(at, "regions", r), "class %s: unknown region %q", k.ID, r)
			}
		}
		for j, list := range [3][]string{k.Any, k.All, k.None} {
			key := [3]string{"any", "all", "none"}[j]
			for _, s := range list {
				if !slices.Contains(known, s) {
					errs.add(append(at, key, s), "class %s: unknown signal %q in %s (rules.signals or live_fire, named_exercise)", k.ID, s, key)
				}
			}
		}
		if k.Why == "" {
			errs.add(at, "class %s: say why in `why`", k.ID)
		}
	}
}
