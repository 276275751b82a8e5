package events

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Rules is the classifier's rule set, kept in the taxonomy file under
// `rules:` so that analysts edit it without Go. Terms are matched as whole
// words, case-insensitively, with English plurals and possessives folded
// ("drills", "China's"); Chinese, Japanese and Korean terms match inside
// running text. See the README's "Classifier rules" section.
type Rules struct {
	// Contexts are named word lists that ambiguous triggers require
	// somewhere in the same item (title or summary).
	Contexts map[string][]string `yaml:"contexts"`
	// Anchors are East Asian actors and places; an item mentions one or it
	// is not relevant.
	Anchors []string `yaml:"anchors"`
	// Offtopic marks other theatres. When a title names more of them than
	// of the anchors, the item is not relevant.
	Offtopic []string `yaml:"offtopic"`
	// Commentary marks analysis, commentary and plans: a title with one of
	// these is not a new act, and the item is not relevant.
	Commentary []string `yaml:"commentary"`
	// Exclusions are phrases of non-military senses ("fire drill", "product
	// launch"); a trigger inside one does not count.
	Exclusions []string `yaml:"exclusions"`
	// Triggers lists, per type, groups of terms that signal it.
	Triggers map[string][]TermGroup `yaml:"triggers"`
	// BackgroundMarkers are words after which a title's triggers describe
	// the background of the news ("drills after a visit") and count for
	// BackgroundDiscount of their weight.
	BackgroundMarkers []string `yaml:"background_markers"`
	// Priority breaks ties between types, most escalatory first.
	Priority []string `yaml:"priority"`
	// Regions lists, per region, groups of place and actor terms.
	Regions map[string][]TermGroup `yaml:"regions"`
	// DefaultRegion is used when no region term matches.
	DefaultRegion string `yaml:"default_region"`
	// Units maps magnitude units (aircraft, ships, missiles) to the words
	// that count them ("71 warplanes", "艦艇5隻").
	Units map[string][]string `yaml:"units"`
	// NamedExercises lists named exercises; the one an item mentions is
	// kept in its magnitude.
	NamedExercises []string `yaml:"named_exercises"`
	// Severe lists the events that page at once on their own: a relevant
	// item of one of the types and regions (any, when empty) whose text has
	// one of the terms is marked severe.
	Severe []SevereRule `yaml:"severe"`
	// LiveFire lists the terms that mark live fire.
	LiveFire []string `yaml:"live_fire"`
	// Signals are named facts about what happened that the index's incident
	// classes read ("encirclement", "over_japan", "water_cannon"): a signal
	// is present when one of its groups' terms occurs in a relevant item
	// (and, for a group with needs, one of the contexts). At most 62.
	Signals map[string][]TermGroup `yaml:"signals"`
	// Sides lists, per side (the taxonomy's `sides`), the names of its
	// state, government, forces and leaders ("China", "Chinese", "PLA",
	// "Beijing", "Xi"). A relevant item's actor and target are found among
	// the sides its title names (else its summary), by SideCues.
	Sides map[string][]TermGroup `yaml:"sides"`
	// SideCues are the words next to a side's name that give it its role.
	SideCues SideCues `yaml:"side_cues"`
	// RegionCues are the words that make a named place the background of
	// the news or where a move was heading, rather than where it happened.
	RegionCues RegionCues `yaml:"region_cues"`
	// OneCamp maps a type to the type an item of it becomes when its actor
	// and target are partners of one camp: talks between allies are
	// alignment, not de-escalation.
	OneCamp map[string]string `yaml:"one_camp"`
}

// SideCues are the words that make a named side the target of an act or its
// reporter rather than its actor (METHODOLOGY.md, "Who acted toward whom").
type SideCues struct {
	// TargetBefore: a side named right after one of these (an article may
	// come between) is the target: "drills around Taiwan", "sanctions on
	// the US", "对台".
	TargetBefore []string `yaml:"target_before"`
	// TargetAfter: a side named right before one of these is the target:
	// "台湾周辺", "북한에 대한".
	TargetAfter []string `yaml:"target_after"`
	// ReporterAfter: a side named right before one of these reports the
	// act rather than does it: "Taiwan says", "Japan tracks". In items of
	// the SpeechTypes, speaking is the act, and the speaker is the actor.
	ReporterAfter []string `yaml:"reporter_after"`
	// ReporterBefore: "according to Japan".
	ReporterBefore []string `yaml:"reporter_before"`
	// SpeechTypes are the types whose act is speaking: warnings, protests,
	// talks suspended or held.
	SpeechTypes []string `yaml:"speech_types"`
	// Places are names of places with a side's name in them ("South China
	// Sea", "Sea of Japan"): a side named inside one is not named.
	Places []string `yaml:"places"`
}

// RegionCues are the words that make a place the background of the news
// or a move's destination (README, "The rules"). Such a place counts
// for a tenth of its weight.
type RegionCues struct {
	// Background: a sentence of the summary that opens with one of these
	// recalls what happened before (「なお、当該艦艇は…を南西進したものと同一
	// である」: the ships' earlier route); its places, and the summary's
	// places after it, are the background.
	Background []string `yaml:"background"`
	// DestinationAfter: a place named right before one of these is where a
	// move was heading (「東シナ海へ向けて航行」), not where it was seen.
	DestinationAfter []string `yaml:"destination_after"`
}

