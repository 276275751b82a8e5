package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "rewrite docs/watch-page.png from the browser test")

// hostileFeed mixes real-looking items with hostile ones: markup that must
// stay text (double-encoded so it survives HTML stripping as literal
// characters), right-to-left overrides, an enormous title, and Chinese,
// Japanese and Korean titles.
const hostileFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Watch desk</title><link>http://x/</link><description>d</description>
<item><title>China's PLA holds live-fire drills around Taiwan with 71 warplanes</title><link>https://news.example.org/a</link><guid>a</guid></item>
<item><title>North Korea fires two ballistic missiles into the Sea of Japan</title><link>https://news.example.org/b</link><guid>b</guid></item>
<item><title>Chinese coast guard ships enter waters near Senkakus &amp;lt;script&amp;gt;document.body.dataset.pwned='script'&amp;lt;/script&amp;gt; &amp;lt;img src=x onerror="document.body.dataset.pwned='img'"&amp;gt;</title><link>https://news.example.org/c</link><guid>c</guid></item>
<item><title>Chinese coast guard ships ram Philippine boat near Second Thomas Shoal &#x202E;desrever&#x202C; ` + "%s" + `</title><link>javascript:alert(1)</link><guid>d</guid></item>
<item><title>解放军东部战区在台湾海峡举行联合演习</title><link>https://news.example.org/zh</link><guid>zh</guid></item>
<item><title>中国海警船が尖閣諸島周辺の領海に侵入</title><link>https://news.example.org/ja</link><guid>ja</guid></item>
<item><title>북한, 동해상으로 탄도미사일 2발 발사</title><link>https://news.example.org/ko</link><guid>ko</guid></item>
</channel></rss>`

func chromium(t *testing.T) string {
	return testtool.Require(t, "chromium fonts-noto-cjk", "chromium", "chromium-browser")
}

func browse(t *testing.T, bin, url string, extra ...string) string {
	// Chromium's helper processes may still write to the profile for a
	// moment after the browser exits, which makes t.TempDir's cleanup fail:
	// remove the profile with a few retries instead.
	profile, err := os.MkdirTemp("", "tensionwatch-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("could not remove the browser profile %s", profile)
	})
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--window-size=1280,1100", "--virtual-time-budget=8000"}, extra...)
	args = append(args, url)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", extra, err)
	}
	return string(out)
}

// TestWatchPageInABrowser starts tensionwatch against an httptest feed, loads
// its page in headless Chromium and checks the rendered DOM: the gauge shows
// the value the API reports, the event titles are there, and the hostile ones
// stayed text.
func TestWatchPageInABrowser(t *testing.T) {
	bin := chromium(t)
	long := strings.Repeat("very long title ", 400)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, hostileFeed, long)
	}))
	defer srv.Close()
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.yaml")
	os.WriteFile(feeds, []byte(fmt.Sprintf("allow_private_addresses: true\nfeeds:\n  - {id: desk, url: %q, source: Desk, kind: news, credibility: 0.9, interval: 1m}\n", srv.URL)), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	var logs syncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx, []string{"--feeds.file", feeds, "--data.dir", filepath.Join(dir, "data"), "--web.listen-address", "127.0.0.1:0", "--fetch.start-spread", "0"}, &logs, func(a string) { addrc <- a })
	}()
	t.Cleanup(func() { cancel(); <-done }) // stop before the data dir is removed

	base := "http://" + <-addrc

	var idx struct {
		Gauge struct {
			Value float64 `json:"value"`
		} `json:"gauge"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for idx.Gauge.Value == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the gauge never moved; logs:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
		if resp, err := http.Get(base + "/api/v1/index"); err == nil {
			json.NewDecoder(resp.Body).Decode(&idx)
			resp.Body.Close()
		}
	}
	time.Sleep(500 * time.Millisecond) // let every item be scored
	resp, _ := http.Get(base + "/api/v1/index")
	json.NewDecoder(resp.Body).Decode(&idx)
	resp.Body.Close()

	dom := browse(t, bin, base+"/", "--dump-dom")
	// The scorer serves a snapshot refreshed every few seconds: the page
	// shows the one served before or after it loaded.
	before := idx.Gauge.Value
	resp, _ = http.Get(base + "/api/v1/index")
	json.NewDecoder(resp.Body).Decode(&idx)
	resp.Body.Close()
	shows := func(v float64) bool {
		return regexp.MustCompile(fmt.Sprintf(`id="gauge-value" data-value="%v"[^>]*>%.1f<`, regexp.QuoteMeta(fmt.Sprint(v)), v)).MatchString(dom)
	}
	if !shows(before) && !shows(idx.Gauge.Value) {
		i := strings.Index(dom, `id="gauge-value"`)
		t.Errorf("the page's gauge shows neither the API's %.2f nor its %.2f: %s", before, idx.Gauge.Value, dom[i:min(len(dom), i+80)])
	}
	if strings.Contains(dom, "NO DATA") {
		t.Error("the page reads NO DATA although the feed was fetched")
	}
	for _, title := range []string{
		"China's PLA holds live-fire drills around Taiwan with 71 warplanes",
		"North Korea fires two ballistic missiles into the Sea of Japan",
		"解放军东部战区在台湾海峡举行联合演习", "中国海警船が尖閣諸島周辺の領海に侵入", "북한, 동해상으로 탄도미사일 2발 발사",
		"&lt;script&gt;document.body.dataset.pwned='script'&lt;/script&gt;",
	} {
		if !strings.Contains(dom, strings.ReplaceAll(title, "'", "'")) {
			t.Errorf("the page lacks the title %q", title)
		}
	}
	if !strings.Contains(dom, "71 aircraft, live fire") {
		t.Error("the incident's magnitude is not shown")
	}
	if strings.Contains(dom, "data-pwned") {
		t.Fatal("a hostile title ran as markup")
	}
	if strings.Contains(dom, `href="javascript:`) {
		t.Error("a javascript: link reached the page")
	}
	if strings.Contains(dom, strings.Repeat("very long title ", 20)) {
		t.Error("an enormous title was not clipped")
	}
	if strings.ContainsRune(dom, '\u202e') {
		t.Error("a right-to-left override reached the page")
	}
	if !strings.Contains(dom, `data-ready="true"`) {
		t.Error("the page never finished loading its data")
	}

	if *updateScreenshot {
		shot := filepath.Join(dir, "shot.png")
		browse(t, bin, base+"/", "--screenshot="+shot, "--hide-scrollbars", "--window-size=1280,2300")
		b, err := os.ReadFile(shot)
		if err != nil || len(b) < 10000 {
			t.Fatalf("screenshot: %v (%d bytes)", err, len(b))
		}
		os.WriteFile("../../docs/watch-page.png", b, 0o644)
	}
}

