package events

// Classifier classifies items against a taxonomy's rules.
// PLACEHOLDER: the rule-based implementation replaces this file.
type Classifier struct{ tx *Taxonomy }

// NewClassifier compiles the taxonomy's rules.
func NewClassifier(tx *Taxonomy) (*Classifier, error) { return &Classifier{tx: tx}, nil }

// Taxonomy returns the taxonomy the classifier was built from.
func (c *Classifier) Taxonomy() *Taxonomy { return c.tx }

// Classify classifies one item by its title and summary (plain text).
func (c *Classifier) Classify(title, summary string) Classification {
	return Classification{Also: []string{}, Evidence: []Evidence{}}
}
