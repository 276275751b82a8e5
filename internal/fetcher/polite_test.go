package fetcher

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tensionwatch/tensionwatch/internal/version"
)

// recorder serves testdata/rss2.xml gzipped when the request accepts gzip,
// and keeps the headers of the last request.
func recorder(t *testing.T) (*httptest.Server, func() http.Header) {
	t.Helper()
	body, err := os.ReadFile("testdata/rss2.xml")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(body)
	zw.Close()
	last := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-last:
		default:
		}
		last <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/rss+xml")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(buf.Bytes())
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() http.Header {
		select {
		case h := <-last:
			return h
		default:
			t.Fatal("no request reached the server")
			return nil
		}
	}
}

// TestPoliteDefaults: the default User-Agent names the product, its version
// and a URL; Accept asks for feeds; gzip is offered and a gzipped answer is
// decoded (within the body cap: TestGzipBombIsCapped).
func TestPoliteDefaults(t *testing.T) {
	srv, last := recorder(t)
	res, err := local(Config{}).Fetch(context.Background(), srv.URL, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	h := last()
	ua := h.Get("User-Agent")
	want := "tensionwatch/" + version.String() + " (+https://github.com/tensionwatch/tensionwatch)"
	if ua != want || ua != DefaultUserAgent() {
		t.Errorf("User-Agent %q, want %q", ua, want)
	}
	if !regexp.MustCompile(`^tensionwatch/\S+ \(\+https://\S+\)$`).MatchString(ua) {
		t.Errorf("User-Agent %q is not product/version (+URL)", ua)
	}
	if a := h.Get("Accept"); !strings.HasPrefix(a, "application/rss+xml, application/atom+xml") {
		t.Errorf("Accept %q does not put the feed types first", a)
	}
	if ae := h.Get("Accept-Encoding"); ae != "gzip" {
		t.Errorf("Accept-Encoding %q, want gzip", ae)
	}
	if len(res.Items) != 7 {
		t.Errorf("%d items from the gzipped feed, want 7", len(res.Items))
	}
	raw, _ := os.ReadFile("testdata/rss2.xml")
	if res.Bytes != int64(len(raw)) {
		t.Errorf("Bytes = %d, want the decompressed size %d", res.Bytes, len(raw))
	}
	if res.FinalURL != srv.URL {
		t.Errorf("FinalURL = %q, want %q", res.FinalURL, srv.URL)
	}

	// --fetch.user-agent replaces the default.
	if _, err := local(Config{UserAgent: "ops-desk/2 (+mailto:ops@example.org)"}).Fetch(context.Background(), srv.URL, Validators{}); err != nil {
		t.Fatal(err)
	}
	if ua := last().Get("User-Agent"); ua != "ops-desk/2 (+mailto:ops@example.org)" {
		t.Errorf("configured User-Agent not sent: %q", ua)
	}
}

// TestPerFeedHeaders: a feed's headers override the fetcher's and add their
// own; the validators and gzip stay the fetcher's.
func TestPerFeedHeaders(t *testing.T) {
	srv, last := recorder(t)
	f := local(Config{})
	hdr := http.Header{}
	hdr.Set("User-Agent", "Mozilla/5.0 (compatible; tensionwatch; +https://github.com/tensionwatch/tensionwatch)")
	hdr.Set("Accept-Language", "ja")
	res, err := f.FetchRequest(context.Background(), Request{URL: srv.URL, Header: hdr, Validators: Validators{ETag: `"x"`}})
	if err != nil {
		t.Fatal(err)
	}
	h := last()
	if got := h.Values("User-Agent"); len(got) != 1 || got[0] != hdr.Get("User-Agent") {
		t.Errorf("User-Agent %q, want only the feed's %q", got, hdr.Get("User-Agent"))
	}
	if h.Get("Accept-Language") != "ja" || h.Get("If-None-Match") != `"x"` || h.Get("Accept-Encoding") != "gzip" {
		t.Errorf("headers sent: %v", h)
	}
	if len(res.Items) != 7 {
		t.Errorf("%d items", len(res.Items))
	}

	for _, name := range []string{"host", "Connection", "Transfer-Encoding", "Accept-Encoding", "If-Modified-Since", "content-length"} {
		bad := http.Header{name: {"x"}}
		_, err := f.FetchRequest(context.Background(), Request{URL: srv.URL, Header: bad})
		if err == nil || !strings.Contains(err.Error(), "may not be set per feed") {
			t.Errorf("header %s: err = %v, want a refusal", name, err)
		}
	}
	for _, name := range []string{"User-Agent", "Accept", "Referer", "Cookie", "Accept-Language"} {
		if why := ReservedHeader(name); why != "" {
			t.Errorf("ReservedHeader(%s) = %q, want allowed", name, why)
		}
	}
}

// TestStatusKeptOnBodyErrors: "not a feed" and "too large" keep the 2xx
// status that carried them and still unwrap to their sentinel errors.
func TestStatusKeptOnBodyErrors(t *testing.T) {
	srv := fileServer(t, "text/html")
	_, err := local(Config{}).Fetch(context.Background(), srv.URL+"/html-page.html", Validators{})
	var be *BodyError
	if !errors.As(err, &be) || be.StatusCode != 200 || !errors.Is(err, ErrParse) || Reason(err) != "not_a_feed" {
		t.Errorf("HTML page: err = %v (%T)", err, err)
	}
	_, err = local(Config{MaxBodyBytes: 100}).Fetch(context.Background(), srv.URL+"/rss2.xml", Validators{})
	if !errors.As(err, &be) || be.StatusCode != 200 || Reason(err) != "too_large" {
		t.Errorf("over the cap: err = %v", err)
	}
}

// TestRedirectAndChallenge: a moved feed reports where it answered from; a
// Cloudflare challenge is told apart from a plain 403.
func TestRedirectAndChallenge(t *testing.T) {
	feeds := fileServer(t, "application/xml")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, feeds.URL+"/rss2.xml", http.StatusMovedPermanently)
		case "/challenge":
			w.Header().Set("Cf-Mitigated", "challenge")
			w.WriteHeader(http.StatusForbidden)
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer srv.Close()
	f := local(Config{})
	res, err := f.Fetch(context.Background(), srv.URL+"/old", Validators{})
	if err != nil || res.FinalURL != feeds.URL+"/rss2.xml" {
		t.Fatalf("redirect: %v, final URL %q", err, res.FinalURL)
	}
	var he *HTTPError
	if _, err := f.Fetch(context.Background(), srv.URL+"/challenge", Validators{}); !errors.As(err, &he) || he.StatusCode != 403 || !he.Challenge {
		t.Errorf("challenge: %v (%+v)", err, he)
	}
	if _, err := f.Fetch(context.Background(), srv.URL+"/plain", Validators{}); !errors.As(err, &he) || he.StatusCode != 403 || he.Challenge {
		t.Errorf("plain 403: %v (%+v)", err, he)
	}
}
