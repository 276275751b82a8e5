package feedlist

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/publicsuffix"
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

// TestDeployFeedsFileIsEvidenced holds the default list to issue 13: no
// address known to be wrong or dead, a language on every feed, at least
// eight feeds in Chinese, Japanese and Korean (two or more of each), a
// comment above every feed citing a dated record from the file's legend,
// a reason beside every header override, honest User-Agent overrides, and
// one source per newsroom (feeds on one registrable domain share it, so
// the index counts them as one outlet).
func TestDeployFeedsFileIsEvidenced(t *testing.T) {
	b, err := os.ReadFile("../../deploy/feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := Parse(b, "deploy/feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	known := []string{
		"nhkworld/en/news/feeds",             // NHK World English has no such feed
		"www.defense.gov/",                   // moved to war.gov
		"Site=1018",                          // no record of an INDOPACOM feed
		"pacom.mil/DesktopModules",           // no pacom.mil RSS variant returns items
		"mofa.go.jp/rss/",                    // whatsnew.xml unrecorded, rss.xml 404/WAF
		"focustaiwan.tw/rss/",                // no health record; CNA's feedburner feed instead
		"xinhuanet.com", "chinadaily.com.cn", // frozen for years
		"kcnawatch.org/feed", // intermittently empty
	}
	lines := strings.Split(string(b), "\n")
	legend := map[string]bool{}
	for _, ln := range lines {
		if m := legendRE.FindStringSubmatch(ln); m != nil {
			legend[m[1]] = true
		}
	}
	if len(legend) < 10 {
		t.Fatalf("the file's evidence legend has %d keys: %v", len(legend), legend)
	}
	byLang := map[string]int{}
	sourceOf := map[string]string{}
	for _, f := range l.Feeds {
		for _, bad := range known {
			if strings.Contains(f.URL, bad) {
				t.Errorf("feed %s: %s is a known-bad address (%s)", f.ID, f.URL, bad)
			}
		}
		if f.Lang == "" {
			t.Errorf("feed %s: no lang", f.ID)
		}
		byLang[strings.SplitN(f.Lang, "-", 2)[0]]++
		var comment []string
		for i := f.Line - 2; i >= 0 && strings.HasPrefix(strings.TrimSpace(lines[i]), "#"); i-- {
			comment = append([]string{lines[i]}, comment...)
		}
		c := strings.Join(comment, "\n")
		cited := false
		for k := range legend {
			cited = cited || strings.Contains(c, k)
		}
		if !cited || !dateRE.MatchString(c) {
			t.Errorf("feed %s (line %d): the comment above it cites no dated record of the legend:\n%s", f.ID, f.Line, c)
		}
		if f.Headers != nil && !strings.Contains(strings.ToLower(c), "override warranted") {
			t.Errorf("feed %s: headers without an \"Override warranted\" reason in its comment", f.ID)
		}
		if ua := f.Headers.Get("User-Agent"); ua != "" && (!strings.Contains(ua, "tensionwatch") || !strings.Contains(ua, "https://github.com/tensionwatch/tensionwatch")) {
			t.Errorf("feed %s: User-Agent override %q does not name the product and its URL", f.ID, ua)
		}
		u, _ := url.Parse(f.URL)
		dom, err := publicsuffix.EffectiveTLDPlusOne(u.Hostname())
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := sourceOf[dom]; ok && s != f.Source {
			t.Errorf("feed %s: source %q, but another feed on %s says %q: one newsroom, one source", f.ID, f.Source, dom, s)
		}
		sourceOf[dom] = f.Source
	}
	cjk := byLang["zh"] + byLang["ja"] + byLang["ko"]
	if cjk < 8 || byLang["zh"] < 2 || byLang["ja"] < 2 || byLang["ko"] < 2 {
		t.Errorf("feeds by language %v: want at least 8 in Chinese, Japanese and Korean, two or more of each", byLang)
	}
	t.Logf("%d feeds: %v", len(l.Feeds), byLang)
}

var (
	legendRE = regexp.MustCompile(`^#\s+([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\s{2,}\S`)
	dateRE   = regexp.MustCompile(`\b20\d\d-[01]\d-[0-3]\d\b`)
)

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

// TestLangAndHeaders: lang is checked and put in canonical case; headers
// become the feed's request headers under their canonical names.
func TestLangAndHeaders(t *testing.T) {
	doc := `feeds:
  - {id: a, url: "https://x/rss", source: S, kind: news, lang: ZH-tw}
  - id: b
    url: "https://x/b"
    source: S
    kind: news
    lang: zh-hant
    headers:
      user-agent: "Mozilla/5.0 (compatible; tensionwatch; +https://github.com/tensionwatch/tensionwatch)"
      Accept-Language: "zh-TW, zh;q=0.8"
      DNT: 1
  - {id: c, url: "https://x/c", source: S, kind: news}
`
	l, err := Parse([]byte(doc), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := l.Feeds[0], l.Feeds[1], l.Feeds[2]
	if a.Lang != "zh-TW" || b.Lang != "zh-Hant" || c.Lang != "" {
		t.Errorf("langs %q %q %q, want zh-TW zh-Hant and none", a.Lang, b.Lang, c.Lang)
	}
	if a.Headers != nil || c.Headers != nil {
		t.Errorf("headers on feeds without any: %v %v", a.Headers, c.Headers)
	}
	if len(b.Headers) != 3 || b.Headers.Get("User-Agent") != "Mozilla/5.0 (compatible; tensionwatch; +https://github.com/tensionwatch/tensionwatch)" ||
		b.Headers.Get("Accept-Language") != "zh-TW, zh;q=0.8" || b.Headers.Get("Dnt") != "1" {
		t.Errorf("headers %v", b.Headers)
	}
	if _, ok := b.Headers["User-Agent"]; !ok {
		t.Errorf("header names not canonical: %v", b.Headers)
	}
	for tag, want := range map[string]string{"en": "en", "JA": "ja", "ko-kr": "ko-KR", "zh-hans-cn": "zh-Hans-CN", "yue": "yue", "es-419": "es-419"} {
		if got, ok := CanonicalLang(tag); !ok || got != want {
			t.Errorf("CanonicalLang(%q) = %q, %v; want %q", tag, got, ok, want)
		}
	}
	for _, bad := range []string{"english", "e", "en_US", "zh-", "-en", "zh-TW-", "ja-toolongsubtag", "日本語", "en US"} {
		if got, ok := CanonicalLang(bad); ok {
			t.Errorf("CanonicalLang(%q) = %q, accepted", bad, got)
		}
	}
}

// TestBadLangAndHeaders: every problem with lang or headers is reported at
// its own line, all at once.
func TestBadLangAndHeaders(t *testing.T) {
	doc := `feeds:
  - {id: a, url: "https://x/rss", source: S, kind: news, lang: english}
  - id: b
    url: "https://x/b"
    source: S
    kind: news
    headers:
      Host: other.example
      Connection: close
      Accept-Encoding: br
      If-None-Match: "x"
      "Bad Name": x
      User-Agent: ""
      user-agent: again
      Referer: [a, b]
      X-Empty:
  - {id: c, url: "https://x/c", source: S, kind: news, headers: [a]}
  - {id: d, url: "https://x/d", source: S, kind: news, lang: [en]}
`
	_, err := Parse([]byte(doc), "f.yml")
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{
		`f.yml:2: feed "a": lang "english" is not a language tag such as en, ja, ko, zh-TW`,
		`f.yml:8: feed "b": header Host may not be set per feed: set by the HTTP client`,
		`f.yml:9: feed "b": header Connection may not be set per feed: a hop-by-hop header`,
		`f.yml:10: feed "b": header Accept-Encoding may not be set per feed: the fetcher asks for gzip itself`,
		`f.yml:11: feed "b": header If-None-Match may not be set per feed: the fetcher sends the conditional-GET validators`,
		`f.yml:12: feed "b": header name "Bad Name" is not a valid HTTP header name`,
		`f.yml:13: feed "b": header User-Agent: the value is empty`,
		`f.yml:14: feed "b": header User-Agent given twice (first on line 13)`,
		`f.yml:15: feed "b": header Referer: the value must be a string`,
		`f.yml:16: feed "b": header X-Empty: the value must be a string`,
		`f.yml:17: feed "c": headers must be a mapping of header names to values`,
		`f.yml:18: feeds[3]: a list is not a string`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error\n%v\nlacks %q", err, w)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 12 {
		t.Errorf("%d problems reported, want 12:\n%v", n, err)
	}
}
