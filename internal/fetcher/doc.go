// Package fetcher fetches one feed politely and returns its items as plain
// text: conditional GET (If-None-Match / If-Modified-Since), a timeout, a
// body-size cap, a per-host concurrency limit, refusal of private addresses
// checked at connect time (so redirects and DNS tricks are covered), and the
// encoding recipe that avoids double decoding. Parsing is gofeed's Parse on
// the body this package read itself; never gofeed's ParseURL.
package fetcher
