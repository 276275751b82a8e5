package app

import (
	"flag"
	"fmt"
	"os"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// TaxonomyConfig holds --taxonomy.file.
type TaxonomyConfig struct{ File string }

// RegisterFlags registers --taxonomy.file.
func (c *TaxonomyConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.File, "taxonomy.file", "", "taxonomy and rules file (YAML); empty uses the one built in (pkg/events/taxonomy.yaml)")
}

// Load returns the taxonomy and its compiled classifier.
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
	clf, err := classify.NewClassifier(tx)
	if err != nil {
		return nil, nil, err
	}
	return tx, clf, nil
}
