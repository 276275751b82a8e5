package fetcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fileServer serves testdata files with the given Content-Type.
func fileServer(t *testing.T, contentType string) *httptest.Server {
	t.Helper()
	mod := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(filepath.Join("testdata", filepath.Base(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, len(b)))
		http.ServeContent(w, r, "", mod, strings.NewReader(string(b)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func local(cfg Config) *Fetcher {
	cfg.AllowPrivate = true
	return New(cfg)
}

func TestRSSAndAtomWithConditionalGET(t *testing.T) {
	srv := fileServer(t, "application/xml")
	f := local(Config{})
	for file, want := range map[string]int{"rss2.xml": 7, "atom.xml": 2} {
		res, err := f.Fetch(context.Background(), srv.URL+"/"+file, Validators{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if res.NotModified || len(res.Items) != want {
			t.Fatalf("%s: %d items (not modified %v), want %d", file, len(res.Items), res.NotModified, want)
		}
		if res.Validators.ETag == "" || res.Validators.LastModified == "" {
			t.Errorf("%s: validators not kept: %+v", file, res.Validators)
		}
		it := res.Items[0]
		if it.Title == "" || it.Link == "" || it.GUID == "" || it.Published.IsZero() || it.Summary == "" {
			t.Errorf("%s: first item incomplete: %+v", file, it)
		}
		again, err := f.Fetch(context.Background(), srv.URL+"/"+file, res.Validators)
		if err != nil {
			t.Fatal(err)
		}
		if !again.NotModified || again.StatusCode != http.StatusNotModified {
			t.Errorf("%s: second fetch with validators: status %d, want 304", file, again.StatusCode)
		}
	}
}

func TestEncodings(t *testing.T) {
	for _, tc := range []struct {
		file, contentType, want string
	}{
		{"gb2312-declared.xml", "application/xml", "解放军在台湾海峡举行演习"},
		{"gb2312-declared.xml", "text/xml; charset=utf-8", "解放军在台湾海峡举行演习"}, // the declaration wins; no double decoding
		{"latin1-undeclared.xml", "application/rss+xml; charset=iso-8859-1", "Marinha do Japão em exercício"},
		{"invalid-utf8.xml", "application/xml", "Bad \uFFFD byte in a title"},
		{"utf16-bom.xml", "application/xml", "UTF-16 台湾"},
	} {
		srv := fileServer(t, tc.contentType)
		res, err := local(Config{}).Fetch(context.Background(), srv.URL+"/"+tc.file, Validators{})
		if err != nil {
			t.Errorf("%s (%s): %v", tc.file, tc.contentType, err)
			continue
		}
		if len(res.Items) != 1 || res.Items[0].Title != tc.want {
			t.Errorf("%s (%s): items %+v, want title %q", tc.file, tc.contentType, res.Items, tc.want)
		}
	}
}

func TestBadDocumentsAreParseErrors(t *testing.T) {
	srv := fileServer(t, "text/html")
	for _, file := range []string{"truncated.xml", "html-page.html"} {
		_, err := local(Config{}).Fetch(context.Background(), srv.URL+"/"+file, Validators{})
		if !errors.Is(err, ErrParse) {
			t.Errorf("%s: err = %v, want ErrParse", file, err)
		}
	}
}

func TestHTTPErrorsAndRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/429":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/503":
			w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := local(Config{})
	var he *HTTPError
	_, err := f.Fetch(context.Background(), srv.URL+"/429", Validators{})
	if !errors.As(err, &he) || he.StatusCode != 429 || he.RetryAfter != 7*time.Second {
		t.Errorf("429: %v", err)
	}
	_, err = f.Fetch(context.Background(), srv.URL+"/503", Validators{})
	if !errors.As(err, &he) || he.StatusCode != 503 || he.RetryAfter < 80*time.Second || he.RetryAfter > 91*time.Second {
		t.Errorf("503 with an HTTP-date Retry-After: %v", err)
	}
	_, err = f.Fetch(context.Background(), srv.URL+"/missing", Validators{})
	if !errors.As(err, &he) || he.StatusCode != 404 {
		t.Errorf("404: %v", err)
	}
}

func TestBodyCap(t *testing.T) {
	srv := fileServer(t, "application/xml")
	_, err := local(Config{MaxBodyBytes: 1000}).Fetch(context.Background(), srv.URL+"/rss2.xml", Validators{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestPrivateAddressesRefusedAtConnectTime(t *testing.T) {
	srv := fileServer(t, "application/xml")
	// A public-looking redirect would still end on loopback: the check is at
	// connect time, so the address itself is what matters.
	_, err := New(Config{}).Fetch(context.Background(), srv.URL+"/rss2.xml", Validators{})
	if !errors.Is(err, ErrPrivateAddress) {
		t.Fatalf("err = %v, want ErrPrivateAddress", err)
	}
	redirector := httptest.NewServer(http.RedirectHandler(srv.URL+"/rss2.xml", http.StatusFound))
	defer redirector.Close()
	_, err = New(Config{}).Fetch(context.Background(), redirector.URL, Validators{})
	if !errors.Is(err, ErrPrivateAddress) {
		t.Fatalf("redirect: err = %v, want ErrPrivateAddress", err)
	}
}

func TestRedirectLoop(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	}))
	defer srv.Close()
	_, err := local(Config{}).Fetch(context.Background(), srv.URL, Validators{})
	if err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("err = %v, want a redirect limit error", err)
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<rss"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	_, err := local(Config{Timeout: 300 * time.Millisecond}).Fetch(context.Background(), srv.URL, Validators{})
	if err == nil {
		t.Fatal("a server that never finishes did not time out")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %s", d)
	}
}

func TestPerHostConcurrencyLimit(t *testing.T) {
	var inFlight, maxSeen atomic.Int32
	body, _ := os.ReadFile("testdata/atom.xml")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			m := maxSeen.Load()
			if n <= m || maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
		inFlight.Add(-1)
		w.Write(body)
	}))
	defer srv.Close()
	f := local(Config{PerHostConcurrency: 2})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Fetch(context.Background(), fmt.Sprintf("%s/%d", srv.URL, i), Validators{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if m := maxSeen.Load(); m != 2 {
		t.Fatalf("max concurrent requests to one host = %d, want 2", m)
	}
}

// TestGlobalConcurrencyLimit: fetches of many hosts are limited to
// MaxConcurrent in flight in all, each host to PerHostConcurrency, and no
// fetch is lost while it waits.
func TestGlobalConcurrencyLimit(t *testing.T) {
	var inFlight, maxSeen, served atomic.Int32
	release := make(chan struct{})
	body, _ := os.ReadFile("testdata/atom.xml")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for m := maxSeen.Load(); n > m && !maxSeen.CompareAndSwap(m, n); m = maxSeen.Load() {
		}
		<-release
		inFlight.Add(-1)
		served.Add(1)
		w.Write(body)
	})
	var urls []string
	for range 4 { // four hosts (host:port), two slots each: eight without a global limit
		srv := httptest.NewServer(handler)
		defer srv.Close()
		urls = append(urls, srv.URL)
	}
	f := local(Config{PerHostConcurrency: 2, MaxConcurrent: 3})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Fetch(context.Background(), fmt.Sprintf("%s/%d", urls[i%len(urls)], i), Validators{}); err != nil {
				t.Error(err)
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for inFlight.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a fourth request, if the limit leaked
	close(release)
	wg.Wait()
	if m := maxSeen.Load(); m != 3 {
		t.Fatalf("max concurrent requests over four hosts = %d, want 3 (MaxConcurrent)", m)
	}
	if served.Load() != 16 {
		t.Fatalf("%d of 16 fetches served", served.Load())
	}
	if New(Config{}).cfg.MaxConcurrent != DefaultMaxConcurrent {
		t.Error("MaxConcurrent has no default")
	}
}

func TestPlainTextAndClip(t *testing.T) {
	if got := PlainText("<p>A&nbsp;B &amp; <b>C</b>\n\t&#8212; D</p>"); got != "A B & C — D" {
		t.Errorf("PlainText = %q", got)
	}
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"  plain \n title\t ", "plain title"},
		{"AT&T and 3 < 5 > 2", "AT&T and 3 < 5 > 2"},
		{"Tom &amp; Jerry &lt;b&gt; &quot;q&quot; &#39;s&#x27; &hellip;", `Tom & Jerry <b> "q" 's' …`},
		{"&amp;amp; stays once-decoded", "&amp; stays once-decoded"},
		{"Wor<b>ld</b> <a href='x'>link</a>ed, <em>it</em><i>alic</i>", "World linked, italic"},
		{"<p>one</p><p>two</p><div>three<br>four<br/>five</div><li>six</li>", "one two three four five six"},
		{"before<script>alert('<p>x</p>')</script>after", "before after"},
		{"a<style>p { color: red }</style>b<noscript>enable JS</noscript>c", "a b c"},
		{"<SCRIPT type=text/javascript>var a = 1 < 2;</SCRIPT>Headline", "Headline"},
		{"x<!-- a comment <b>with tags</b> -->y", "xy"},
		{"<img src=x onerror=alert(1)>Missile launch", "Missile launch"},
		{"<ruby>漢<rp>(</rp><rt>かん</rt><rp>)</rp>字</ruby>の訓練", "漢字の訓練"},
		{"<table><tr><td>PLA</td><td>drills</td></tr></table>", "PLA drills"},
		{"unclosed <b>bold and <i>italic", "unclosed bold and italic"},
		{"<iframe src=x>inner</iframe>text<template><p>t</p></template>", "text"},
		{"<svg><title>icon</title><text>logo</text></svg>Title", "Title"},
		{"북한, 동해상으로 <b>탄도미사일</b> 발사", "북한, 동해상으로 탄도미사일 발사"},
	} {
		if got := PlainText(tc.in); got != tc.want {
			t.Errorf("PlainText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	s := clip(strings.Repeat("台", 100), 10)
	if len(s) > 10 || !strings.HasSuffix(s, "…") {
		t.Errorf("clip = %q (%d bytes)", s, len(s))
	}
}

// TestItemsArePlainText: markup in a real RSS item (escaped in the title,
// CDATA in the description) reaches the collector as plain text.
func TestItemsArePlainText(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x/</link><description>d</description>
<item><title>PLA &lt;b&gt;drills&lt;/b&gt; near Taiwan &amp;amp; Penghu</title><link>https://x/1</link><guid>1</guid>
<description><![CDATA[<p>Warships <script>track()</script>and&nbsp;aircraft</p><style>p{}</style><p>entered the <a href="https://x/z">zone</a>.</p>]]></description></item>
</channel></rss>`
	feed, err := Parse([]byte(doc), "application/rss+xml")
	if err != nil {
		t.Fatal(err)
	}
	items := normalise(feed)
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	if got, want := items[0].Title, "PLA drills near Taiwan & Penghu"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	if got, want := items[0].Summary, "Warships and aircraft entered the zone."; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
