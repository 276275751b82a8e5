package events

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed taxonomy.yaml
var defaultTaxonomy []byte

// Taxonomy is the versioned, analyst-editable description of what counts as
// an event and how much it weighs: types, regions, paper sections, index
// parameters and the classifier's rules. The binaries embed taxonomy.yaml and
// accept another file by flag.
type Taxonomy struct {
	// Version names this file's content; it is exposed as the methodology
	// version, so change it with every edit that changes a number.
	Version  string    `yaml:"version"`
	Types    []Type    `yaml:"types"`
	Regions  []Region  `yaml:"regions"`
	Sections []Section `yaml:"sections"`
	Index    IndexSpec `yaml:"index"`
	// Classes are the kinds of incident that read above their type's level
	// by themselves: a named PLA exercise around Taiwan, a missile over
	// Japan, a ramming at a disputed shoal.
	Classes []Class `yaml:"classes"`
	Rules   Rules   `yaml:"rules"`
	// Sides are the parties that act and are acted upon, in two camps;
	// Dyads the pairs of opposed sides scored together; Chains the
	// parameters of action–reaction chains.
	Sides  []Side    `yaml:"sides"`
	Dyads  []Dyad    `yaml:"dyads"`
	Chains ChainSpec `yaml:"chains"`

	typeByID    map[string]*Type
	regionByID  map[string]*Region
	sectionByID map[string]*Section
	sideByID    map[string]*Side
	dyadByID    map[string]*Dyad
}

// Type is an event type with its level in the index.
type Type struct {
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	// Section is the paper section the type counts toward by default.
	Section string `yaml:"section"`
	// Level is what an incident of this type reads alone, fresh and fully
	// corroborated (gauge points, 0..100), when no incident class of the
	// taxonomy's `classes` applies to it.
	Level float64 `yaml:"level"`
	// HalfLife is how long until an event's contribution halves.
	HalfLife time.Duration `yaml:"half_life"`
	// Deescalatory types pull the index down instead of up.
	Deescalatory bool `yaml:"deescalatory"`
	// Family groups types that one incident's reports may mix (a drill
	// reported as an exercise by one outlet and as missile fire by
	// another); reports of different families are different incidents.
	Family string `yaml:"family"`
	// Ongoing types (exercises, visits, summits) last days: their incidents
	// take reports up to index.cluster_gap after their latest report,
	// within index.cluster_span of their first. Other types are acts of a
	// moment: their incidents take reports up to index.cluster_window
	// after their first.
	Ongoing bool `yaml:"ongoing"`
	// ClusterSimilarity, if set, replaces index.cluster_similarity for
	// incidents of this type (statements by different actors share words
	// but are different statements).
	ClusterSimilarity float64 `yaml:"cluster_similarity"`
}

// Region is a geographic region of the gauge.
type Region struct {
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
}

// Section is a section of the policy paper the product is built on.
type Section struct {
	ID    string `yaml:"id"`
	Paper string `yaml:"paper"`
	Name  string `yaml:"name"`
}

