// Package feedlist reads the collector's feeds file: which feeds to poll, how
// often, and how far to trust each. Decoding is strict; every error names the
// file and the line.
package feedlist

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// List is a decoded feeds file.
type List struct {
	// AllowPrivateAddresses lets feeds on loopback, private and link-local
	// addresses be fetched (tests, local mirrors). Off by default.
	AllowPrivateAddresses bool
	Feeds                 []Feed
}

// Feed is one feed to poll.
type Feed struct {
	ID          string
	URL         string
	Source      string // the outlet's name
	Kind        string // news, think_tank or government
	Credibility float64
	Interval    time.Duration
	Line        int // where the feed is defined in its file
}

// Default values for fields a feed (and the defaults block) leaves out.
const (
	DefaultInterval    = 15 * time.Minute
	DefaultCredibility = 0.7
	MinInterval        = time.Second
)

type fileDoc struct {
	AllowPrivateAddresses bool        `yaml:"allow_private_addresses"`
	Defaults              defaults    `yaml:"defaults"`
	Feeds                 []yaml.Node `yaml:"feeds"`
}

type defaults struct {
	Interval    *duration `yaml:"interval"`
	Credibility *float64  `yaml:"credibility"`
}

type feedDoc struct {
	ID          string    `yaml:"id"`
	URL         string    `yaml:"url"`
	Source      string    `yaml:"source"`
	Kind        string    `yaml:"kind"`
	Credibility *float64  `yaml:"credibility"`
	Interval    *duration `yaml:"interval"`
}

type duration struct{ time.Duration }

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 90s, 15m or 1h", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Load reads and validates a feeds file.
func Load(path string) (*List, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("feedlist: %w", err)
	}
	return Parse(b, path)
}

// Parse decodes and validates a feeds file's content; name is used in errors.
func Parse(b []byte, name string) (*List, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var doc fileDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, trimYAMLErr(err))
	}
	interval, cred := DefaultInterval, DefaultCredibility
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...)))
	}
	if d := doc.Defaults.Interval; d != nil {
		interval = d.Duration
	}
	if c := doc.Defaults.Credibility; c != nil {
		cred = *c
	}
	if len(doc.Feeds) == 0 {
		errs = append(errs, fmt.Errorf("%s: no feeds", name))
	}
	l := &List{AllowPrivateAddresses: doc.AllowPrivateAddresses}
	ids := map[string]int{}
	for i := range doc.Feeds {
		n := &doc.Feeds[i]
		var fd feedDoc
		if err := decodeStrict(n, &fd); err != nil {
			msg := trimYAMLErr(err)
			line := n.Line
			if m := lineRE.FindStringSubmatch(msg); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = msg[len(m[0]):]
			}
			fail(line, "feeds[%d]: %s", i, msg)
			continue
		}
		f := Feed{ID: fd.ID, URL: fd.URL, Source: fd.Source, Kind: fd.Kind, Credibility: cred, Interval: interval, Line: n.Line}
		if fd.Credibility != nil {
			f.Credibility = *fd.Credibility
		}
		if fd.Interval != nil {
			f.Interval = fd.Interval.Duration
		}
		at := func(key string) int { return lineOf(n, key) }
		label := fmt.Sprintf("feed %q", f.ID)
		switch {
		case f.ID == "":
			fail(n.Line, "feeds[%d]: id is required", i)
			label = fmt.Sprintf("feeds[%d]", i)
		case !idRE.MatchString(f.ID):
			fail(at("id"), "%s: id must match [a-z0-9][a-z0-9_-]*", label)
		case ids[f.ID] != 0:
			fail(at("id"), "%s: duplicate id (first defined on line %d)", label, ids[f.ID])
		default:
			ids[f.ID] = n.Line
		}
		if u, err := url.Parse(f.URL); f.URL == "" {
			fail(n.Line, "%s: url is required", label)
		} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail(at("url"), "%s: url %q is not an absolute http(s) URL", label, f.URL)
		}
		if f.Source == "" {
			fail(n.Line, "%s: source is required", label)
		}
		switch f.Kind {
		case "news", "think_tank", "government":
		case "":
			fail(n.Line, "%s: kind is required (news, think_tank or government)", label)
		default:
			fail(at("kind"), "%s: kind %q is not news, think_tank or government", label, f.Kind)
		}
		if f.Credibility < 0 || f.Credibility > 1 {
			fail(at("credibility"), "%s: credibility %v out of [0,1]", label, f.Credibility)
		}
		if f.Interval < MinInterval {
			fail(at("interval"), "%s: interval %s is shorter than %s", label, f.Interval, MinInterval)
		}
		l.Feeds = append(l.Feeds, f)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return l, nil
}

var feedKeys = map[string]bool{"id": true, "url": true, "source": true, "kind": true, "credibility": true, "interval": true}

// decodeStrict decodes one feed mapping, rejecting keys it does not know;
// errors carry the file's line numbers.
// Shard returns the feeds of shard i of n (0 <= i < n). A feed's shard is a
// hash of its id, so adding or removing other feeds never moves it: every
// feed is polled by exactly one of n collectors, whatever the list holds.
func (l *List) Shard(i, n int) []Feed {
	if n <= 1 {
		return l.Feeds
	}
	var out []Feed
	for _, f := range l.Feeds {
		h := fnv.New32a()
		h.Write([]byte(f.ID))
		if int(h.Sum32()%uint32(n)) == i {
			out = append(out, f)
		}
	}
	return out
}

// ParseShard reads "i/n" (1 <= i <= n, as operators count) into a 0-based
// shard index and a count. "auto/n" takes i from the number that ends the
// host name, plus one (a StatefulSet's pod "collector-2" is shard 3/n).
func ParseShard(s string) (i, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	if rest, ok := strings.CutPrefix(s, "auto/"); ok {
		host, _ := os.Hostname()
		dash := strings.LastIndexByte(host, '-')
		ord, err := strconv.Atoi(host[dash+1:])
		if dash < 0 || err != nil {
			return 0, 0, fmt.Errorf("--feeds.shard %q: host name %q does not end in -<number>", s, host)
		}
		s = fmt.Sprintf("%d/%s", ord+1, rest)
	}
	if _, err := fmt.Sscanf(s, "%d/%d", &i, &n); err != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--feeds.shard %q: want i/n with 1 <= i <= n, e.g. 2/3", s)
	}
	return i - 1, n, nil
}

func decodeStrict(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a feed must be a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !feedKeys[k.Value] {
			return fmt.Errorf("line %d: unknown field %q (want id, url, source, kind, credibility, interval)", k.Line, k.Value)
		}
	}
	return n.Decode(v)
}

// lineOf returns the line of a mapping key's value, or the mapping's line.
func lineOf(n *yaml.Node, key string) int {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1].Line
			}
		}
	}
	return n.Line
}

var yamlPrefix = regexp.MustCompile(`^yaml: (unmarshal errors:\n\s*)?`)

func trimYAMLErr(err error) string { return yamlPrefix.ReplaceAllString(err.Error(), "") }

var lineRE = regexp.MustCompile(`^line (\d+): `)
