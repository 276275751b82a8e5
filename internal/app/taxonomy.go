package app

import (
	"flag"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// TaxonomyConfig holds --taxonomy.file.
type TaxonomyConfig struct{ File string }

// RegisterFlags registers --taxonomy.file.
func (c *TaxonomyConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.File, "taxonomy.file", "", "taxonomy and rules file (YAML); empty uses the one built in (pkg/events/taxonomy.yaml)")
}

// Load returns the taxonomy and its compiled classifier.
func (c TaxonomyConfig) Load() (*events.Taxonomy, *events.Classifier, error) {
	tx := events.DefaultTaxonomy()
	if c.File != "" {
		var err error
		if tx, err = events.LoadTaxonomy(c.File); err != nil {
			return nil, nil, err
		}
	}
	clf, err := events.NewClassifier(tx)
	if err != nil {
		return nil, nil, err
	}
	return tx, clf, nil
}