// IndexSpec holds the index's published parameters (METHODOLOGY.md).
type IndexSpec struct {
	// Aggregation weighs the incidents behind a number, strongest first, by
	// 1, a, a², …: the number reads at least its strongest incident, and
	// routine news, however much of it, adds at most 1/(1−a) times the
	// level of its largest item.
	Aggregation float64 `yaml:"aggregation" json:"aggregation"`
	// Corroboration[i] is an incident's confidence when i+1 independent
	// outlets report it; the last entry holds for more (it must be 1).
	// Further reports of an incident by outlets already counted add nothing.
	Corroboration []float64 `yaml:"corroboration" json:"corroboration"`
	// FullCredibility is the source credibility at which an outlet counts
	// as one whole corroborating outlet; a less credible outlet counts as
	// credibility / full_credibility of one.
	FullCredibility float64 `yaml:"full_credibility" json:"full_credibility"`
	// MaxDeescalation is the largest fraction of the escalatory number that
	// de-escalatory incidents can cancel.
	MaxDeescalation float64 `yaml:"max_deescalation" json:"max_deescalation"`
	// Window is how far back the scorer replays on start; events older than
	// it contribute nothing worth keeping.
	Window time.Duration `yaml:"window" json:"-"`
	// Bands name ranges of the gauge, ascending by Min; the first has Min 0.
	Bands []Band `yaml:"bands" json:"bands"`
	// ClusterWindow is how long after an incident's first report another
	// report can still join it; for an ongoing type, ClusterGap is how long
	// after its latest report, and ClusterSpan how long after its first.
	ClusterWindow time.Duration `yaml:"cluster_window" json:"-"`
	ClusterGap    time.Duration `yaml:"cluster_gap" json:"-"`
	ClusterSpan   time.Duration `yaml:"cluster_span" json:"-"`
	// ClusterSimilarity is the least title-word overlap (0..1) with one of
	// an incident's reports for a report of its type to join it, and
	// ClusterSimilarityOtherType for a report of another type of its family.
	ClusterSimilarity          float64 `yaml:"cluster_similarity" json:"cluster_similarity"`
	ClusterSimilarityOtherType float64 `yaml:"cluster_similarity_other_type" json:"cluster_similarity_other_type"`
	// BaselineWindow and BaselineStep sample each region's trailing
	// baseline for its z-score; BaselineMinSpread (gauge points) floors the
	// robust spread so that a flat history does not make every change huge.
	BaselineWindow    time.Duration `yaml:"baseline_window" json:"-"`
	BaselineStep      time.Duration `yaml:"baseline_step" json:"-"`
	BaselineMinSpread float64       `yaml:"baseline_min_spread" json:"baseline_min_spread"`
}

// Band is a named range of the gauge from Min (inclusive) to the next band.
type Band struct {
	Name string  `yaml:"name" json:"name"`
	Min  float64 `yaml:"min" json:"min"`
}

// DefaultTaxonomy returns the taxonomy embedded in the binaries.
func DefaultTaxonomy() *Taxonomy {
	t, err := ParseTaxonomy(defaultTaxonomy, "taxonomy.yaml (embedded)")
	if err != nil {
		panic(err) // a test guards this; the embedded file is always valid
	}
	return t
}

