// Package probetest serves feeds for testing "collector probe": one of each
// kind of feed the probe must tell apart.
package probetest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type item struct {
	title string
	age   time.Duration
}

func rss(now time.Time, items ...item) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title><link>https://news.example/</link><description>d</description>`)
	for i, it := range items {
		fmt.Fprintf(&b, "<item><title>%s</title><link>https://news.example/%d</link><guid>g%d</guid><pubDate>%s</pubDate></item>",
			it.title, i, i, now.Add(-it.age).Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// NewServer starts a server of test feeds, closed when the test ends; their
// items are dated from now. It serves a good English feed (/good), a Korean
// one (/korean), one whose items are Japanese (/japanese), a stale one
// (/stale, 92 days), an empty one (/empty), an HTML page (/html), a 403
// (/forbidden), a Cloudflare challenge (/challenge), a 404 (/missing), one
// that answers only a "Mozilla/5.0 (compatible; …)" User-Agent (/picky),
// and one that has moved to /good (/old-address).
func NewServer(t testing.TB, now time.Time) *httptest.Server {
	t.Helper()
	good := rss(now,
		item{"PLA aircraft cross Taiwan Strait median line as China begins drills", 2 * time.Hour},
		item{"China Coast Guard fires water cannon at Philippine vessel near Second Thomas Shoal", 5 * time.Hour},
		item{"Tokyo stock market closes higher on the back of exporters", 7 * time.Hour},
		item{"The best ramen shops to visit this autumn in the city", 30 * time.Hour},
	)
	korean := rss(now,
		item{"북한, 동해상으로 탄도미사일 발사…합참 \"추가 도발 대비\"", 1 * time.Hour},
		item{"한미 연합훈련 시작…북한 반발 예상", 3 * time.Hour},
		item{"서울 아파트값 상승세 이어져", 4 * time.Hour},
	)
	japanese := rss(now,
		item{"北朝鮮が弾道ミサイルを発射 日本のEEZ外に落下か", 1 * time.Hour},
		item{"防衛省 中国海軍の艦艇が沖縄本島と宮古島の間を通過と発表", 2 * time.Hour},
	)
	stale := rss(now, item{"Satellite imagery shows new construction on Mischief Reef", 92 * 24 * time.Hour})
	mux := http.NewServeMux()
	serve := func(path, body string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
			w.Write([]byte(body))
		})
	}
	serve("/good", good)
	serve("/korean", korean)
	serve("/japanese", japanese)
	serve("/stale", stale)
	serve("/empty", rss(now))
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><html><head><title>News</title></head><body><p>Our feeds moved.</p></body></html>"))
	})
	mux.HandleFunc("/forbidden", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	mux.HandleFunc("/challenge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cf-Mitigated", "challenge")
		w.WriteHeader(http.StatusForbidden)
	})
	mux.HandleFunc("/picky", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("User-Agent"), "Mozilla/5.0 (compatible;") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Write([]byte(good))
	})
	mux.HandleFunc("/old-address", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/good", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// FeedsFile is a feeds file for NewServer's feeds at base.
func FeedsFile(base string) string {
	return fmt.Sprintf(`allow_private_addresses: true
feeds:
  - {id: good, url: "%[1]s/good", source: A, kind: news, lang: en}
  - {id: korean, url: "%[1]s/korean", source: B, kind: news, lang: ko}
  - {id: mislabelled, url: "%[1]s/japanese", source: C, kind: news, lang: ko}
  - {id: stale, url: "%[1]s/stale", source: D, kind: think_tank, lang: en}
  - {id: empty, url: "%[1]s/empty", source: E, kind: news, lang: en}
  - {id: html, url: "%[1]s/html", source: F, kind: news, lang: en}
  - {id: blocked, url: "%[1]s/forbidden", source: G, kind: news, lang: en}
  - {id: challenged, url: "%[1]s/challenge", source: H, kind: news, lang: en}
  - {id: gone, url: "%[1]s/missing", source: I, kind: news, lang: en}
  - {id: picky, url: "%[1]s/picky", source: J, kind: news, lang: en, headers: {User-Agent: "Mozilla/5.0 (compatible; tensionwatch; +https://github.com/tensionwatch/tensionwatch)"}}
  - {id: moved, url: "%[1]s/old-address", source: K, kind: news, lang: en}
`, base)
}