// BuiltinSignals are signals every classification can carry without a
// rule: live_fire (a rules.live_fire term) and named_exercise (a
// rules.named_exercises name).
var BuiltinSignals = []string{"live_fire", "named_exercise"}

// TermGroup is a list of terms sharing a weight and a context requirement.
type TermGroup struct {
	Terms []string `yaml:"terms"`
	// Weight multiplies the group's matches (default 1).
	Weight float64 `yaml:"weight"`
	// Needs names contexts (keys of Rules.Contexts); when set, a match
	// counts only if a term of at least one of them occurs in the item.
	Needs []string `yaml:"needs"`
	// TitleOnly (signals only) counts a match in the title alone: "could"
	// in a headline makes it speculation, in a summary it rarely does.
	TitleOnly bool `yaml:"title_only"`
}

// SevereRule is one kind of severe event.
type SevereRule struct {
	Name    string   `yaml:"name"`
	Terms   []string `yaml:"terms"`
	Types   []string `yaml:"types"`
	Regions []string `yaml:"regions"`
}

var unitIDs = map[string]bool{"aircraft": true, "ships": true, "missiles": true}

func (r *Rules) validate(t *Taxonomy, errs *problems) {
	at := func(p ...string) []string { return append([]string{"rules"}, p...) }
	if len(r.Triggers) == 0 {
		return // a taxonomy without rules classifies nothing as relevant
	}
	if len(r.Anchors) == 0 {
		errs.add(at("anchors"), "rules.anchors: empty; nothing could be relevant")
	}
	for _, ty := range slices.Sorted(maps.Keys(r.Triggers)) {
		if t.TypeByID(ty) == nil {
			errs.add(at("triggers", ty), "rules.triggers: unknown type %q", ty)
		}
		r.checkGroups(at("triggers", ty), r.Triggers[ty], errs)
	}
	for _, ty := range t.Types {
		if len(r.Triggers[ty.ID]) == 0 {
			errs.add(at("triggers"), "rules.triggers: type %q has no triggers", ty.ID)
		}
	}
	seen := map[string]bool{}
	for i, ty := range r.Priority {
		if t.TypeByID(ty) == nil {
			errs.add(at("priority", strconv.Itoa(i)), "rules.priority: unknown type %q", ty)
		}
		if seen[ty] {
			errs.add(at("priority", strconv.Itoa(i)), "rules.priority: %q listed twice", ty)
		}
		seen[ty] = true
	}
	if len(seen) != len(t.Types) {
		errs.add(at("priority"), "rules.priority: lists %d of the %d types; list every type once", len(seen), len(t.Types))
	}
	for _, reg := range slices.Sorted(maps.Keys(r.Regions)) {
		if t.RegionByID(reg) == nil {
			errs.add(at("regions", reg), "rules.regions: unknown region %q", reg)
		}
		r.checkGroups(at("regions", reg), r.Regions[reg], errs)
	}
	if t.RegionByID(r.DefaultRegion) == nil {
		errs.add(at("default_region"), "rules.default_region: unknown region %q", r.DefaultRegion)
	}
	for _, u := range slices.Sorted(maps.Keys(r.Units)) {
		if !unitIDs[u] {
			errs.add(at("units", u), "rules.units: unknown unit %q (want aircraft, ships or missiles)", u)
		}
	}
	for i, sv := range r.Severe {
		at := at("severe", strconv.Itoa(i))
		if sv.Name == "" || len(sv.Terms) == 0 {
			errs.add(at, "rules.severe[%d]: needs a name and terms", i)
		}
		for _, ty := range sv.Types {
			if t.TypeByID(ty) == nil {
				errs.add(at, "rules.severe[%d]: unknown type %q", i, ty)
			}
		}
		for _, reg := range sv.Regions {
			if t.RegionByID(reg) == nil {
				errs.add(at, "rules.severe[%d]: unknown region %q", i, reg)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Signals)) {
		if slices.Index(BuiltinSignals, name) >= 0 {
			errs.add(at("signals", name), "rules.signals: %q is a built-in signal; choose another name", name)
		}
		r.checkGroups(at("signals", name), r.Signals[name], errs)
	}
	if len(r.Signals)+len(BuiltinSignals) > 64 {
		errs.add(at("signals"), "rules.signals: %d signals; at most %d", len(r.Signals), 64-len(BuiltinSignals))
	}
	if len(r.Contexts) > 64 {
		errs.add(at("contexts"), "rules.contexts: %d lists; at most 64", len(r.Contexts))
	}
}

func (r *Rules) checkGroups(path []string, groups []TermGroup, errs *problems) {
	where := strings.Join(path, ".")
	for i, g := range groups {
		gp := append(append([]string{}, path...), strconv.Itoa(i))
		if len(g.Terms) == 0 {
			errs.add(gp, "%s[%d]: no terms", where, i)
		}
		if g.Weight < 0 {
			errs.add(append(gp, "weight"), "%s[%d]: negative weight", where, i)
		}
		for _, n := range g.Needs {
			if _, ok := r.Contexts[n]; !ok {
				errs.add(append(gp, "needs", n), "%s[%d]: needs unknown context %q", where, i, n)
			}
		}
		for _, term := range g.Terms {
			if strings.TrimSpace(term) == "" {
				errs.add(append(gp, "terms"), "%s[%d]: empty term", where, i)
			}
		}
		if g.TitleOnly && path[1] != "signals" {
			errs.add(append(gp, "title_only"), "%s[%d]: title_only applies to signals only", where, i)
		}
	}
}
