package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
)

// DefaultStaleAfter is the default of Options.StaleAfter: a feed whose
// newest item is older than a month is worth a look (think tanks that
// publish monthly are expected to show it).
const DefaultStaleAfter = 30 * 24 * time.Hour

// maxDetectBytes bounds the text DetectLanguage reads per feed.
const maxDetectBytes = 64 << 10

// Options configures Run.
type Options struct {
	Fetcher *fetcher.Fetcher
	// Classifier, if set, gives each feed's share of relevant items, as
	// the collector would classify them.
	Classifier *classify.Classifier
	StaleAfter time.Duration    // 0: DefaultStaleAfter
	Now        func() time.Time // nil: time.Now
	// Progress, if set, gets a line per feed as each finishes.
	Progress io.Writer
}

// Result is what one fetch of one feed showed.
type Result struct {
	ID   string
	URL  string
	Lang string // declared in the feeds file
	// Status is the HTTP status, 0 when none came (a network error).
	Status int
	Items  int
	// Newest is the date of the newest item, zero when no item is dated.
	Newest time.Time
	// Age is how old Newest was when the probe read it.
	Age time.Duration
	// Detected is DetectLanguage of the items' titles and summaries.
	Detected string
	// FeedLanguage is what the feed itself declares (<language>).
	FeedLanguage string
	// Relevant is how many items the classifier calls relevant.
	Relevant int
	// Reason is fetcher.Reason of a failed fetch.
	Reason string
	// FinalURL is where the feed answered from after redirects, when that
	// differs from URL.
	FinalURL string
	Elapsed  time.Duration
	// Problems are the findings for the operator, failures first.
	Problems []string
	// Failed: no 2xx or 304 answer, not a feed, or no items.
	Failed bool
}

