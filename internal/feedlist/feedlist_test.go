package feedlist

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValid(t *testing.T) {
	l, err := Load("testdata/valid.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !l.AllowPrivateAddresses || len(l.Feeds) != 2 {
		t.Fatalf("got %+v", l)
	}
	d, k := l.Feeds[0], l.Feeds[1]
	if d.Interval != 10*time.Minute || d.Credibility != 0.6 {
		t.Errorf("defaults not applied: %+v", d)
	}
	if k.Interval != time.Hour || k.Credibility != 0.9 || k.Kind != "think_tank" || k.Line != 7 {
		t.Errorf("explicit values lost: %+v", k)
	}
}

func TestInvalid(t *testing.T) {
	for file, want := range map[string][]string{
		"invalid-unknown-key.yml": {`testdata/invalid-unknown-key.yml:3: feeds[1]: unknown field "urll"`},
		"invalid-credibility.yml": {`testdata/invalid-credibility.yml:7: feed "b": credibility 1.5 out of [0,1]`},
		"invalid-many.yml": {
			`testdata/invalid-many.yml:3: feeds[1]: "10x" is not a duration`,
		},
		"invalid-top-key.yml": {`testdata/invalid-top-key.yml:1: unknown field "allow_private" (want allow_private_addresses, defaults, feeds)`},
	} {
		_, err := Load(filepath.Join("testdata", file))
		if err == nil {
			t.Errorf("%s: loaded without error", file)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error\n%v\nlacks %q", file, err, w)
			}
		}
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	y := "feeds:\n  - {id: a, url: \"https://x/rss\", source: S, kind: news}\n  - {id: a, url: \"ftp://x/rss\", source: S, kind: blog, interval: 10ms}\n"
	_, err := Parse([]byte(y), "f.yml")
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{
		`f.yml:3: feed "a": duplicate id (first defined on line 2)`,
		`f.yml:3: feed "a": url "ftp://x/rss" is not an absolute http(s) URL`,
		`f.yml:3: feed "a": kind "blog" is not news, think_tank or government`,
		`f.yml:3: feed "a": interval 10ms is shorter than 1s`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error\n%v\nlacks %q", err, w)
		}
	}
}

