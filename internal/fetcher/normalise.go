package fetcher

import (
	"strings"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Maximum sizes of normalised text, in bytes.
const (
	MaxTitleBytes   = 500
	MaxSummaryBytes = 2000
)

func normalise(feed *gofeed.Feed) []Item {
	items := make([]Item, 0, len(feed.Items))
	for _, it := range feed.Items {
		if it == nil {
			continue
		}
		out := Item{
			GUID:       strings.TrimSpace(it.GUID),
			Link:       strings.TrimSpace(it.Link),
			Title:      clip(PlainText(it.Title), MaxTitleBytes),
			Language:   feed.Language,
			Categories: it.Categories,
		}
		sum := it.Description
		if strings.TrimSpace(sum) == "" {
			sum = it.Content
		}
		out.Summary = clip(PlainText(sum), MaxSummaryBytes)
		switch {
		case it.PublishedParsed != nil:
			out.Published = it.PublishedParsed.UTC()
		case it.UpdatedParsed != nil:
			out.Published = it.UpdatedParsed.UTC()
		}
		if out.GUID == "" && out.Link == "" && out.Title == "" {
			continue // nothing to identify or show
		}
		items = append(items, out)
	}
	return items
}

// PlainText turns a feed's title or summary, which may be HTML, into plain
// text with golang.org/x/net/html's tokenizer: entities are decoded, tags and
// comments dropped, the content of script, style and other non-text elements
// dropped, block-level tags and <br> separate words, and white space
// (non-breaking space included) is collapsed to single spaces.
func PlainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s))
	skip := 0 // depth inside elements whose content is not text
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken: // io.EOF: the input is a string, nothing else can fail
			return collapse(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case notText[a] && tt == html.StartTagToken:
				skip++
			case notText[a] && tt == html.EndTagToken:
				skip = max(0, skip-1)
			}
			if !inline[a] {
				b.WriteByte(' ')
			}
		}
	}
}

// notText are the elements whose content is never shown as text.
var notText = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Noembed: true, atom.Noframes: true,
	atom.Template: true, atom.Iframe: true, atom.Object: true, atom.Svg: true, atom.Math: true, atom.Head: true,
	atom.Rt: true, atom.Rp: true, // ruby annotations: the base text is the text
}

// inline are the elements that do not separate words ("Wor<b>ld</b>" is
// "World"); every other tag does.
var inline = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Bdi: true, atom.Bdo: true, atom.Cite: true, atom.Code: true,
	atom.Data: true, atom.Del: true, atom.Dfn: true, atom.Em: true, atom.Font: true, atom.I: true, atom.Ins: true,
	atom.Kbd: true, atom.Mark: true, atom.Q: true, atom.Ruby: true, atom.Rt: true, atom.Rp: true, atom.S: true,
	atom.Samp: true, atom.Small: true, atom.Span: true, atom.Strike: true, atom.Strong: true, atom.Sub: true,
	atom.Sup: true, atom.Time: true, atom.Tt: true, atom.U: true, atom.Var: true, atom.Wbr: true,
}

// collapse trims s and turns every run of white space into one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// clip cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n]) + "…"
}
