package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tensionwatch/tensionwatch/internal/version"
)

// Config configures a Fetcher. Zero values take the defaults.
type Config struct {
	UserAgent          string        // default DefaultUserAgent(); a Request's Header may override it
	Timeout            time.Duration // whole request, body included; default 30s
	MaxBodyBytes       int64         // default 10 MiB
	AllowPrivate       bool          // allow loopback/private/link-local targets
	MaxRedirects       int           // default 5
	PerHostConcurrency int           // default 2
	// MaxConcurrent limits the fetches in flight across all hosts (request,
	// body and parse); default 16. It bounds the collector's memory and
	// sockets whatever the number of feeds.
	MaxConcurrent int
}

// DefaultMaxConcurrent is the default of Config.MaxConcurrent.
const DefaultMaxConcurrent = 16

// ProjectURL is the address the User-Agent names, where a site's operator
// finds out what is polling their feed and whom to ask to stop.
const ProjectURL = "https://github.com/tensionwatch/tensionwatch"

// DefaultUserAgent is the User-Agent sent unless Config.UserAgent or a
// feed's headers say otherwise: the product, its version and a URL,
// "tensionwatch/v1.2.3 (+https://github.com/tensionwatch/tensionwatch)".
func DefaultUserAgent() string {
	return "tensionwatch/" + version.String() + " (+" + ProjectURL + ")"
}

// Accept is the Accept header of every request: feed types first, then
// any XML, then anything (a feed served as text/html still parses).
const Accept = "application/rss+xml, application/atom+xml, application/feed+json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"

// Request is one fetch: the feed's address, the validators of its last
// response (conditional GET) and the feed's own request headers, which
// override the fetcher's (User-Agent, Accept) but may not name a header
// the fetcher or the transport manages (see ReservedHeader).
type Request struct {
	URL        string
	Validators Validators
	Header     http.Header
}

// Validators are the conditional-GET validators of a feed's last response.
type Validators struct {
	ETag         string
	LastModified string
}

// Result is the outcome of one successful fetch.
type Result struct {
	NotModified  bool
	Validators   Validators
	Items        []Item
	StatusCode   int
	Bytes        int64 // the body's size, decompressed
	FeedLanguage string
	// FinalURL is the address that answered, after redirects; it differs
	// from the requested one when the feed has moved.
	FinalURL string
}

// Item is one feed entry, normalised to plain text.
type Item struct {
	GUID       string
	Link       string
	Title      string
	Summary    string
	Language   string
	Published  time.Time // zero when the feed gives no date
	Categories []string
}

// HTTPError is a non-2xx, non-304 answer.
type HTTPError struct {
	StatusCode int
	RetryAfter time.Duration // from the Retry-After header, 0 if absent
	// Challenge is set when the answer is a bot challenge (Cloudflare's
	// "cf-mitigated: challenge"): the site wants a browser running its
	// script, which no request header can stand in for.
	Challenge bool
}

func (e *HTTPError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("fetcher: HTTP %d %s (retry after %s)", e.StatusCode, http.StatusText(e.StatusCode), e.RetryAfter)
	}
	return fmt.Sprintf("fetcher: HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// BodyError is an error with the body of a 2xx answer: too large or not a
// feed. It keeps the status, and unwraps to ErrTooLarge or ErrParse.
type BodyError struct {
	StatusCode int
	Err        error
}

func (e *BodyError) Error() string { return e.Err.Error() }
func (e *BodyError) Unwrap() error { return e.Err }

// Errors a fetch can end with, besides *HTTPError and network errors.
var (
	ErrTooLarge       = errors.New("fetcher: body exceeds the size cap")
	ErrPrivateAddress = errors.New("fetcher: refusing to connect to private address")
	ErrParse          = errors.New("fetcher: not a parseable feed")
)

// Fetcher fetches feeds. It is safe for concurrent use.
type Fetcher struct {
	cfg    Config
	client *http.Client
	all    chan struct{} // one token per fetch in flight, MaxConcurrent in all
	mu     sync.Mutex
	hosts  map[string]chan struct{}
}

// New returns a Fetcher.
func New(cfg Config) *Fetcher {
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 10 << 20
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = 5
	}
	if cfg.PerHostConcurrency <= 0 {
		cfg.PerHostConcurrency = 2
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = refusePrivate
	}
	// The transport asks for gzip itself (Accept-Encoding: gzip) and
	// decompresses transparently, so MaxBodyBytes caps the decompressed
	// body and a gzip bomb stops at the cap. Setting Accept-Encoding by
	// hand would switch that off; ReservedHeader forbids it.
	tr := &http.Transport{
		DisableCompression:    false,
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   cfg.PerHostConcurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	max := cfg.MaxRedirects
	return &Fetcher{
		cfg:   cfg,
		all:   make(chan struct{}, cfg.MaxConcurrent),
		hosts: map[string]chan struct{}{},
		client: &http.Client{
			Transport: tr,
			Timeout:   cfg.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > max {
					return fmt.Errorf("fetcher: stopped after %d redirects", max)
				}
				return nil
			},
		},
	}
}

