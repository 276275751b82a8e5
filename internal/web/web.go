// Package web serves the watch page: a single page, its assets embedded in
// the binary (no CDN), that polls the scorer's JSON API.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Handler serves the page at / and its files under /assets/.
func Handler() http.Handler {
	sub, _ := fs.Sub(assets, "assets")
	files := http.FileServer(http.FS(sub))
	mux := http.NewServeMux()
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", secure(files)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := assets.ReadFile("assets/index.html")
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		setSecurity(h)
		w.Write(b)
	})
	return mux
}

func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurity(w.Header())
		h.ServeHTTP(w, r)
	})
}

// setSecurity forbids inline scripts and foreign origins: even a title that
// slipped into the DOM as markup could not run.
func setSecurity(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
