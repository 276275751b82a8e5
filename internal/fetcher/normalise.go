package fetcher

import (
	"html"
	"strings"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
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

// PlainText strips markup, unescapes entities and collapses white space.
func PlainText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inTag := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<':
			inTag = true
			b.WriteByte(' ')
		case c == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteByte(c)
		}
	}
	t := html.UnescapeString(b.String())
	return strings.Join(strings.Fields(t), " ")
}

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
