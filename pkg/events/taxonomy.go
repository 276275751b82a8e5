package events

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
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
	Rules    Rules     `yaml:"rules"`

	typeByID    map[string]*Type
	regionByID  map[string]*Region
	sectionByID map[string]*Section
}

// Type is an event type with its weight in the index.
type Type struct {
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	// Section is the paper section the type counts toward by default.
	Section string `yaml:"section"`
	// Weight is the type's base contribution, before magnitude, credibility,
	// confidence and decay.
	Weight float64 `yaml:"weight"`
	// HalfLife is how long until an event's contribution halves.
	HalfLife time.Duration `yaml:"half_life"`
	// Deescalatory types pull the index down instead of up.
	Deescalatory bool `yaml:"deescalatory"`
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

// IndexSpec holds the index's published parameters.
type IndexSpec struct {
	// Scale and Shape map a raw score to the 0..100 gauge:
	// gauge = 100 * (1 - exp(-(raw/scale)^shape)). At raw = scale the gauge
	// reads 63; a shape above 1 keeps scattered background low and lets
	// concentrated activity climb steeply.
	Scale float64 `yaml:"scale" json:"scale"`
	Shape float64 `yaml:"shape" json:"shape"`
	// OtherRegions weighs every region but the hottest in the East Asia
	// gauge: raw(East Asia) = max(region raw) + other_regions × Σ the others.
	OtherRegions float64 `yaml:"other_regions" json:"other_regions"`
	// MaxDeescalation is the largest fraction of the escalatory score that
	// de-escalatory events can cancel.
	MaxDeescalation float64 `yaml:"max_deescalation" json:"max_deescalation"`
	// Window is how far back the scorer replays on start; events older than
	// it contribute nothing worth keeping.
	Window time.Duration `yaml:"window" json:"-"`
	// MagnitudeCap caps the magnitude multiplier.
	MagnitudeCap float64 `yaml:"magnitude_cap" json:"magnitude_cap"`
	// Bands name ranges of the gauge, ascending by Min; the first has Min 0.
	Bands []Band `yaml:"bands" json:"bands"`
	// Corroboration raises an incident reported by n distinct outlets by
	// the factor 1 + corroboration × log2(n): less than linearly.
	Corroboration float64 `yaml:"corroboration" json:"corroboration"`
	// ClusterWindow is how long after an incident's first report another
	// report can still join it.
	ClusterWindow time.Duration `yaml:"cluster_window" json:"-"`
	// ClusterSimilarity is the least title-word overlap (0..1) for a report
	// to join an incident of its type and region.
	ClusterSimilarity float64 `yaml:"cluster_similarity" json:"cluster_similarity"`
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

// LoadTaxonomy reads and validates a taxonomy file.
func LoadTaxonomy(path string) (*Taxonomy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("events: reading taxonomy: %w", err)
	}
	return ParseTaxonomy(b, path)
}

// ParseTaxonomy decodes a taxonomy strictly and validates it. Every error
// names the file and the line ("taxonomy.yaml:212: rules.triggers: unknown
// type \"drils\""); all problems are reported at once.
func ParseTaxonomy(b []byte, name string) (*Taxonomy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var t Taxonomy
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
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
		if ty.Weight <= 0 {
			errs.add(at, "type %s: weight must be > 0", ty.ID)
		}
		if ty.HalfLife <= 0 {
			errs.add(at, "type %s: half_life must be > 0", ty.ID)
		}
		t.typeByID[ty.ID] = ty
	}
	ix := t.Index
	if ix.Scale <= 0 {
		errs.add([]string{"index", "scale"}, "index.scale must be > 0")
	}
	if ix.Shape <= 0 {
		errs.add([]string{"index", "shape"}, "index.shape must be > 0")
	}
	if ix.OtherRegions < 0 || ix.OtherRegions > 1 {
		errs.add([]string{"index", "other_regions"}, "index.other_regions must be in [0,1]")
	}
	if ix.MaxDeescalation < 0 || ix.MaxDeescalation > 1 {
		errs.add([]string{"index", "max_deescalation"}, "index.max_deescalation must be in [0,1]")
	}
	if ix.Window <= 0 {
		errs.add([]string{"index", "window"}, "index.window must be > 0")
	}
	if ix.MagnitudeCap < 1 {
		errs.add([]string{"index", "magnitude_cap"}, "index.magnitude_cap must be >= 1")
	}
	if ix.Corroboration < 0 {
		errs.add([]string{"index", "corroboration"}, "index.corroboration must be >= 0")
	}
	if ix.ClusterWindow <= 0 {
		errs.add([]string{"index", "cluster_window"}, "index.cluster_window must be > 0")
	}
	if ix.ClusterSimilarity <= 0 || ix.ClusterSimilarity > 1 {
		errs.add([]string{"index", "cluster_similarity"}, "index.cluster_similarity must be in (0,1]")
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
