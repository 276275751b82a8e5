package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/probe/probetest"
)

// probeFile writes a feeds file for feeds of a probetest server.
func probeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProbeCommand runs "collector probe" against the test feeds: the
// table on stdout, progress on stderr, exit 1 naming the failed feeds.
func TestProbeCommand(t *testing.T) {
	srv := probetest.NewServer(t, time.Now())
	feeds := probeFile(t, probetest.FeedsFile(srv.URL))
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"probe", "--feeds.file", feeds}, nil, &out, &errb)
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	if code != 1 {
		t.Fatalf("exit %d, want 1 (some feeds fail)", code)
	}
	for _, w := range []string{
		"FEED         LANG  STATUS  ITEMS  NEWEST  DETECTED  RELEVANT  PROBLEMS\n",
		"good         en    200     4      2h      en        50%       -\n",
		"mislabelled  ko    200     2      1h      ja        100%      declared ko, items look ja\n",
		"stale        en    200     1      92d     en        0%        newest item 92 days old\n",
		"challenged   en    403     -      -       -         -         HTTP 403: a bot challenge (Cloudflare)",
		"picky        en    200     4      2h      en        50%       -\n",
		"11 feeds: 6 OK, 5 failed: empty, html, blocked, challenged, gone\n",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("stdout lacks %q", w)
		}
	}
	if !strings.Contains(errb.String(), "probe: fetching 11 feeds of "+feeds) || strings.Count(errb.String(), "probe: [") != 11 ||
		!strings.HasSuffix(errb.String(), "collector: 5 of 11 feeds failed: empty, html, blocked, challenged, gone\n") {
		t.Errorf("stderr:\n%s", errb.String())
	}

	// Only the good feeds: exit 0; JSON on request; --quiet prints nothing on stderr.
	out.Reset()
	errb.Reset()
	code = run(context.Background(), []string{"probe", "--feeds.file", feeds, "--only", "good, korean,picky", "--format", "json", "--quiet"}, nil, &out, &errb)
	if code != 0 || errb.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	var doc struct {
		Feeds []struct {
			ID     string `json:"id"`
			Status int    `json:"status"`
			Items  int    `json:"items"`
		} `json:"feeds"`
		Failed []string `json:"failed"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(doc.Feeds) != 3 || doc.Feeds[0].ID != "good" || doc.Feeds[2].ID != "picky" || doc.Feeds[2].Items != 4 || len(doc.Failed) != 0 {
		t.Errorf("JSON: %+v", doc)
	}

	// --fetch.* flags reach the fetcher: a User-Agent the picky feed
	// refuses, sent to a feed without headers of its own, fails it.
	plain := probeFile(t, "allow_private_addresses: true\nfeeds:\n  - {id: picky, url: \""+srv.URL+"/picky\", source: S, kind: news, lang: en}\n")
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"probe", "--feeds.file", plain, "--quiet"}, nil, &out, &errb); code != 1 ||
		!strings.Contains(out.String(), "HTTP 403: the site blocks scripts; set headers") {
		t.Errorf("picky feed with the default User-Agent: exit %d\n%s", code, out.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"probe", "--feeds.file", plain, "--quiet",
		"--fetch.user-agent", "Mozilla/5.0 (compatible; ops-desk; +mailto:ops@example.org)"}, nil, &out, &errb); code != 0 {
		t.Errorf("picky feed with --fetch.user-agent: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// TestProbeHonoursAllowPrivateAddresses: a file that does not allow
// private addresses cannot probe a local server, as the collector could
// not poll it.
func TestProbeHonoursAllowPrivateAddresses(t *testing.T) {
	srv := probetest.NewServer(t, time.Now())
	feeds := probeFile(t, "feeds:\n  - {id: good, url: \""+srv.URL+"/good\", source: S, kind: news, lang: en}\n")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"probe", "--feeds.file", feeds, "--quiet"}, nil, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "allow_private_addresses: true") {
		t.Errorf("exit %d\n%s%s", code, out.String(), errb.String())
	}
}

func TestProbeUsageErrors(t *testing.T) {
	srv := probetest.NewServer(t, time.Now())
	feeds := probeFile(t, probetest.FeedsFile(srv.URL))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"probe", "--format", "xml", "--feeds.file", feeds}, `--format "xml": want table or json`},
		{[]string{"probe", "--feeds.file", feeds, "--only", "good,nosuch,other"}, "has no feed nosuch, other"},
		{[]string{"probe", "--stale-after", "0s", "--feeds.file", feeds}, "--stale-after 0s"},
		{[]string{"probe", "--feeds.file", feeds, "stray"}, `unexpected argument "stray"`},
		{[]string{"probe", "--nosuch"}, "flag provided but not defined: -nosuch"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tc.args, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
	// A feeds file that does not validate is an error (1), with its line.
	bad := probeFile(t, "feeds:\n  - {id: a, url: \"https://x/\", source: S, kind: news, lang: english}\n")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"probe", "--feeds.file", bad}, nil, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), bad+`:2: feed "a": lang "english" is not a language tag`) {
		t.Errorf("invalid file: exit %d, stderr %q", code, errb.String())
	}
	// --help documents the command and exits 0.
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"probe", "--help"}, nil, &out, &errb); code != 0 ||
		!strings.Contains(errb.String(), "Exits 1 when a feed fails") || !strings.Contains(errb.String(), "-fetch.user-agent") {
		t.Errorf("--help: exit %d\n%s", code, errb.String())
	}
}