func TestDeployFeedsFileIsValid(t *testing.T) {
	b, err := os.ReadFile("../../deploy/feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := Parse(b, "deploy/feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if l.AllowPrivateAddresses || len(l.Feeds) < 10 {
		t.Errorf("the default feed list must poll public feeds only, and enough of them: %d feeds", len(l.Feeds))
	}
}

func TestShardsAreStableAndComplete(t *testing.T) {
	var l List
	for i := range 200 {
		l.Feeds = append(l.Feeds, Feed{ID: fmt.Sprintf("feed-%d", i)})
	}
	owner := map[string]int{}
	for i := range 3 {
		for _, f := range l.Shard(i, 3) {
			if _, dup := owner[f.ID]; dup {
				t.Fatalf("%s in two shards", f.ID)
			}
			owner[f.ID] = i
		}
	}
	if len(owner) != 200 {
		t.Fatalf("%d of 200 feeds in a shard", len(owner))
	}
	// Removing half the feeds moves none of the others.
	var edited List
	for _, f := range l.Feeds[:100] {
		edited.Feeds = append(edited.Feeds, f)
	}
	for i := range 3 {
		for _, f := range edited.Shard(i, 3) {
			if owner[f.ID] != i {
				t.Fatalf("%s moved from shard %d to %d", f.ID, owner[f.ID], i)
			}
		}
	}
	for _, bad := range []string{"0/3", "4/3", "x", "1/0"} {
		if _, _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	if i, n, err := ParseShard("2/3"); i != 1 || n != 3 || err != nil {
		t.Errorf("ParseShard(2/3) = %d, %d, %v", i, n, err)
	}
}

// TestErrorsNameNoGoTypes: every decoding error speaks of the file's
// fields and values, never of Go types.
func TestErrorsNameNoGoTypes(t *testing.T) {
	const feed = "  - {id: a, url: \"https://x/\", source: S, kind: news}\n"
	for _, tc := range []struct{ doc, want string }{
		{"allow_private_addresses: maybe\nfeeds:\n" + feed, `f.yml:1: "maybe" is not true or false`},
		{"feeds: {}\n", "f.yml:1: a mapping is not a list of feeds"},
		{"feeds: 3\n", `f.yml:1: "3" is not a list of feeds`},
		{"defaults: {interval: 5m, credibility: high}\nfeeds:\n" + feed, `f.yml:1: "high" is not a number`},
		{"defaults: {foo: 1}\nfeeds:\n" + feed, `f.yml:1: unknown field "foo" in defaults (want interval, credibility)`},
		{"defaults: []\nfeeds:\n" + feed, "f.yml:1: a list is not a mapping with interval and credibility"},
		{"feeds:\n  - {id: a, url: \"https://x/\", source: S, kind: news, credibility: high}\n", `f.yml:2: feeds[0]: "high" is not a number`},
		{"feeds:\n  - {id: [a], url: \"https://x/\", source: S, kind: news}\n", "f.yml:2: feeds[0]: a list is not a string"},
		{"feeds:\n  - {id: a, url: \"https://x/\", source: S, kind: news, interval: [1]}\n", "f.yml:2: feeds[0]: an interval must be a duration"},
		{"- a\n- b\n", "f.yml:1: a list is not a mapping with allow_private_addresses, defaults and feeds"},
		{"", "f.yml: the file is empty"},
	} {
		_, err := Parse([]byte(tc.doc), "f.yml")
		if err == nil {
			t.Errorf("%q: no error", tc.doc)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %q lacks %q", tc.doc, err, tc.want)
		}
		for _, goName := range []string{"float64", "yaml.Node", "feedlist.", "[]", "!!"} {
			if strings.Contains(err.Error(), goName) {
				t.Errorf("%q: error %q names a Go type (%s)", tc.doc, err, goName)
			}
		}
	}
}

// TestPrivateAddressWarnings: feeds on loopback, private and link-local IP
// literals and on localhost are reported unless the file allows them;
// other host names are not looked up.
func TestPrivateAddressWarnings(t *testing.T) {
	doc := `feeds:
  - {id: public, url: "https://203.0.113.9/rss", source: S, kind: news}
  - {id: loop, url: "http://127.0.0.1:8080/rss", source: S, kind: news}
  - {id: lan, url: "http://192.168.1.20/rss", source: S, kind: news}
  - {id: v6, url: "http://[::1]/rss", source: S, kind: news}
  - {id: linklocal, url: "http://169.254.169.254/latest", source: S, kind: news}
  - {id: local, url: "http://localhost:9000/rss", source: S, kind: news}
  - {id: named, url: "https://news.example.invalid/rss", source: S, kind: news}
`
	l, err := Parse([]byte(doc), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(l.PrivateAddressWarnings("f.yml"), "\n")
	for _, want := range []string{
		`f.yml:3: feed "loop": 127.0.0.1 is a loopback address`,
		`f.yml:4: feed "lan": 192.168.1.20 is a private address`,
		`f.yml:5: feed "v6": ::1 is a loopback address`,
		`f.yml:6: feed "linklocal": 169.254.169.254 is a link-local address`,
		`f.yml:7: feed "local": localhost is a loopback address`,
		"allow_private_addresses: true",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	if n := len(l.PrivateAddressWarnings("f.yml")); n != 5 {
		t.Errorf("%d warnings, want 5 (not the public IP, not the name):\n%s", n, got)
	}
	l.AllowPrivateAddresses = true
	if w := l.PrivateAddressWarnings("f.yml"); len(w) != 0 {
		t.Errorf("warnings although the file allows private addresses: %v", w)
	}
}
