package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/probe/probetest"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// now is the probes' clock in these tests.
var now = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func TestProbe(t *testing.T) {
	srv := probetest.NewServer(t, now)
	l, err := feedlist.Parse([]byte(probetest.FeedsFile(srv.URL)), "feeds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clf, err := classify.NewDefault(events.DefaultTaxonomy())
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	results := Run(context.Background(), l.Feeds, Options{
		Fetcher:    fetcher.New(fetcher.Config{AllowPrivate: l.AllowPrivateAddresses}),
		Classifier: clf,
		Now:        func() time.Time { return now },
		Progress:   &progress,
	})
	by := map[string]Result{}
	for i, r := range results {
		if r.ID != l.Feeds[i].ID {
			t.Fatalf("result %d is %s, want the file's order (%s)", i, r.ID, l.Feeds[i].ID)
		}
		by[r.ID] = r
	}
	type want struct {
		status, items int
		failed        bool
		detected      string
		problem       string // "" for none
	}
	for id, w := range map[string]want{
		"good":        {200, 4, false, "en", ""},
		"korean":      {200, 3, false, "ko", ""},
		"mislabelled": {200, 2, false, "ja", "declared ko, items look ja"},
		"stale":       {200, 1, false, "en", "newest item 92 days old"},
		"empty":       {200, 0, true, "", "no items"},
		"html":        {200, 0, true, "", "not a feed"},
		"blocked":     {403, 0, true, "", "HTTP 403: the site blocks scripts; set headers"},
		"challenged":  {403, 0, true, "", "HTTP 403: a bot challenge (Cloudflare) that no header passes"},
		"gone":        {404, 0, true, "", "HTTP 404: no feed at this address"},
		"picky":       {200, 4, false, "en", ""},
		"moved":       {200, 4, false, "en", "redirected to " + srv.URL + "/good"},
	} {
		r := by[id]
		if r.Status != w.status || r.Items != w.items || r.Failed != w.failed || r.Detected != w.detected {
			t.Errorf("%s: status %d, %d items, failed %v, detected %q; want %d, %d, %v, %q (problems %q)",
				id, r.Status, r.Items, r.Failed, r.Detected, w.status, w.items, w.failed, w.detected, r.Problems)
		}
		switch {
		case w.problem == "" && len(r.Problems) > 0:
			t.Errorf("%s: problems %q, want none", id, r.Problems)
		case w.problem != "" && (len(r.Problems) != 1 || !strings.HasPrefix(r.Problems[0], w.problem)):
			t.Errorf("%s: problems %q, want one starting %q", id, r.Problems, w.problem)
		}
	}
	// The classifier is the collector's: the two security headlines of
	// four are relevant, the market and the ramen are not.
	if g := by["good"]; g.Relevant != 2 {
		t.Errorf("good: %d relevant, want 2", g.Relevant)
	}
	if k := by["korean"]; k.Relevant < 1 || k.Relevant > 2 {
		t.Errorf("korean: %d relevant, want the missile launch and perhaps the drills", k.Relevant)
	}
	if g := by["good"]; g.Age != 2*time.Hour || !g.Newest.Equal(now.Add(-2*time.Hour)) {
		t.Errorf("good: newest %s, age %s; want 2h old", g.Newest, g.Age)
	}
	if got := strings.Join(Failed(results), ","); got != "empty,html,blocked,challenged,gone" {
		t.Errorf("failed: %s", got)
	}
	if n := strings.Count(progress.String(), "\n"); n != len(l.Feeds) || !strings.Contains(progress.String(), "gone: FAILED: HTTP 404") {
		t.Errorf("progress (%d lines):\n%s", n, progress.String())
	}

	// The table: a header, a row per feed in order, a count of failures.
	var table bytes.Buffer
	if err := WriteTable(&table, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(table.String(), "\n"), "\n")
	if len(lines) != len(l.Feeds)+2 {
		t.Fatalf("%d lines:\n%s", len(lines), table.String())
	}
	for _, w := range []string{
		"FEED         LANG  STATUS  ITEMS  NEWEST  DETECTED  RELEVANT  PROBLEMS",
		"good         en    200     4      2h      en        50%       -",
		"mislabelled  ko    200     2      1h      ja        ",
		"blocked      en    403     -      -       -         -         HTTP 403: the site blocks scripts; set headers",
		"gone         en    404     -      -       -         -         HTTP 404",
		"11 feeds: 6 OK, 5 failed: empty, html, blocked, challenged, gone",
	} {
		if !strings.Contains(table.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, table.String())
		}
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, results); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Feeds []struct {
			ID               string   `json:"id"`
			Status           int      `json:"status"`
			Items            int      `json:"items"`
			NewestAgeSeconds *int64   `json:"newest_age_seconds"`
			RelevantShare    *float64 `json:"relevant_share"`
			Detected         string   `json:"detected"`
			Problems         []string `json:"problems"`
			Failed           bool     `json:"failed"`
		} `json:"feeds"`
		Failed []string `json:"failed"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, js.String())
	}
	if len(doc.Feeds) != len(l.Feeds) || len(doc.Failed) != 5 {
		t.Fatalf("JSON: %d feeds, failed %v", len(doc.Feeds), doc.Failed)
	}
	g := doc.Feeds[0]
	if g.ID != "good" || g.NewestAgeSeconds == nil || *g.NewestAgeSeconds != 7200 || g.RelevantShare == nil || *g.RelevantShare != 0.5 || g.Problems == nil {
		t.Errorf("JSON good: %+v", g)
	}
	if b := doc.Feeds[6]; b.ID != "blocked" || b.Status != 403 || !b.Failed || b.RelevantShare != nil || b.NewestAgeSeconds != nil {
		t.Errorf("JSON blocked: %+v", b)
	}
}

// TestPrivateAddressesRefusedUnlessAllowed: the probe fetches as the
// collector does, so a feeds file that does not allow private addresses
// cannot probe a local server.
func TestPrivateAddressesRefusedUnlessAllowed(t *testing.T) {
	srv := probetest.NewServer(t, now)
	feeds := []feedlist.Feed{{ID: "good", URL: srv.URL + "/good", Lang: "en"}}
	r := Run(context.Background(), feeds, Options{Fetcher: fetcher.New(fetcher.Config{})})[0]
	if !r.Failed || r.Reason != "private_address" || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "allow_private_addresses: true") {
		t.Errorf("%+v", r)
	}
}

// TestNetworkError: a feed no server answers has no status, fails with
// the reason "network", and its problem does not repeat the URL.
func TestNetworkError(t *testing.T) {
	srv := probetest.NewServer(t, now)
	url := srv.URL + "/good"
	srv.Close()
	r := Run(context.Background(), []feedlist.Feed{{ID: "down", URL: url}}, Options{Fetcher: fetcher.New(fetcher.Config{AllowPrivate: true})})[0]
	if !r.Failed || r.Status != 0 || r.Reason != "network" || len(r.Problems) != 1 ||
		strings.Contains(r.Problems[0], url) || !strings.Contains(r.Problems[0], "connection refused") {
		t.Errorf("%+v", r)
	}
	var table bytes.Buffer
	WriteTable(&table, []Result{r})
	if !strings.Contains(table.String(), "down  -     -       -      -       -         -         ") || !strings.HasSuffix(table.String(), "1 feed: 0 OK, 1 failed: down\n") {
		t.Errorf("table:\n%s", table.String())
	}
}

func TestFormatAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		35 * time.Minute: "35m", 5 * time.Hour: "5h", 47 * time.Hour: "47h", 92 * 24 * time.Hour: "92d", -3 * time.Hour: "-3h",
	} {
		if got := FormatAge(d); got != want {
			t.Errorf("FormatAge(%s) = %q, want %q", d, got, want)
		}
	}
}
