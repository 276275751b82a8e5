// Package feedlist reads the collector's feeds file: which feeds to poll, how
// often, and how far to trust each. Decoding is strict; every error names the
// file and the line.
package feedlist

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/net/http/httpguts"

	"github.com/tensionwatch/tensionwatch/internal/fetcher"
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
	// Lang is the language the feed's items are written in, a BCP 47 tag
	// in canonical case (en, ja, ko, zh-TW); "" when the file gives none.
	Lang string
	// Headers are request headers sent with this feed only, overriding
	// the collector's (a User-Agent a site demands); nil when none.
	Headers http.Header
	Line    int // where the feed is defined in its file
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
	Lang        string    `yaml:"lang"`
	Headers     yaml.Node `yaml:"headers"`
}

type duration struct{ time.Duration }

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: an interval must be a duration such as 90s, 15m or 1h", n.Line)
	}
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
		var lines []string
		for _, l := range strings.Split(trimYAMLErr(err), "\n") {
			l = strings.TrimSpace(l)
			if m := lineRE.FindStringSubmatch(l); m != nil {
				lines = append(lines, fmt.Sprintf("%s:%s: %s", name, m[1], l[len(m[0]):]))
			} else if l != "" {
				lines = append(lines, fmt.Sprintf("%s: %s", name, l))
			}
		}
		return nil, errors.New(strings.Join(lines, "\n"))
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
		if fd.Lang != "" {
			if tag, ok := CanonicalLang(fd.Lang); ok {
				f.Lang = tag
			} else {
				fail(at("lang"), "%s: lang %q is not a language tag such as en, ja, ko, zh-TW or zh-Hans", label, fd.Lang)
			}
		}
		if fd.Headers.Kind != 0 {
			f.Headers = headers(&fd.Headers, func(line int, format string, args ...any) {
				fail(line, "%s: %s", label, fmt.Sprintf(format, args...))
			})
		}
		l.Feeds = append(l.Feeds, f)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return l, nil
}

var feedKeys = map[string]bool{"id": true, "url": true, "source": true, "kind": true, "credibility": true, "interval": true, "lang": true, "headers": true}

var langRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// CanonicalLang checks a short BCP 47 language tag (a language of two or
// three letters, then subtags of two to eight letters or digits: en,
// zh-TW, zh-Hant, pt-BR) and returns it in canonical case: the language
// lower case, a four-letter script title case, a two-letter region upper
// case. It does not check the tag against the IANA registry.
func CanonicalLang(tag string) (string, bool) {
	if !langRE.MatchString(tag) {
		return "", false
	}
	parts := strings.Split(tag, "-")
	for i, p := range parts {
		switch {
		case i == 0:
			parts[i] = strings.ToLower(p)
		case len(p) == 4 && isLetters(p):
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		case len(p) == 2 && isLetters(p):
			parts[i] = strings.ToUpper(p)
		default:
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-"), true
}

func isLetters(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// headers decodes a feed's headers mapping (name: value), reporting each
// problem at its line: a name that is not an HTTP token or is reserved to
// the fetcher (fetcher.ReservedHeader: hop-by-hop headers, Host,
// Accept-Encoding, the validators), a name given twice in any case, a value
// that is not a non-empty single-line string.
func headers(n *yaml.Node, fail func(line int, format string, args ...any)) http.Header {
	if n.Kind != yaml.MappingNode {
		fail(n.Line, "headers must be a mapping of header names to values, such as {User-Agent: \"…\"}")
		return nil
	}
	h := http.Header{}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		canon := http.CanonicalHeaderKey(name)
		switch {
		case k.Kind != yaml.ScalarNode || !httpguts.ValidHeaderFieldName(name):
			fail(k.Line, "header name %q is not a valid HTTP header name", name)
			continue
		case first[canon] != 0:
			fail(k.Line, "header %s given twice (first on line %d)", canon, first[canon])
			continue
		}
		first[canon] = k.Line
		if why := fetcher.ReservedHeader(name); why != "" {
			fail(k.Line, "header %s may not be set per feed: %s", canon, why)
			continue
		}
		value := strings.TrimSpace(v.Value)
		switch {
		case v.Kind != yaml.ScalarNode || v.Tag == "!!null":
			fail(v.Line, "header %s: the value must be a string", canon)
		case value == "":
			fail(v.Line, "header %s: the value is empty", canon)
		case !httpguts.ValidHeaderFieldValue(value) || strings.ContainsAny(value, "\r\n"):
			fail(v.Line, "header %s: the value holds a control character or line break", canon)
		default:
			h.Set(canon, value)
		}
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

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

// decodeStrict decodes one feed mapping, rejecting keys it does not know;
// errors carry the file's line numbers.
func decodeStrict(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a feed must be a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !feedKeys[k.Value] {
			return fmt.Errorf("line %d: unknown field %q (want id, url, source, kind, credibility, interval, lang, headers)", k.Line, k.Value)
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

// trimYAMLErr turns a YAML decoding error into a message for the person
// editing the file: without the package's prefix and without Go type
// names ("cannot unmarshal !!str `high` into float64" becomes
// "\"high\" is not a number").
func trimYAMLErr(err error) string {
	msg := yamlPrefix.ReplaceAllString(err.Error(), "")
	if msg == "EOF" {
		return "the file is empty (want a mapping with a feeds list)"
	}
	msg = notFoundRE.ReplaceAllStringFunc(msg, func(m string) string {
		sm := notFoundRE.FindStringSubmatch(m)
		if want, ok := knownFields[sm[2]]; ok {
			return fmt.Sprintf("unknown field %q%s", sm[1], want)
		}
		return fmt.Sprintf("unknown field %q", sm[1])
	})
	return cannotRE.ReplaceAllStringFunc(msg, func(m string) string {
		sm := cannotRE.FindStringSubmatch(m)
		got := fmt.Sprintf("%q", sm[2])
		if sm[2] == "" {
			got = yamlKinds[sm[1]]
			if got == "" {
				got = "a " + sm[1]
			}
		}
		want, ok := goTypes[sm[3]]
		if !ok {
			want = "of the expected kind"
		}
		return got + " is not " + want
	})
}

var (
	notFoundRE  = regexp.MustCompile(`field (\S+) not found in type (\S+)`)
	cannotRE    = regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `([^`]*)`)? into (\\S+)")
	knownFields = map[string]string{
		"feedlist.fileDoc":  " (want allow_private_addresses, defaults, feeds)",
		"feedlist.defaults": " in defaults (want interval, credibility)",
		"feedlist.feedDoc":  " (want id, url, source, kind, credibility, interval, lang, headers)",
	}
	yamlKinds = map[string]string{"map": "a mapping", "seq": "a list", "str": "a string", "int": "a number", "float": "a number", "bool": "a boolean", "null": "an empty value"}
	goTypes   = map[string]string{
		"bool": "true or false", "float64": "a number", "string": "a string", "int": "a whole number",
		"[]yaml.Node":       "a list of feeds",
		"feedlist.fileDoc":  "a mapping with allow_private_addresses, defaults and feeds",
		"feedlist.defaults": "a mapping with interval and credibility",
		"feedlist.feedDoc":  "a mapping with id, url, source, kind, credibility, interval, lang and headers",
	}
)

var lineRE = regexp.MustCompile(`^line (\d+): `)

// PrivateAddressWarnings returns a warning for every feed whose URL names a
// loopback, private, link-local or otherwise non-public address, which the
// collector refuses to fetch unless the file says allow_private_addresses:
// true (and none when it does). Only IP literals and "localhost" are
// checked: other host names are not looked up, so a name that resolves to
// a private address is found at fetch time only. name is the file's name,
// for the messages.
func (l *List) PrivateAddressWarnings(name string) []string {
	if l.AllowPrivateAddresses {
		return nil
	}
	var out []string
	for _, f := range l.Feeds {
		u, err := url.Parse(f.URL)
		if err != nil {
			continue
		}
		host := u.Hostname()
		var ips []net.IP
		if ip := net.ParseIP(host); ip != nil {
			ips = []net.IP{ip}
		} else if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
			ips, _ = net.LookupIP("localhost")
			if len(ips) == 0 {
				ips = []net.IP{net.IPv4(127, 0, 0, 1)}
			}
		}
		for _, ip := range ips {
			if fetcher.IsPrivateIP(ip) {
				out = append(out, fmt.Sprintf("%s:%d: feed %q: %s is %s, which the collector refuses unless the file says allow_private_addresses: true",
					name, f.Line, f.ID, host, describeIP(ip)))
				break
			}
		}
	}
	return out
}

func describeIP(ip net.IP) string {
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "the unspecified address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	return "a shared (CGNAT) address"
}
