package fetcher

import (
	"os"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds the feed normaliser (encoding detection, gofeed, plain-text
// conversion, clipping) arbitrary documents and content types: it must
// return items of valid, clipped UTF-8 text or an error, and never panic.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"rss2.xml", "atom.xml", "gb2312-declared.xml", "latin1-undeclared.xml", "invalid-utf8.xml", "utf16-bom.xml", "truncated.xml"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add(b, "application/xml; charset=utf-8")
	}
	f.Add([]byte("<rss><channel><item><title>&lt;script&gt;x</title></item></channel></rss>"), "text/xml; charset=iso-8859-1")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		feed, err := Parse(body, contentType)
		if err != nil {
			return
		}
		for _, it := range normalise(feed) {
			for _, s := range []string{it.Title, it.Summary} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 out: %q", s)
				}
			}
			if len(it.Title) > MaxTitleBytes || len(it.Summary) > MaxSummaryBytes {
				t.Fatalf("not clipped: %d/%d bytes", len(it.Title), len(it.Summary))
			}
		}
	})
}