// TestWatchPageSaysNoDataWhenBlind runs tensionwatch on a feed that always
// fails: the page must say NO DATA in grey, never a green CALM, and the
// API must mark every band no_data.
func TestWatchPageSaysNoDataWhenBlind(t *testing.T) {
	bin := chromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.yaml")
	os.WriteFile(feeds, []byte(fmt.Sprintf("allow_private_addresses: true\nfeeds:\n  - {id: desk, url: %q, source: Desk, kind: news, credibility: 0.9, interval: 1m}\n", srv.URL)), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	var logs syncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx, []string{"--feeds.file", feeds, "--data.dir", filepath.Join(dir, "data"), "--web.listen-address", "127.0.0.1:0", "--fetch.start-spread", "0"}, &logs, func(a string) { addrc <- a })
	}()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + <-addrc

	// Wait for the collector's heartbeat (0 of 1 feeds healthy) to reach
	// the scorer.
	var idx struct {
		Gauge   struct{ Band string }            `json:"gauge"`
		Regions map[string]struct{ Band string } `json:"regions"`
		Watch   struct {
			Blind      bool
			Reason     string
			Collectors int
			Feeds      int
		} `json:"watch"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for idx.Watch.Collectors == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no collector heartbeat reached the scorer; logs:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
		if resp, err := http.Get(base + "/api/v1/index"); err == nil {
			json.NewDecoder(resp.Body).Decode(&idx)
			resp.Body.Close()
		}
	}
	if !idx.Watch.Blind || idx.Watch.Feeds != 1 || idx.Gauge.Band != "no_data" || idx.Regions["taiwan_strait"].Band != "no_data" {
		t.Fatalf("with its only feed failing the API reads %+v", idx)
	}
	dom := browse(t, bin, base+"/", "--dump-dom")
	if !regexp.MustCompile(`id="gauge-value" data-value="" class="b-no_data">NO DATA<`).MatchString(dom) {
		t.Errorf("the gauge does not read NO DATA in the no-data colour")
	}
	if strings.Contains(dom, ">calm<") || strings.Contains(dom, "b-calm\"") {
		t.Error("a blind page shows calm somewhere")
	}
	if !strings.Contains(dom, "TensionwatchBlind") {
		t.Error("the alerts list lacks TensionwatchBlind")
	}
}