// Run fetches every feed once, concurrently within the fetcher's limits,
// and returns a Result per feed in the order given.
func Run(ctx context.Context, feeds []feedlist.Feed, o Options) []Result {
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	out := make([]Result, len(feeds))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, f := range feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = probeOne(ctx, f, o)
			if o.Progress != nil {
				mu.Lock()
				done++
				fmt.Fprintf(o.Progress, "probe: [%d/%d] %s: %s\n", done, len(feeds), f.ID, out[i].summary())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// summary is a Result in a few words, for progress lines.
func (r Result) summary() string {
	switch {
	case r.Failed && len(r.Problems) > 0:
		return "FAILED: " + r.Problems[0]
	case r.Failed:
		return "FAILED"
	}
	if r.Items == 1 {
		return fmt.Sprintf("%d, 1 item", r.Status)
	}
	return fmt.Sprintf("%d, %d items", r.Status, r.Items)
}

func probeOne(ctx context.Context, f feedlist.Feed, o Options) Result {
	r := Result{ID: f.ID, URL: f.URL, Lang: f.Lang}
	start := time.Now()
	res, err := o.Fetcher.FetchRequest(ctx, fetcher.Request{URL: f.URL, Header: f.Headers})
	r.Elapsed = time.Since(start)
	if err != nil {
		r.Failed = true
		r.Reason = fetcher.Reason(err)
		var he *fetcher.HTTPError
		var be *fetcher.BodyError
		switch {
		case errors.As(err, &he):
			r.Status = he.StatusCode
		case errors.As(err, &be):
			r.Status = be.StatusCode
		}
		r.Problems = append(r.Problems, failure(err, f))
		return r
	}
	r.Status = res.StatusCode
	r.FeedLanguage = res.FeedLanguage
	if res.FinalURL != "" && res.FinalURL != f.URL {
		r.FinalURL = res.FinalURL
	}
	if res.NotModified {
		// Asked without validators, a 304 is odd but not a failure.
		r.Problems = append(r.Problems, "HTTP 304 to a request without validators: items not read")
		return r
	}
	r.Items = len(res.Items)
	if r.Items == 0 {
		r.Failed = true
		r.Problems = append(r.Problems, "no items")
	}
	now := o.Now()
	var text strings.Builder
	dated := 0
	for _, it := range res.Items {
		if !it.Published.IsZero() {
			dated++
			if it.Published.After(r.Newest) {
				r.Newest = it.Published
			}
		}
		if o.Classifier != nil && o.Classifier.Classify(it.Title, it.Summary).Relevant {
			r.Relevant++
		}
		if text.Len() < maxDetectBytes {
			text.WriteString(it.Title)
			text.WriteString("\n")
			text.WriteString(it.Summary)
			text.WriteString("\n")
		}
	}
	r.Detected = DetectLanguage(text.String())
	if !r.Newest.IsZero() {
		r.Age = now.Sub(r.Newest)
	}
	switch {
	case r.Items > 0 && dated == 0:
		r.Problems = append(r.Problems, "items carry no dates")
	case r.Age > o.StaleAfter:
		r.Problems = append(r.Problems, fmt.Sprintf("newest item %s old", ageWords(r.Age)))
	case r.Age < -24*time.Hour:
		r.Problems = append(r.Problems, fmt.Sprintf("newest item dated %s ahead (a wrong time zone or clock?)", ageWords(-r.Age)))
	}
	switch {
	case LangMismatch(f.Lang, r.Detected):
		r.Problems = append(r.Problems, fmt.Sprintf("declared %s, items look %s", f.Lang, r.Detected))
	case f.Lang == "" && r.Detected != "":
		r.Problems = append(r.Problems, fmt.Sprintf("no lang declared; items look %s", r.Detected))
	}
	if r.FinalURL != "" {
		r.Problems = append(r.Problems, "redirected to "+r.FinalURL+"; consider updating the url")
	}
	return r
}

// failure explains a failed fetch to the operator, with what to do next.
func failure(err error, f feedlist.Feed) string {
	var he *fetcher.HTTPError
	if errors.As(err, &he) {
		code := he.StatusCode
		status := fmt.Sprintf("HTTP %d", code)
		switch {
		case code == http.StatusForbidden && he.Challenge:
			return status + ": a bot challenge (Cloudflare) that no header passes; see \"Sites without feeds\""
		case code == http.StatusForbidden && f.Headers.Get("User-Agent") != "":
			return status + ": refused even with the feed's own User-Agent; the block is by network or fingerprint"
		case code == http.StatusForbidden:
			return status + ": the site blocks scripts; set headers (a User-Agent) for this feed"
		case code == http.StatusUnauthorized:
			return status + ": the feed wants credentials"
		case code == http.StatusNotFound || code == http.StatusGone:
			return status + ": no feed at this address (moved or gone)"
		case code == http.StatusTooManyRequests && he.RetryAfter > 0:
			return fmt.Sprintf("%s: rate limited; retry after %s", status, he.RetryAfter)
		case code == http.StatusTooManyRequests:
			return status + ": rate limited"
		case code >= 500:
			return fmt.Sprintf("%s: the server failed (%s); try again later", status, http.StatusText(code))
		}
		return fmt.Sprintf("%s %s", status, http.StatusText(code))
	}
	msg := strings.TrimPrefix(err.Error(), "fetcher: ")
	if rest, ok := strings.CutPrefix(msg, "GET "); ok {
		// The row names the feed: drop the URL the error repeats.
		if _, after, found := strings.Cut(rest, ": "); found {
			msg = after
		}
	}
	switch fetcher.Reason(err) {
	case "not_a_feed":
		return strings.Replace(msg, "not a parseable feed", "not a feed", 1)
	case "private_address":
		return msg + " (the feeds file must say allow_private_addresses: true)"
	case "timeout":
		return "timed out (--fetch.timeout): " + msg
	}
	return msg
}

// FormatAge writes a duration as an age a person reads at a glance: 35m,
// 5h, 92d; a negative one (a date ahead) with a minus sign.
func FormatAge(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + FormatAge(-d)
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// ageWords writes an age of a day or more in words: "92 days", "30 hours".
func ageWords(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

// Failed returns the ids of the failed feeds.
func Failed(results []Result) []string {
	var ids []string
	for _, r := range results {
		if r.Failed {
			ids = append(ids, r.ID)
		}
	}
	return ids
}
