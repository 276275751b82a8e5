package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
	"github.com/tensionwatch/tensionwatch/pkg/events"
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

// wireFeed is one outlet reporting one incident three times: the page must
// name the outlet once, with a count.
const wireFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Wire</title><link>http://x/</link><description>d</description>
<item><title>Japan scrambles jets as Russian bombers fly near Hokkaido</title><link>https://wire.example.org/1</link><guid>w1</guid></item>
<item><title>Russian bombers fly near Hokkaido, Japan scrambles fighter jets</title><link>https://wire.example.org/2</link><guid>w2</guid></item>
<item><title>Japan scrambles fighter jets after Russian bombers near Hokkaido</title><link>https://wire.example.org/3</link><guid>w3</guid></item>
</channel></rss>`

// chainFeed (its %s are RFC 1123 dates, 48 and 30 hours before the test
// runs) gives two allied moves the hostile feed's items answer: the PLA's
// drills around Taiwan answer the Speaker's visit to Taiwan, the coast
// guard's ramming of a Philippine boat the US–Philippine drills. Two
// outlets carry it: a move one outlet reported is answered by none
// (chains.min_outlets).
const chainFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Chain desk</title><link>http://x/</link><description>d</description>
<item><title>US House Speaker arrives in Taiwan for visit</title><link>https://chain.example.org/visit</link><guid>c1</guid><pubDate>%s</pubDate></item>
<item><title>US and Philippine forces hold joint military drills in the South China Sea</title><link>https://chain.example.org/drills</link><guid>c2</guid><pubDate>%s</pubDate></item>
</channel></rss>`

func chromium(t *testing.T) string {
	return testtool.Require(t, "chromium fonts-noto-cjk", "chromium", "chromium-browser")
}

// browserProfile makes a profile directory for one Chromium run.
// Chromium's helper processes may still write to the profile for a moment
// after the browser exits, which makes t.TempDir's cleanup fail: remove the
// profile with a few retries instead.
func browserProfile(t *testing.T) string {
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
	return profile
}

var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync"}

func browse(t *testing.T, bin, url string, extra ...string) string {
	profile := browserProfile(t)
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+profile, "--window-size=1280,1100", "--virtual-time-budget=8000")
	args = append(args, extra...)
	args = append(args, url)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", extra, err)
	}
	return string(out)
}