// ParseTaxonomy decodes a taxonomy strictly and validates it. Every error
// names the file and the line ("taxonomy.yaml:212: rules.triggers: unknown
// type \"drils\""); all problems are reported at once.
func ParseTaxonomy(b []byte, name string) (*Taxonomy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var t Taxonomy
	if err := dec.Decode(&t); err != nil {
		return nil, yamlError(name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	for _, e := range t.validate() {
		errs = append(errs, fmt.Errorf("%s:%d: %s", name, lineAt(&root, e.path), e.msg))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &t, nil
}

// yamlError turns a YAML decoding error into one "file:line: message" per
// problem, for the analyst editing the file: without the YAML package's
// prefix and without Go type names ("cannot unmarshal !!str `x` into
// []events.Type" becomes "\"x\" is not a list").
func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var errs []error
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		pos := name
		if m := yamlLineRE.FindStringSubmatch(line); m != nil {
			pos, line = name+":"+m[1], line[len(m[0]):]
		}
		line = yamlNotFoundRE.ReplaceAllString(line, "unknown field $1")
		line = yamlCannotRE.ReplaceAllStringFunc(line, func(m string) string {
			sm := yamlCannotRE.FindStringSubmatch(m)
			got := fmt.Sprintf("%q", sm[2])
			if sm[2] == "" {
				got = "a " + sm[1]
			}
			return got + " is not " + goKind(sm[3])
		})
		errs = append(errs, fmt.Errorf("%s: %s", pos, line))
	}
	if len(errs) == 0 {
		return fmt.Errorf("%s: %w", name, err)
	}
	return errors.Join(errs...)
}

var (
	yamlLineRE     = regexp.MustCompile(`^line (\d+): `)
	yamlNotFoundRE = regexp.MustCompile(`field (\S+) not found in type \S+`)
	yamlCannotRE   = regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `([^`]*)`)? into (\\S+)")
)

// goKind names what a Go type holds in the words of a YAML file.
func goKind(typ string) string {
	switch {
	case strings.HasPrefix(typ, "[]"):
		return "a list"
	case strings.HasPrefix(typ, "map["), strings.Contains(typ, "."):
		if typ == "time.Duration" || strings.HasSuffix(typ, ".Duration") {
			return "a duration such as 72h"
		}
		return "a mapping"
	case typ == "bool":
		return "true or false"
	case typ == "string":
		return "a string"
	case strings.HasPrefix(typ, "int"), strings.HasPrefix(typ, "uint"):
		return "a whole number"
	case strings.HasPrefix(typ, "float"):
		return "a number"
	}
	return "of the expected kind"
}

// problem is a validation error at a path of keys and indexes in the file.
type problem struct {
	path []string
	msg  string
}

type problems []problem

func (ps *problems) add(path []string, format string, args ...any) {
	*ps = append(*ps, problem{path: path, msg: fmt.Sprintf(format, args...)})
}

// lineAt returns the line of the node at path (of its key, for a mapping
// entry), or of the deepest node of the path that exists.
func lineAt(root *yaml.Node, path []string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, key := range path {
		var next *yaml.Node
		nextLine := 0
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					next, nextLine = n.Content[i+1], n.Content[i].Line
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(key); err == nil && i < len(n.Content) {
				next = n.Content[i]
			} else {
				for _, c := range n.Content { // a scalar item equal to key
					if c.Value == key {
						next = c
						break
					}
				}
			}
			if next != nil {
				nextLine = next.Line
			}
		}
		if next == nil {
			break
		}
		n, line = next, nextLine
	}
	return line
}

func (t *Taxonomy) validate() problems {
	var errs problems
	if t.Version == "" {
		errs.add([]string{"version"}, "version is required")
	}
	t.sectionByID = map[string]*Section{}
	for i := range t.Sections {
		s := &t.Sections[i]
		if s.ID == "" || t.sectionByID[s.ID] != nil {
			errs.add([]string{"sections", strconv.Itoa(i)}, "sections[%d]: empty or duplicate id %q", i, s.ID)
		}
		t.sectionByID[s.ID] = s
	}
	t.regionByID = map[string]*Region{}
	for i := range t.Regions {
		r := &t.Regions[i]
		if r.ID == "" || t.regionByID[r.ID] != nil {
			errs.add([]string{"regions", strconv.Itoa(i)}, "regions[%d]: empty or duplicate id %q", i, r.ID)
		}
		t.regionByID[r.ID] = r
	}
	t.typeByID = map[string]*Type{}
	for i := range t.Types {
		ty := &t.Types[i]
		at := []string{"types", strconv.Itoa(i)}
		if ty.ID == "" || t.typeByID[ty.ID] != nil {
			errs.add(at, "types[%d]: empty or duplicate id %q", i, ty.ID)
		}
		if t.sectionByID[ty.Section] == nil {
			errs.add(at, "type %s: unknown section %q", ty.ID, ty.Section)
		}
		if ty.Level <= 0 || ty.Level > 100 {
			errs.add(at, "type %s: level must be in (0,100]", ty.ID)
		}
		if ty.HalfLife <= 0 {
			errs.add(at, "type %s: half_life must be > 0", ty.ID)
		}
		if ty.Family == "" {
			errs.add(at, "type %s: family is required (types of one family may share an incident)", ty.ID)
		}
		if ty.ClusterSimilarity < 0 || ty.ClusterSimilarity > 1 {
			errs.add(at, "type %s: cluster_similarity must be in [0,1]", ty.ID)
		}
		t.typeByID[ty.ID] = ty
	}
	ix := t.Index
	if ix.Aggregation < 0 || ix.Aggregation >= 1 {
		errs.add([]string{"index", "aggregation"}, "index.aggregation must be in [0,1)")
	}
	if n := len(ix.Corroboration); n == 0 || ix.Corroboration[n-1] != 1 {
		errs.add([]string{"index", "corroboration"}, "index.corroboration: list the confidence for 1, 2, … outlets, ending with 1")
	}
	for i, c := range ix.Corroboration {
		if c <= 0 || c > 1 || i > 0 && c < ix.Corroboration[i-1] {
			errs.add([]string{"index", "corroboration"}, "index.corroboration: values must ascend within (0,1]")
			break
		}
	}
	if ix.FullCredibility <= 0 || ix.FullCredibility > 1 {
		errs.add([]string{"index", "full_credibility"}, "index.full_credibility must be in (0,1]")
	}
	if ix.MaxDeescalation < 0 || ix.MaxDeescalation > 1 {
		errs.add([]string{"index", "max_deescalation"}, "index.max_deescalation must be in [0,1]")
	}
	if ix.Window <= 0 {
		errs.add([]string{"index", "window"}, "index.window must be > 0")
	}
	if ix.ClusterWindow <= 0 {
		errs.add([]string{"index", "cluster_window"}, "index.cluster_window must be > 0")
	}
	if ix.ClusterSimilarity <= 0 || ix.ClusterSimilarity > 1 {
		errs.add([]string{"index", "cluster_similarity"}, "index.cluster_similarity must be in (0,1]")
	}
	if ix.ClusterSimilarityOtherType < ix.ClusterSimilarity || ix.ClusterSimilarityOtherType > 1 {
		errs.add([]string{"index", "cluster_similarity_other_type"}, "index.cluster_similarity_other_type must be in [cluster_similarity,1]")
	}
	if ix.ClusterGap <= 0 || ix.ClusterSpan < ix.ClusterGap {
		errs.add([]string{"index", "cluster_gap"}, "index.cluster_gap must be > 0 and cluster_span at least cluster_gap")
	}
	if ix.BaselineStep <= 0 || ix.BaselineWindow < ix.BaselineStep {
		errs.add([]string{"index", "baseline_step"}, "index.baseline_step must be > 0 and at most baseline_window")
	}
	if ix.BaselineMinSpread <= 0 {
		errs.add([]string{"index", "baseline_min_spread"}, "index.baseline_min_spread must be > 0")
	}
	if len(ix.Bands) == 0 || ix.Bands[0].Min != 0 {
		errs.add([]string{"index", "bands"}, "index.bands: the first band must start at 0")
	}
	for i := 1; i < len(ix.Bands); i++ {
		if ix.Bands[i].Min <= ix.Bands[i-1].Min || ix.Bands[i].Min > 100 {
			errs.add([]string{"index", "bands", strconv.Itoa(i)}, "index.bands[%d]: min must ascend within [0,100]", i)
		}
	}
	t.Rules.validate(t, &errs)
	t.validateClasses(&errs)
	t.validateSides(&errs)
	return errs
}

// TypeByID returns the type with the given ID, or nil.
func (t *Taxonomy) TypeByID(id string) *Type { return t.typeByID[id] }

// RegionByID returns the region with the given ID, or nil.
func (t *Taxonomy) RegionByID(id string) *Region { return t.regionByID[id] }

// SectionByID returns the section with the given ID, or nil.
func (t *Taxonomy) SectionByID(id string) *Section { return t.sectionByID[id] }

// Band returns the name of the band a gauge value falls in.
func (t *Taxonomy) Band(v float64) string {
	name := ""
	for _, b := range t.Index.Bands {
		if v >= b.Min {
			name = b.Name
		}
	}
	return name
}
