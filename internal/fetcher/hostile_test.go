package fetcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/testtool"
)

// TestSharedFeedCorpus fetches every file of ../shared/data/feeds (gofeed's
// test data, feedparser's ill-formed and encoding sets, real-world captures)
// from an httptest server: each either parses or fails with a named reason;
// none panics or hangs.
func TestSharedFeedCorpus(t *testing.T) {
	root := testtool.SharedData(t, "feeds") // fails under CI when absent
	var files []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "rumca-js") && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/"))))
	}))
	defer srv.Close()
	f := New(Config{AllowPrivate: true, Timeout: 10 * time.Second, PerHostConcurrency: 8})
	reasons := map[string]int{}
	parsed, items := 0, 0
	for _, p := range files {
		rel, _ := filepath.Rel(root, p)
		res, err := f.Fetch(context.Background(), srv.URL+"/"+filepath.ToSlash(rel), Validators{})
		if err != nil {
			r := Reason(err)
			if r == "other" || err.Error() == "" {
				t.Errorf("%s: error without a named reason: %v", rel, err)
			}
			reasons[r]++
			continue
		}
		parsed++
		items += len(res.Items)
	}
	var rs []string
	for r, n := range reasons {
		rs = append(rs, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(rs)
	got := fmt.Sprintf("%d files: %d parsed (%d items), failures by reason: %s", len(files), parsed, items, strings.Join(rs, ", "))
	// The corpus is fixed: any change in what parses is a change to look at.
	if want := "1211 files: 1172 parsed (469 items), failures by reason: not_a_feed 39"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestGzipBombIsCapped(t *testing.T) {
	// 100 MiB of zeros, gzipped to 100 KiB (testdata/zeros-100MiB.gz); the
	// cap applies to what is decompressed, so the fetch stops at
	// MaxBodyBytes.
	bomb, err := os.ReadFile("testdata/zeros-100MiB.gz")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(bomb)
	}))
	defer srv.Close()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = local(Config{MaxBodyBytes: 10 << 20}).Fetch(context.Background(), srv.URL, Validators{})
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || Reason(err) != "too_large" {
		t.Fatalf("err = %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 200<<20 {
		t.Errorf("a gzip bomb made the fetch allocate %d MiB", grew>>20)
	}
}

// TestHugeFeedWithinMemoryBound parses a 100,000-item feed and bounds the
// heap it needs: gofeed holds the whole document, so the bound is a multiple
// of the body, which MaxBodyBytes caps (10 MiB by default).
func TestHugeFeedWithinMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>big</title><link>http://x/</link><description>d</description>`)
	for i := range 100000 {
		fmt.Fprintf(&b, `<item><title>PLA drills near Taiwan, item %d</title><link>https://x.example/%d</link><guid>g%d</guid><description>China's navy sent ships.</description></item>`, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	body := b.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
	defer srv.Close()

	// With the default cap the fetch stops at 10 MiB, whatever the feed's size.
	if _, err := local(Config{}).Fetch(context.Background(), srv.URL, Validators{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a %d MiB feed under the default 10 MiB cap: %v", len(body)>>20, err)
	}
	// With the cap raised above it, it parses, and the heap stays within 24× the body (GC timing makes the peak vary by a third).
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	res, err := local(Config{MaxBodyBytes: 64 << 20}).Fetch(context.Background(), srv.URL, Validators{})
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 100000 {
		t.Fatalf("%d items", len(res.Items))
	}
	bound := uint64(24 * len(body)) // the test holds the body twice itself (its string and the server's copy)
	t.Logf("100,000 items, %d MiB body: peak heap in use %d MiB (bound %d MiB)", len(body)>>20, peak.Load()>>20, bound>>20)
	if peak.Load() > bound {
		t.Errorf("peak heap %d MiB over the bound %d MiB", peak.Load()>>20, bound>>20)
	}
}

func TestOneByteASecondServerTimesOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, c := range []byte(`<?xml version="1.0"?><rss version="2.0">`) {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
			w.Write([]byte{c})
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	_, err := local(Config{Timeout: 2 * time.Second}).Fetch(context.Background(), srv.URL, Validators{})
	if Reason(err) != "timeout" {
		t.Fatalf("err = %v (reason %q), want a timeout", err, Reason(err))
	}
}

func TestLocalhostNameRefused(t *testing.T) {
	srv := fileServer(t, "application/xml")
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) // resolves to loopback: refused after DNS
	_, err := New(Config{}).Fetch(context.Background(), url+"/rss2.xml", Validators{})
	if Reason(err) != "private_address" {
		t.Fatalf("err = %v", err)
	}
}
