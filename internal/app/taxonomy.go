package app

import (
	"flag"
	"fmt"
	"os"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// TaxonomyConfig holds --taxonomy.file and --model.file.
type TaxonomyConfig struct{ File, Model string }

// RegisterFlags registers --taxonomy.file and --model.file.
func (c *TaxonomyConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.File, "taxonomy.file", "", "taxonomy and rules file (YAML); empty uses the one built in (pkg/events/taxonomy.yaml)")
	fs.StringVar(&c.Model, "model.file", "", `classifier model (from "collector train"); empty uses the one built in, "none" classifies by the rules alone`)
}

// Load returns the taxonomy and the classifier: its rules and the model.
func (c TaxonomyConfig) Load() (*events.Taxonomy, *classify.Classifier, error) {
	tx := events.DefaultTaxonomy()
	if c.File != "" {
		b, err := os.ReadFile(c.File)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the taxonomy: %w", err)
		}
		if tx, err = events.ParseTaxonomy(b, c.File); err != nil {
			return nil, nil, err
		}
	}
	rules, err := classify.NewRules(tx)
	if err != nil {
		return nil, nil, err
	}
	var model *classify.Model
	switch c.Model {
	case "none":
	case "":
		if model, err = classify.EmbeddedModel(tx); err != nil {
			return nil, nil, fmt.Errorf("%w; pass --model.file with a model trained for it (collector train), or --model.file none", err)
		}
	default:
		b, err := os.ReadFile(c.Model)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the model: %w", err)
		}
		if model, err = classify.ReadModel(b, tx); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.Model, err)
		}
	}
	return tx, classify.New(rules, model, classify.DefaultCombine), nil
}
