package classify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// LabelledSet names one labelled set: items and their labels, two JSON-lines
// files joined by url (the format of ../shared/data and of the taxonomy's
// §4). Paths are relative to the data directory, or to the repository when
// they start with "./".
type LabelledSet struct {
	Name   string `yaml:"name"`
	Items  string `yaml:"items"`
	Labels string `yaml:"labels"`
	// Lang is the items' language when they do not give one.
	Lang string `yaml:"lang"`
}

// ReadSets reads a list of labelled sets (testdata/classifier-sets.yaml).
func ReadSets(path string) ([]LabelledSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var sets []LabelledSet
	if err := dec.Decode(&sets); err != nil {
		return nil, fmt.Errorf("classify: %s: %w", path, err)
	}
	for _, s := range sets {
		if s.Name == "" || s.Items == "" || s.Labels == "" {
			return nil, fmt.Errorf("classify: %s: set %q needs name, items and labels", path, s.Name)
		}
	}
	return sets, nil
}

// LoadExamples reads every set, joining items and labels by url. An item
// whose url an earlier set already gave is skipped (the first set wins),
// and so is an item without a label; a label without its item is an error.
func LoadExamples(sets []LabelledSet, dataDir, repoDir string) ([]Example, error) {
	resolve := func(p string) string {
		if rest, ok := strings.CutPrefix(p, "./"); ok {
			return filepath.Join(repoDir, rest)
		}
		return filepath.Join(dataDir, p)
	}
	seen := map[string]bool{}
	var out []Example
	for _, s := range sets {
		labels := map[string]rawLabel{}
		if err := readLines(resolve(s.Labels), func(n int, b []byte) error {
			var l rawLabel
			if err := json.Unmarshal(b, &l); err != nil {
				return err
			}
			if l.Relevant && (l.Type == nil || l.Region == nil) {
				return fmt.Errorf("relevant without a type and a region")
			}
			labels[l.URL] = l
			return nil
		}); err != nil {
			return nil, err
		}
		found := 0
		if err := readLines(resolve(s.Items), func(n int, b []byte) error {
			var it struct{ URL, Title, Summary, Lang string }
			if err := json.Unmarshal(b, &it); err != nil {
				return err
			}
			l, ok := labels[it.URL]
			if !ok {
				return nil
			}
			found++
			if seen[it.URL] {
				return nil
			}
			seen[it.URL] = true
			e := Example{Title: it.Title, Summary: it.Summary, Lang: it.Lang, URL: it.URL, Set: s.Name, Relevant: l.Relevant}
			if e.Lang == "" {
				e.Lang = s.Lang
			}
			if l.Relevant {
				e.Type, e.Region = *l.Type, *l.Region
			}
			out = append(out, e)
			return nil
		}); err != nil {
			return nil, err
		}
		if found != len(labels) {
			return nil, fmt.Errorf("classify: set %s: %d labels, but %d of their items in %s", s.Name, len(labels), found, s.Items)
		}
	}
	return out, nil
}

type rawLabel struct {
	URL      string  `json:"url"`
	Relevant bool    `json:"relevant"`
	Type     *string `json:"type"`
	Region   *string `json:"region"`
}

func readLines(path string, fn func(n int, b []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	defer f.Close()
	return scanLines(f, path, fn)
}

func scanLines(r io.Reader, name string, fn func(n int, b []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(n, sc.Bytes()); err != nil {
			return fmt.Errorf("classify: %s:%d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("classify: %s: %w", name, err)
	}
	return nil
}

// Groups assigns each example a group: examples whose titles are near
// duplicates (the same story from two feeds, or one outlet's re-post) share
// one, so that cross-validation never trains on one and tests on the other.
// Two titles of one language are near duplicates when the Jaccard
// similarity of their character-trigram sets is at least 0.5.
func Groups(examples []Example) []int {
	parent := make([]int, len(examples))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	shingles := make([]map[string]bool, len(examples))
	index := map[string][]int{} // a rare shingle → examples, to find candidates
	for i, e := range examples {
		shingles[i] = trigrams(e.Title)
		for s := range shingles[i] {
			index[e.Lang+"\x00"+s] = append(index[e.Lang+"\x00"+s], i)
		}
	}
	for i, e := range examples {
		cands := map[int]bool{}
		for s := range shingles[i] {
			if l := index[e.Lang+"\x00"+s]; len(l) <= 60 {
				for _, j := range l {
					if j > i {
						cands[j] = true
					}
				}
			}
		}
		for j := range cands {
			if jaccard(shingles[i], shingles[j]) >= 0.5 {
				parent[find(j)] = find(i)
			}
		}
	}
	out := make([]int, len(examples))
	for i := range out {
		out[i] = find(i)
	}
	return out
}

func trigrams(title string) map[string]bool {
	var rs []rune
	for _, r := range strings.ToLower(title) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			rs = append(rs, r)
		}
	}
	out := map[string]bool{}
	for i := 0; i+3 <= len(rs); i++ {
		out[string(rs[i:i+3])] = true
	}
	if len(rs) < 3 && len(rs) > 0 {
		out[string(rs)] = true
	}
	return out
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := 0
	for s := range a {
		if b[s] {
			n++
		}
	}
	return float64(n) / float64(len(a)+len(b)-n)
}

// Folds assigns each group to one of k folds by a hash of its first
// example's URL: the same data always gives the same folds.
func Folds(examples []Example, groups []int, k int) []int {
	out := make([]int, len(examples))
	for i := range examples {
		h := fnv.New32a()
		h.Write([]byte(examples[groups[i]].URL))
		out[i] = int(h.Sum32() % uint32(k))
	}
	return out
}

// Languages returns the languages of the examples, sorted.
func Languages(examples []Example) []string {
	var out []string
	for _, e := range examples {
		if !slices.Contains(out, e.Lang) {
			out = append(out, e.Lang)
		}
	}
	slices.Sort(out)
	return out
}
