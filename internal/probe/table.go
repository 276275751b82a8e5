package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes results as aligned text, one row per feed: FEED, LANG
// (declared), STATUS, ITEMS, NEWEST (age), DETECTED, RELEVANT (share of
// items), PROBLEMS; "-" where there is nothing to show. A last line counts
// the feeds that failed.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tLANG\tSTATUS\tITEMS\tNEWEST\tDETECTED\tRELEVANT\tPROBLEMS")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, dash(r.Lang), status(r), items(r), newest(r), dash(r.Detected), relevant(r), problems(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	failed := Failed(results)
	noun := "feeds"
	if len(results) == 1 {
		noun = "feed"
	}
	_, err := fmt.Fprintf(w, "%d %s: %d OK, %d failed%s\n", len(results), noun, len(results)-len(failed), len(failed), list(failed))
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func status(r Result) string {
	if r.Status == 0 {
		return "-"
	}
	return strconv.Itoa(r.Status)
}

func items(r Result) string {
	if r.Status/100 != 2 {
		return "-"
	}
	return strconv.Itoa(r.Items)
}

func newest(r Result) string {
	if r.Newest.IsZero() {
		return "-"
	}
	return FormatAge(r.Age)
}

func relevant(r Result) string {
	if r.Items == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", (100*r.Relevant+r.Items/2)/r.Items)
}

func problems(r Result) string {
	if len(r.Problems) == 0 {
		return "-"
	}
	return strings.Join(r.Problems, "; ")
}

func list(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ": " + strings.Join(ids, ", ")
}

// jsonResult is a Result on the wire of --format json.
type jsonResult struct {
	ID               string   `json:"id"`
	URL              string   `json:"url"`
	Lang             string   `json:"lang,omitempty"`
	Status           int      `json:"status"`
	Items            int      `json:"items"`
	Newest           string   `json:"newest,omitempty"`
	NewestAgeSeconds *int64   `json:"newest_age_seconds,omitempty"`
	Detected         string   `json:"detected,omitempty"`
	FeedLanguage     string   `json:"feed_language,omitempty"`
	Relevant         int      `json:"relevant"`
	RelevantShare    *float64 `json:"relevant_share,omitempty"`
	FinalURL         string   `json:"final_url,omitempty"`
	Reason           string   `json:"reason,omitempty"`
	ElapsedMS        int64    `json:"elapsed_ms"`
	Problems         []string `json:"problems"`
	Failed           bool     `json:"failed"`
}

// WriteJSON writes results as one JSON document: {"feeds": [...],
// "failed": [ids]}. Absent values are left out: newest and its age when no
// item is dated, relevant_share when there are no items.
func WriteJSON(w io.Writer, results []Result) error {
	doc := struct {
		Feeds  []jsonResult `json:"feeds"`
		Failed []string     `json:"failed"`
	}{Feeds: []jsonResult{}, Failed: Failed(results)}
	if doc.Failed == nil {
		doc.Failed = []string{}
	}
	for _, r := range results {
		j := jsonResult{
			ID: r.ID, URL: r.URL, Lang: r.Lang, Status: r.Status, Items: r.Items, Detected: r.Detected,
			FeedLanguage: r.FeedLanguage, Relevant: r.Relevant, FinalURL: r.FinalURL, Reason: r.Reason,
			ElapsedMS: r.Elapsed.Milliseconds(), Problems: r.Problems, Failed: r.Failed,
		}
		if j.Problems == nil {
			j.Problems = []string{}
		}
		if !r.Newest.IsZero() {
			j.Newest = r.Newest.UTC().Format(time.RFC3339)
			age := int64(r.Age / time.Second)
			j.NewestAgeSeconds = &age
		}
		if r.Items > 0 {
			share := float64(r.Relevant) / float64(r.Items)
			j.RelevantShare = &share
		}
		doc.Feeds = append(doc.Feeds, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