// TestWatchPageInABrowser starts tensionwatch against two httptest feeds,
// loads its page in headless Chromium and checks the rendered DOM: the gauge
// shows the value the API reports, the event titles are there, and the
// hostile ones stayed text. Then it checks the page as a watch officer sees
// it on a 1400×1000 wall screen and on a phone (checkLayout).
func TestWatchPageInABrowser(t *testing.T) {
	bin := chromium(t)
	long := strings.Repeat("very long title ", 400)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/wire":
			io.WriteString(w, wireFeed)
			return
		case "/chain", "/chain2":
			fmt.Fprintf(w, chainFeed, time.Now().Add(-48*time.Hour).Format(time.RFC1123Z), time.Now().Add(-30*time.Hour).Format(time.RFC1123Z))
			return
		}
		fmt.Fprintf(w, hostileFeed, long)
	}))
	defer srv.Close()
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.yaml")
	os.WriteFile(feeds, []byte(fmt.Sprintf("allow_private_addresses: true\nfeeds:\n"+
		"  - {id: desk, url: %q, source: Desk, kind: news, credibility: 0.9, interval: 1m}\n"+
		"  - {id: wire, url: %q, source: Wire, kind: news, credibility: 0.9, interval: 1m}\n"+
		"  - {id: chain, url: %q, source: Chain, kind: news, credibility: 0.9, interval: 1m}\n"+
		"  - {id: chain2, url: %q, source: Chain Two, kind: news, credibility: 0.9, interval: 1m}\n",
		srv.URL+"/desk", srv.URL+"/wire", srv.URL+"/chain", srv.URL+"/chain2")), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	var logs testtool.SyncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx, []string{"--feeds.file", feeds, "--data.dir", filepath.Join(dir, "data"), "--web.listen-address", "127.0.0.1:0", "--fetch.start-spread", "0"}, &logs, func(a string) { addrc <- a })
	}()
	t.Cleanup(func() { cancel(); <-done }) // stop before the data dir is removed

	base := "http://" + <-addrc

	// Wait until the feeds are scored: the gauge has moved, the wire's
	// three reports are one incident, and the drills answer the visit.
	var idx pageIndex
	var ch pageChains
	deadline := time.Now().Add(30 * time.Second)
	for idx.Gauge.Value == 0 || idx.reportsBy("Wire") < 3 || !ch.answers("US House Speaker arrives in Taiwan for visit") {
		if time.Now().After(deadline) {
			t.Fatalf("the gauge never moved, or the wire's three reports never made one incident (%d), or no live chain starts with the visit (%+v); logs:\n%s",
				idx.reportsBy("Wire"), ch.Chains, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
		idx = getIndex(t, base)
		ch = getPageChains(t, base)
	}
	time.Sleep(500 * time.Millisecond) // let every item be scored
	idx = getIndex(t, base)
	ch = getPageChains(t, base)

	dom := browse(t, bin, base+"/", "--dump-dom")
	// The scorer serves a snapshot refreshed every few seconds: the page
	// shows the one served before or after it loaded.
	before := idx.Gauge.Value
	idx = getIndex(t, base)
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

	checkLayout(t, bin, base, idx, ch)
}

// TestWatchPageDuringAReplay replays the project's fixture of a real
// crisis (testdata/replay: the first 13 hours of the PLA drills after the
// Pelosi visit) through tensionwatch and loads the page at 1400x1000: the
// gauge has risen, the incidents behind it are listed, and a REPLAY badge
// says it is not live news. With -update-screenshot it writes
// docs/watch-page.png, the README's picture, from this page.
func TestWatchPageDuringAReplay(t *testing.T) {
	bin := chromium(t)
	tw := startTW(t, "--replay", "../../testdata/replay", "--replay.speed", "6000", "--data.dir", t.TempDir())
	tw.logLine(t, "item replay finished; the page keeps serving what it showed", 60*time.Second)
	// The scorer computes a snapshot every 5 s after events arrive: wait
	// for one that holds the last of them, so the picture is the end state.
	time.Sleep(6 * time.Second)
	var idx struct {
		Gauge struct {
			Value float64
			Band  string
		}
		Watch struct{ Blind, Replay bool }
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		tw.getJSON(t, "/api/v1/index", &idx)
		if idx.Gauge.Value > 0 && idx.Watch.Replay && !idx.Watch.Blind {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the replay the API reads %+v", idx)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b := startBrowser(t, bin)
	b.load(tw.base+"/", 1400, 1000, "dark")
	badge := b.eval(`(() => { const r = document.getElementById("replay"), b = r.getBoundingClientRect();
		return String(!r.hidden && b.height > 0 && b.top >= 0 && b.bottom <= innerHeight) + "|" + r.textContent; })()`)
	if !strings.HasPrefix(badge, "true|REPLAY") {
		t.Errorf("the REPLAY badge is not on screen: %s", badge)
	}
	if n := b.eval(`String(document.querySelectorAll("#incidents li:not(.empty)").length)`); n == "0" {
		t.Error("no incident is listed after the replay")
	}
	if v := b.eval(`document.getElementById("gauge-value").textContent`); v == "NO DATA" || v == "0" || v == "0.0" {
		t.Errorf("the gauge reads %q after a crisis was replayed", v)
	}
	// Action and reaction is on the wall screen, above the incidents, with
	// every dyad (the Taiwan–PRC one moved by the drills) and its chains
	// or "No live chains".
	reaction := b.eval(`(() => { const s = document.getElementById("reaction").getBoundingClientRect(), i = document.querySelector("#incidents > li").getBoundingClientRect();
		const moved = [...document.querySelectorAll("#dyads .value")].filter((v) => parseFloat(v.textContent) > 0).length;
		return [s.top >= 0 && s.bottom <= innerHeight && s.right <= innerWidth && s.bottom <= i.top, document.querySelectorAll("#dyads > li").length, moved,
			document.querySelectorAll("#chains > li.chain").length + (document.querySelector("#chains > li.none") ? "+none" : "")].join("|"); })()`)
	t.Logf("after the replay, action and reaction reads %s (on screen|dyads|dyads moved|chains)", reaction)
	var ch pageChains
	tw.getJSON(t, "/api/v1/chains?live=true&limit=10", &ch)
	want := fmt.Sprintf("true|%d|", len(ch.Dyads))
	if len(ch.Dyads) == 0 || !strings.HasPrefix(reaction, want) || strings.HasPrefix(reaction, want+"0|") {
		t.Errorf("after the replay, action and reaction reads %q (on screen|dyads|dyads moved|chains), want %q with a dyad moved", reaction, want)
	}
	if live := min(3, ch.Count); !strings.HasSuffix(reaction, fmt.Sprintf("|%d", live)) && !(live == 0 && strings.HasSuffix(reaction, "|0+none")) {
		t.Errorf("after the replay, action and reaction reads %q, but the API has %d live chains", reaction, ch.Count)
	}
	if *updateScreenshot {
		// The wall screen's width, the whole page's height.
		png := screenshot(t, bin, tw.base+"/", 1400)
		if len(png) < 10000 {
			t.Fatalf("screenshot: %d bytes", len(png))
		}
		if err := os.WriteFile("../../docs/watch-page.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pageChains is the part of /api/v1/chains the browser test compares with
// the page.
type pageChains struct {
	Dyads []struct {
		ID, Name, Band string
		Value          float64
	} `json:"dyads"`
	Count  int `json:"count"`
	Chains []struct {
		Live  bool `json:"live"`
		Moves []struct {
			IncidentID string    `json:"incident_id"`
			Title      string    `json:"title"`
			Start      time.Time `json:"start"`
			Actor      string    `json:"actor"`
			Target     string    `json:"target"`
		} `json:"moves"`
	} `json:"chains"`
}

// getPageChains asks for the live chains, as the page does.
func getPageChains(t *testing.T, base string) pageChains {
	t.Helper()
	var ch pageChains
	resp, err := http.Get(base + "/api/v1/chains?live=true&limit=10")
	if err != nil {
		return ch
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&ch)
	return ch
}

// answers reports whether a live chain starts with the move titled first.
func (ch pageChains) answers(first string) bool {
	for _, c := range ch.Chains {
		if c.Live && len(c.Moves) >= 2 && c.Moves[0].Title == first {
			return true
		}
	}
	return false
}

// pageIndex is the part of /api/v1/index the browser test compares with
// the page.
type pageIndex struct {
	Gauge struct {
		Value float64 `json:"value"`
	} `json:"gauge"`
	Regions map[string]struct {
		Value float64 `json:"value"`
		Top   []struct {
			IncidentID string `json:"incident_id"`
			Sources    []struct {
				Outlet string `json:"outlet"`
			} `json:"sources"`
			Answering *struct {
				IncidentID string    `json:"incident_id"`
				Title      string    `json:"title"`
				Start      time.Time `json:"start"`
			} `json:"answering"`
		} `json:"top"`
	} `json:"regions"`
	RegionInfo []struct {
		ID      string `json:"id"`
		Default bool   `json:"default"`
	} `json:"region_info"`
	Parameters struct {
		Aggregation float64 `json:"aggregation"`
	} `json:"parameters"`
}

func getIndex(t *testing.T, base string) pageIndex {
	t.Helper()
	var idx pageIndex
	resp, err := http.Get(base + "/api/v1/index?top=10") // as the page asks
	if err != nil {
		return idx
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&idx)
	return idx
}

// reportsBy is the largest number of one incident's sources from outlet.
func (idx pageIndex) reportsBy(outlet string) int {
	most := 0
	for _, r := range idx.Regions {
		for _, c := range r.Top {
			n := 0
			for _, s := range c.Sources {
				if s.Outlet == outlet {
					n++
				}
			}
			most = max(most, n)
		}
	}
	return most
}

// hottest is the label the page gives the region with the highest value.
func (idx pageIndex) hottest() string {
	best, id := -1.0, ""
	for r, n := range idx.Regions {
		if n.Value > best || n.Value == best && r < id {
			best, id = n.Value, r
		}
	}
	for _, r := range idx.RegionInfo {
		if r.ID == id && r.Default {
			return "region-wide / unplaced"
		}
	}
	return strings.ReplaceAll(id, "_", " ")
}

// measure is the page's geometry as the browser laid it out; measureJS
// collects it.
type measure struct {
	InnerWidth, InnerHeight, ScrollWidth, ScrollY float64
	Background                                    string
	Gauge, AlertsBox, RegionsBox                  rect
	Alerts                                        []rect
	Incidents                                     []struct {
		Rect    rect
		Score   float64
		Sources []string
	}
	Relation string
	Sparks   []struct {
		Card, ViewBox, Aspect string
		Width, Inner          float64
		Svg                   rect
		Labels                []string
		LabelRects            []rect
	}
	Regions []struct{ ID, Name string }
	Tiles   int
	// Action and reaction: the section, its dyads and live chains, and
	// each incident card's "answering" line.
	Reaction rect
	Dyads    []struct {
		ID, Name, Value, Band string
		Rect                  rect
	}
	Chains []struct {
		Rect  rect
		Moves []struct {
			ID, Title, Meta string
			Rect, T         rect
		}
	}
	ChainNote string
	Answering []struct {
		ID, Text string
		Rect     rect
	}
}

type rect struct{ Top, Bottom, Left, Right, Width float64 }

const measureJS = `(() => {
  const r = (e) => { const b = e.getBoundingClientRect(); return {top: b.top, bottom: b.bottom, left: b.left, right: b.right, width: b.width}; };
  const inner = (e) => { const cs = getComputedStyle(e); return e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight); };
  return JSON.stringify({
    innerWidth, innerHeight, scrollY, scrollWidth: document.documentElement.scrollWidth,
    background: getComputedStyle(document.body).backgroundColor,
    gauge: r(document.getElementById("gauge-value")),
    alertsBox: r(document.querySelector(".alerts")),
    regionsBox: r(document.getElementById("regions")),
    alerts: [...document.querySelectorAll("#alerts > li")].map(r),
    incidents: [...document.querySelectorAll("#incidents > li")].map((li) => ({
      rect: r(li), score: parseFloat(li.dataset.score), sources: [...li.querySelectorAll(".src")].map((e) => e.textContent)})),
    relation: document.getElementById("gauge-relation").textContent,
    sparks: [...document.querySelectorAll("svg.spark")].map((s) => {
      const card = s.closest(".tile, .card"), axis = s.parentElement.querySelector(".axis");
      return {card: card.dataset.id || card.id, viewBox: s.getAttribute("viewBox") || "", aspect: s.getAttribute("preserveAspectRatio") || "",
        width: s.getBoundingClientRect().width, inner: inner(card), svg: r(s),
        labels: axis ? [...axis.children].map((e) => e.textContent) : [], labelRects: axis ? [...axis.children].map(r) : []};
    }),
    regions: [...document.querySelectorAll("#regions .tile")].map((e) => ({id: e.dataset.id, name: e.querySelector(".name").textContent})),
    tiles: document.querySelectorAll(".tile").length,
    reaction: r(document.getElementById("reaction")),
    dyads: [...document.querySelectorAll("#dyads > li")].map((li) => ({id: li.dataset.id, name: li.querySelector(".name").textContent,
      value: li.querySelector(".value").textContent, band: li.querySelector(".value").className, rect: r(li)})),
    chains: [...document.querySelectorAll("#chains > li.chain")].map((li) => ({rect: r(li), moves: [...li.querySelectorAll(".move")].map((m) => ({
      id: m.dataset.id, title: m.querySelector(".t").textContent, meta: m.querySelector(".m").textContent, rect: r(m), t: r(m.querySelector(".t"))}))})),
    chainNote: [...document.querySelectorAll("#chains > li:not(.chain)")].map((e) => e.textContent).join("|"),
    answering: [...document.querySelectorAll("#incidents > li")].map((li) => {
      const a = li.querySelector(".answering");
      return {id: li.dataset.id || "", text: a ? a.textContent : "", rect: a ? r(a) : {top: 0, bottom: 0, left: 0, right: 0, width: 0}};
    }),
  });
})()`

// checkLayout loads the page at the wall screen's 1400×1000 (dark) and at a
// phone's 390×844 (light) and checks what a watch officer must see at a
// glance: the gauge, every alert and the heaviest incidents without
// scrolling, beside one another; sparklines across their cards with a time
// axis; an outlet's repeated reports collapsed; and the sentence saying how
// the gauge comes from the regions.
func checkLayout(t *testing.T, bin, base string, idx pageIndex, ch pageChains) {
	b := startBrowser(t, bin)
	wall := b.load(base+"/", 1400, 1000, "dark")
	if wall.InnerWidth != 1400 || wall.InnerHeight != 1000 || wall.ScrollY != 0 {
		t.Fatalf("the wall viewport is %vx%v scrolled %v, want 1400x1000 unscrolled", wall.InnerWidth, wall.InnerHeight, wall.ScrollY)
	}
	onScreen := func(what string, r rect, m measure) {
		t.Helper()
		if r.Width <= 0 || r.Top < 0 || r.Bottom > m.InnerHeight || r.Left < 0 || r.Right > m.InnerWidth {
			t.Errorf("%s at %+v is not inside the %vx%v viewport", what, r, m.InnerWidth, m.InnerHeight)
		}
	}
	onScreen("the gauge's value", wall.Gauge, wall)
	if len(wall.Alerts) == 0 {
		t.Error("no alert is listed (the drills alone raise one)")
	}
	for i, a := range wall.Alerts {
		onScreen(fmt.Sprintf("alert %d", i+1), a, wall)
	}
	if len(wall.Incidents) < 3 {
		t.Fatalf("the page lists %d incidents, want at least 3", len(wall.Incidents))
	}
	for i, in := range wall.Incidents[:3] {
		onScreen(fmt.Sprintf("incident %d", i+1), in.Rect, wall)
	}
	if in := wall.Incidents[0].Rect; in.Left < wall.AlertsBox.Right || in.Top > wall.AlertsBox.Bottom {
		t.Errorf("the incidents (%+v) are not beside the alerts (%+v)", in, wall.AlertsBox)
	}
	for i := 1; i < len(wall.Incidents); i++ {
		if wall.Incidents[i].Score > wall.Incidents[i-1].Score {
			t.Errorf("incident %d (%.2f) is heavier than incident %d (%.2f): not heaviest first", i+1, wall.Incidents[i].Score, i, wall.Incidents[i-1].Score)
		}
	}
	if wall.ScrollWidth > wall.InnerWidth {
		t.Errorf("the wall page is %v wide, wider than its %v viewport", wall.ScrollWidth, wall.InnerWidth)
	}

	// One outlet's three reports of one incident read "Wire ×3", and no
	// incident names an outlet twice.
	collapsed := false
	for i, in := range wall.Incidents {
		seen := map[string]bool{}
		for _, s := range in.Sources {
			name := strings.Split(s, " ×")[0]
			if seen[name] {
				t.Errorf("incident %d names %s twice: %q", i+1, name, in.Sources)
			}
			seen[name] = true
			collapsed = collapsed || s == "Wire ×3"
		}
	}
	if !collapsed {
		t.Errorf("no incident reads \"Wire ×3\" although the wire reported one three times: %+v", wall.Incidents)
	}

	// The sentence under the gauge derives it from the regions with the
	// API's own aggregation weight and numbers.
	for _, want := range []string{"regions", fmt.Sprintf("×%v", idx.Parameters.Aggregation), idx.hottest()} {
		if !strings.Contains(wall.Relation, want) {
			t.Errorf("the gauge's relation to the regions, %q, lacks %q", wall.Relation, want)
		}
	}
	if idx.Parameters.Aggregation <= 0 {
		t.Errorf("the API gives no aggregation weight")
	}
	// The default region is labelled as what it is, not as East Asia.
	named := false
	for _, r := range wall.Regions {
		if r.ID == "east_asia" {
			named = r.Name == "region-wide / unplaced"
		}
		if strings.Contains(strings.ToLower(r.Name), "east asia") {
			t.Errorf("the region tile %s is called %q, which reads as the East Asia gauge", r.ID, r.Name)
		}
	}
	if !named {
		t.Errorf("the east_asia region is not labelled \"region-wide / unplaced\": %+v", wall.Regions)
	}

	checkSparks(t, "wall", wall)
	checkReaction(t, "wall", wall, idx, ch)
	// On the wall the section heads the middle column: on screen whole,
	// right of the alerts, above the incidents, left of the regions.
	onScreen("the action and reaction section", wall.Reaction, wall)
	if r, in := wall.Reaction, wall.Incidents[0].Rect; r.Left < wall.AlertsBox.Right || r.Bottom > in.Top || r.Left > in.Left+0.5 || r.Right < in.Right-0.5 || r.Right > wall.RegionsBox.Left {
		t.Errorf("the action and reaction section at %+v is not above the incidents (%+v), between the alerts (%+v) and the regions (%+v)", r, in, wall.AlertsBox, wall.RegionsBox)
	}

	phone := b.load(base+"/", 390, 844, "light")
	if phone.ScrollWidth > phone.InnerWidth {
		t.Errorf("the phone page is %v wide, wider than its %v viewport", phone.ScrollWidth, phone.InnerWidth)
	}
	onScreen("the gauge's value on a phone", phone.Gauge, phone)
	checkSparks(t, "phone", phone)
	checkReaction(t, "phone", phone, idx, ch)
	if r := phone.Reaction; r.Width <= 0 || r.Left < 0 || r.Right > phone.InnerWidth || r.Top < phone.AlertsBox.Bottom || r.Bottom > phone.Incidents[0].Rect.Top {
		t.Errorf("phone: the action and reaction section at %+v is not across the %v-wide screen between the alerts (%+v) and the incidents", r, phone.InnerWidth, phone.AlertsBox)
	}
	if lw, lp := luminance(t, wall.Background), luminance(t, phone.Background); lw > 0.2 || lp < 0.8 {
		t.Errorf("dark background %s (luminance %.2f), light %s (%.2f)", wall.Background, lw, phone.Background, lp)
	}
}

// checkReaction compares "Action and reaction" with /api/v1/chains: every
// dyad with its name, number and band colour; the live chains in the API's
// order (newest first), each newest move first with "←" before the move
// it answers, its date and who acted toward whom; every row inside the
// section, one under the other. And each incident card answering a move
// says so with the move's title and date.
func checkReaction(t *testing.T, where string, m measure, idx pageIndex, ch pageChains) {
	t.Helper()
	inside := func(what string, r rect) {
		t.Helper()
		if r.Width <= 0 || r.Left < m.Reaction.Left-0.5 || r.Right > m.Reaction.Right+0.5 || r.Top < m.Reaction.Top-0.5 || r.Bottom > m.Reaction.Bottom+0.5 {
			t.Errorf("%s: %s at %+v is not inside the section at %+v", where, what, r, m.Reaction)
		}
	}
	if len(m.Dyads) != len(ch.Dyads) || len(m.Dyads) == 0 {
		t.Fatalf("%s: the page shows %d dyads, the API %d", where, len(m.Dyads), len(ch.Dyads))
	}
	var below float64 // the bottom of the dyads
	for i, d := range m.Dyads {
		want := ch.Dyads[i]
		v, err := strconv.ParseFloat(d.Value, 64)
		// The numbers decay between the API's answer and the page's.
		if d.ID != want.ID || d.Name != want.Name || err != nil || math.Abs(v-want.Value) > 0.15 || !strings.Contains(d.Band, "b-"+want.Band) {
			t.Errorf("%s: dyad %d reads %+v, the API %+v", where, i, d, want)
		}
		inside("dyad "+d.ID, d.Rect)
		for _, e := range m.Dyads[:i] {
			if overlap(d.Rect, e.Rect) {
				t.Errorf("%s: dyad %s at %+v overlaps dyad %s at %+v", where, d.ID, d.Rect, e.ID, e.Rect)
			}
		}
		below = max(below, d.Rect.Bottom)
	}
	live := 0
	for _, c := range ch.Chains {
		if c.Live {
			live++
		}
	}
	if len(m.Chains) != min(live, 3) || live == 0 {
		t.Fatalf("%s: the page shows %d chains, the API has %d live ones", where, len(m.Chains), live)
	}
	if more := live - len(m.Chains); more > 0 && !strings.Contains(m.ChainNote, fmt.Sprintf("+%d more", more)) {
		t.Errorf("%s: %d live chains not shown, and the page says %q", where, more, m.ChainNote)
	}
	prev := rect{Bottom: below}
	for i, c := range m.Chains {
		moves := ch.Chains[i].Moves
		if len(c.Moves) != len(moves) {
			t.Errorf("%s: chain %d shows %d moves, the API %d", where, i, len(c.Moves), len(moves))
			continue
		}
		inside(fmt.Sprintf("chain %d", i), c.Rect)
		if c.Rect.Top < prev.Bottom-0.5 {
			t.Errorf("%s: chain %d at %+v overlaps what is above it at %+v", where, i, c.Rect, prev)
		}
		prev = c.Rect
		for j, mv := range c.Moves {
			want := moves[len(moves)-1-j] // newest first
			title := strings.TrimSuffix(strings.TrimPrefix(mv.Title, "← "), "…")
			day := want.Start.UTC().Format("2 Jan 2006")
			if mv.ID != want.IncidentID || (j > 0) != strings.HasPrefix(mv.Title, "← ") || title == "" || !strings.HasPrefix(want.Title, title) ||
				!strings.HasPrefix(mv.Meta, day+" · ") || !strings.Contains(mv.Meta, " → ") && want.Target != "" {
				t.Errorf("%s: chain %d move %d reads %q / %q, want %s %q on %s (%s → %s)", where, i, j, mv.Title, mv.Meta, want.IncidentID, want.Title, day, want.Actor, want.Target)
			}
			inside(fmt.Sprintf("chain %d move %d", i, j), mv.Rect)
			inside(fmt.Sprintf("chain %d move %d's title", i, j), mv.T)
		}
	}
	// The incident cards: one answering a move names it; the others not.
	answers := map[string]string{}
	for _, r := range idx.Regions {
		for _, c := range r.Top {
			if c.Answering != nil {
				answers[c.IncidentID] = fmt.Sprintf("answering: %s, %s", c.Answering.Title, c.Answering.Start.UTC().Format("2 Jan 2006"))
			}
		}
	}
	shown := 0
	for _, a := range m.Answering {
		want, ok := answers[a.ID]
		switch {
		case ok && !strings.HasSuffix(a.Text, want):
			t.Errorf("%s: incident %s's card reads %q, want %q", where, a.ID, a.Text, want)
		case !ok && a.Text != "":
			t.Errorf("%s: incident %s's card reads %q, but it answers nothing", where, a.ID, a.Text)
		case ok:
			shown++
			if a.Rect.Width <= 0 || a.Rect.Left < 0 || a.Rect.Right > m.InnerWidth {
				t.Errorf("%s: incident %s's answering line at %+v", where, a.ID, a.Rect)
			}
		}
	}
	if shown == 0 {
		t.Errorf("%s: no incident card says what it answers (the API: %v)", where, answers)
	}
}

// overlap reports whether two rectangles share more than half a pixel.
func overlap(a, b rect) bool {
	return min(a.Right, b.Right)-max(a.Left, b.Left) > 0.5 && min(a.Bottom, b.Bottom)-max(a.Top, b.Top) > 0.5
}

// checkSparks: every tile and the gauge have a sparkline that scales to its
// card (viewBox, preserveAspectRatio none), spans at least 90 % of the
// card's inner width, and has a time axis from "−N d" or "−N h" to "now"
// whose labels stay under the line.
func checkSparks(t *testing.T, where string, m measure) {
	t.Helper()
	if len(m.Sparks) != m.Tiles+1 || m.Tiles < 2 {
		t.Errorf("%s: %d sparklines for %d tiles and the gauge", where, len(m.Sparks), m.Tiles)
	}
	ago := regexp.MustCompile(`^−\d+ [dh]$`)
	for _, s := range m.Sparks {
		if s.ViewBox == "" || s.Aspect != "none" {
			t.Errorf("%s: %s's sparkline has viewBox %q, preserveAspectRatio %q", where, s.Card, s.ViewBox, s.Aspect)
		}
		if s.Inner <= 0 || s.Width < 0.9*s.Inner {
			t.Errorf("%s: %s's sparkline is %.0f px wide in a card %.0f px wide inside", where, s.Card, s.Width, s.Inner)
		}
		if len(s.Labels) < 2 || !ago.MatchString(s.Labels[0]) || s.Labels[len(s.Labels)-1] != "now" {
			t.Errorf("%s: %s's sparkline has the axis labels %q, want −N d … now", where, s.Card, s.Labels)
			continue
		}
		for i, l := range s.LabelRects {
			if l.Width <= 0 || l.Left < s.Svg.Left-1 || l.Right > s.Svg.Right+1 || l.Top < s.Svg.Bottom-1 {
				t.Errorf("%s: %s's axis label %q at %+v is not under its line at %+v", where, s.Card, s.Labels[i], l, s.Svg)
			}
		}
	}
}

// luminance of a CSS "rgb(r, g, b)" colour, 0 (black) to 1 (white).
func luminance(t *testing.T, css string) float64 {
	t.Helper()
	m := regexp.MustCompile(`^rgb\((\d+), (\d+), (\d+)\)$`).FindStringSubmatch(css)
	if m == nil {
		t.Errorf("unexpected colour %q", css)
		return math.NaN()
	}
	var c [3]float64
	for i := range c {
		c[i], _ = strconv.ParseFloat(m[i+1], 64)
	}
	return (0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]) / 255
}

// browser is a headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe: it reads commands on its fd 3 and writes
// replies and events on its fd 4, each a JSON message ended by NUL), so the
// test can size the viewport and measure the page with no WebSocket
// library. It drives the browser's one page through a flat session.
type browser struct {
	t       *testing.T
	in      io.WriteCloser
	out     *bufio.Reader
	stderr  *testtool.SyncBuffer
	id      int
	session string
}

func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+browserProfile(t), "--remote-debugging-pipe", "about:blank")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.ExtraFiles = []*os.File{cmdR, outW} // fd 3 and fd 4
	b := &browser{t: t, in: cmdW, out: bufio.NewReader(outR), stderr: &testtool.SyncBuffer{}}
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting chromium: %v", err)
	}
	cmdR.Close()
	outW.Close()
	t.Cleanup(func() {
		b.call("Browser.close", nil, nil)
		cmdW.Close()
		waited := make(chan struct{})
		go func() { cmd.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			cancel()
			<-waited
		}
		cancel()
		outR.Close()
	})
	var targets struct {
		TargetInfos []struct{ TargetID, Type string }
	}
	b.call("Target.getTargets", nil, &targets)
	for _, tg := range targets.TargetInfos {
		if tg.Type == "page" {
			var at struct{ SessionID string }
			b.call("Target.attachToTarget", map[string]any{"targetId": tg.TargetID, "flatten": true}, &at)
			b.session = at.SessionID
			break
		}
	}
	if b.session == "" {
		t.Fatalf("chromium has no page to drive: %+v", targets)
	}
	return b
}

// call sends one command and waits for its reply, skipping events. With no
// session yet it talks to the browser, else to the page.
func (b *browser) call(method string, params, result any) {
	b.t.Helper()
	b.id++
	msg := map[string]any{"id": b.id, "method": method, "params": params}
	if params == nil {
		msg["params"] = map[string]any{}
	}
	if b.session != "" && !strings.HasPrefix(method, "Browser.") && !strings.HasPrefix(method, "Target.") {
		msg["sessionId"] = b.session
	}
	body, _ := json.Marshal(msg)
	if _, err := b.in.Write(append(body, 0)); err != nil {
		if method == "Browser.close" {
			return
		}
		b.t.Fatalf("%s: writing to chromium: %v; chromium says:\n%s", method, err, b.stderr.String())
	}
	for {
		line, err := b.out.ReadBytes(0)
		if err != nil {
			if method == "Browser.close" {
				return
			}
			b.t.Fatalf("%s: reading from chromium: %v; chromium says:\n%s", method, err, b.stderr.String())
		}
		var reply struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(line[:len(line)-1], &reply); err != nil {
			b.t.Fatalf("%s: chromium wrote %q: %v", method, line, err)
		}
		if reply.ID != b.id {
			continue // an event, or the reply to an abandoned call
		}
		if reply.Error != nil {
			b.t.Fatalf("%s: chromium: %s", method, reply.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(reply.Result, result); err != nil {
				b.t.Fatalf("%s: %v in %s", method, err, reply.Result)
			}
		}
		return
	}
}

// eval runs a JavaScript expression in the page and returns its value,
// which must be a string.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	var res struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	if res.ExceptionDetails != nil {
		b.t.Fatalf("the page threw %s %s", res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	}
	s, _ := res.Result.Value.(string)
	return s
}

// load opens url in a viewport of width×height CSS pixels with the given
// colour scheme, waits until the page has rendered the API's data, and
// measures it.
func (b *browser) load(url string, width, height int, scheme string) measure {
	b.t.Helper()
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700}, nil)
	b.call("Emulation.setEmulatedMedia", map[string]any{"features": []map[string]string{{"name": "prefers-color-scheme", "value": scheme}}}, nil)
	b.call("Page.navigate", map[string]any{"url": url}, nil)
	deadline := time.Now().Add(30 * time.Second)
	for b.eval(`String(document.readyState === "complete" && document.body && document.body.dataset.ready)`) != "true" {
		if time.Now().After(deadline) {
			b.t.Fatalf("the page at %dx%d never rendered its data: %s", width, height, b.eval(`document.body ? document.body.innerText : ""`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	var m measure
	js := b.eval(measureJS)
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		b.t.Fatalf("measuring the page: %v in %s", err, js)
	}
	return m
}

// screenshot is a PNG of the whole page at width CSS pixels (the height of
// a 1000-pixel-high screen, or more if the page is longer).
func screenshot(t *testing.T, bin, url string, width int) []byte {
	b := startBrowser(t, bin)
	b.load(url, width, 1000, "dark")
	h, _ := strconv.Atoi(b.eval(`String(Math.max(1000, Math.ceil(document.documentElement.scrollHeight)))`))
	var shot struct{ Data string }
	b.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": width, "height": h, "scale": 1}}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return png
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
	var logs testtool.SyncBuffer
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
	// With no events there is no chain, and the dyads have no number.
	if !strings.Contains(dom, `<li class="none">No live chains</li>`) {
		t.Error("the action and reaction section does not say \"No live chains\"")
	}
	if n := strings.Count(dom, `class="value b-no_data" data-value="">–<`); n != len(events.DefaultTaxonomy().Dyads) {
		t.Errorf("%d dyads read – in the no-data colour, want all %d", n, len(events.DefaultTaxonomy().Dyads))
	}
}