// refusePrivate runs at connect time, after DNS resolution, for every
// connection including those of redirects.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || IsPrivateIP(ip) {
		return fmt.Errorf("%w %s", ErrPrivateAddress, host)
	}
	return nil
}

var cgnat = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// IsPrivateIP reports whether ip is one the fetcher refuses unless private
// addresses are allowed: loopback, private, link-local, CGNAT, multicast or
// unspecified.
func IsPrivateIP(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip)
}

func (f *Fetcher) hostSlot(host string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.hosts[host]
	if !ok {
		s = make(chan struct{}, f.cfg.PerHostConcurrency)
		f.hosts[host] = s
	}
	return s
}

// Fetch fetches and parses the feed at rawURL, sending v as conditional
// validators. A 304 is a Result with NotModified set.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string, v Validators) (*Result, error) {
	return f.FetchRequest(ctx, Request{URL: rawURL, Validators: v})
}

// ReservedHeader returns why a request header may not be set per feed, or
// "" when it may: the connection's own headers (hop-by-hop ones, Host,
// Content-Length) belong to the transport, Accept-Encoding to the
// transport's transparent gzip (which keeps the body cap on decompressed
// bytes), and the conditional-GET validators to the fetcher. name is
// matched case-insensitively.
func ReservedHeader(name string) string {
	switch http.CanonicalHeaderKey(name) {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Trailers", "Transfer-Encoding", "Upgrade":
		return "a hop-by-hop header, which belongs to the connection"
	case "Host", "Content-Length":
		return "set by the HTTP client from the URL and the request"
	case "Accept-Encoding":
		return "the fetcher asks for gzip itself and decompresses it within the body cap"
	case "If-None-Match", "If-Modified-Since":
		return "the fetcher sends the conditional-GET validators itself"
	}
	return ""
}

// FetchRequest fetches and parses the feed r names, with r's validators
// and headers. A 304 is a Result with NotModified set.
func (f *Fetcher) FetchRequest(ctx context.Context, r Request) (*Result, error) {
	rawURL, v := r.URL, r.Validators
	for name := range r.Header {
		if why := ReservedHeader(name); why != "" {
			return nil, fmt.Errorf("fetcher: header %s may not be set per feed: %s", http.CanonicalHeaderKey(name), why)
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("fetcher: invalid feed URL %q", rawURL)
	}
	// The host's slot first, then the global one: a fetch waiting for a
	// busy host holds no global slot that fetches of other hosts could use.
	slot := f.hostSlot(u.Host)
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-slot }()
	select {
	case f.all <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.all }()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetcher: %w", err)
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", Accept)
	for name, values := range r.Header {
		req.Header[http.CanonicalHeaderKey(name)] = values
	}
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		return nil, fmt.Errorf("fetcher: GET %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	res := &Result{StatusCode: resp.StatusCode, FinalURL: resp.Request.URL.String()}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		res.NotModified = true
		res.Validators = v
		return res, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &HTTPError{StatusCode: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Challenge: strings.EqualFold(resp.Header.Get("Cf-Mitigated"), "challenge")}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBodyBytes+1))
	res.Bytes = int64(len(body))
	if err != nil {
		return nil, fmt.Errorf("fetcher: reading %s: %w", u.Redacted(), err)
	}
	if int64(len(body)) > f.cfg.MaxBodyBytes {
		return nil, &BodyError{StatusCode: resp.StatusCode, Err: fmt.Errorf("%w (%d bytes)", ErrTooLarge, f.cfg.MaxBodyBytes)}
	}
	feed, err := Parse(body, resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, &BodyError{StatusCode: resp.StatusCode, Err: err}
	}
	res.Validators = Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	res.FeedLanguage = feed.Language
	res.Items = normalise(feed)
	return res, nil
}

// ParseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Parse decodes a feed document. contentType is the HTTP Content-Type, whose
// charset is used only when the document declares no encoding itself.
func Parse(body []byte, contentType string) (*gofeed.Feed, error) {
	doc, err := toParseable(body, contentType)
	if err != nil {
		return nil, err
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	if !complete(doc) {
		// gofeed's lenient decoder returns the items before a cut; a feed
		// cut in transfer must fail whole and be fetched again.
		return nil, fmt.Errorf("%w: truncated document (no closing root element)", ErrParse)
	}
	return feed, nil
}

var closingRoot = regexp.MustCompile(`(?i)</\s*(rss|feed|rdf:rdf|rdf)\s*>\s*$`)

// complete reports whether a feed document ends as a whole one does: with
// the closing tag of its root element, or the closing brace of a JSON Feed.
func complete(doc []byte) bool {
	t := bytes.TrimRight(doc, " \t\r\n\x00")
	if len(t) > 0 && t[len(t)-1] == '}' {
		return true
	}
	tail := t[max(0, len(t)-64):]
	return closingRoot.Match(tail)
}
