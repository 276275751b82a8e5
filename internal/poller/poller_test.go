package poller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
)

const atom = `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id><updated>2026-11-21T12:00:00Z</updated>
<entry><title>one</title><id>urn:1</id><link href="https://x/1"/><updated>2026-11-21T12:00:00Z</updated></entry></feed>`

// server records each request's time and conditional header, and answers
// with status(i) for the i-th request (0 = serve the feed with an ETag).
type server struct {
	*httptest.Server
	mu      sync.Mutex
	times   []time.Time
	ifNone  []string
	respond func(i int, w http.ResponseWriter, r *http.Request) bool
}

func newServer(t *testing.T, respond func(i int, w http.ResponseWriter, r *http.Request) bool) *server {
	s := &server{respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		i := len(s.times)
		s.times = append(s.times, time.Now())
		s.ifNone = append(s.ifNone, r.Header.Get("If-None-Match"))
		s.mu.Unlock()
		if s.respond != nil && s.respond(i, w, r) {
			return
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, atom)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() ([]time.Time, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...), append([]string(nil), s.ifNone...)
}

func runPoller(t *testing.T, cfg Config, feeds []feedlist.Feed, h Handler) (*Metrics, context.CancelFunc, chan struct{}) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	p := New(cfg, fetcher.New(fetcher.Config{AllowPrivate: true}), feeds, h, slog.New(slog.NewTextHandler(io.Discard, nil)), m)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return m, cancel, done
}

func waitRequests(t *testing.T, s *server, n int, within time.Duration) ([]time.Time, []string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		times, inm := s.requests()
		if len(times) >= n {
			return times, inm
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests after %s, want %d", len(times), within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ok(context.Context, feedlist.Feed, *fetcher.Result) error { return nil }

func TestPollsEveryFeedAndSecondPollIs304(t *testing.T) {
	a, b := newServer(t, nil), newServer(t, nil)
	feeds := []feedlist.Feed{
		{ID: "a", URL: a.URL, Interval: 100 * time.Millisecond},
		{ID: "b", URL: b.URL, Interval: 100 * time.Millisecond},
	}
	var mu sync.Mutex
	items := map[string]int{}
	m, _, _ := runPoller(t, Config{}, feeds, func(_ context.Context, f feedlist.Feed, r *fetcher.Result) error {
		mu.Lock()
		items[f.ID] += len(r.Items)
		mu.Unlock()
		return nil
	})
	for _, s := range []*server{a, b} {
		_, inm := waitRequests(t, s, 2, 5*time.Second)
		if inm[0] != "" || inm[1] != `"v1"` {
			t.Errorf("If-None-Match of the first two polls = %q, want none then the ETag", inm[:2])
		}
	}
	mu.Lock()
	if items["a"] != 1 || items["b"] != 1 {
		t.Errorf("items handed off: %v (the 304s carry none)", items)
	}
	mu.Unlock()
	// The server has seen the second request; the poller counts it once
	// the answer is in.
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(m.polls.WithLabelValues("a", "not_modified")) < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if v := testutil.ToFloat64(m.polls.WithLabelValues("a", "not_modified")); v < 1 {
		t.Errorf("not_modified polls of a = %v", v)
	}
	if v := testutil.ToFloat64(m.up.WithLabelValues("a")); v != 1 {
		t.Errorf("feed_up{a} = %v", v)
	}
}

func TestFailingFeedBacksOffExponentially(t *testing.T) {
	s := newServer(t, func(i int, w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusInternalServerError)
		return true
	})
	m, _, _ := runPoller(t, Config{BackoffBase: 40 * time.Millisecond, Jitter: 0.01},
		[]feedlist.Feed{{ID: "f", URL: s.URL, Interval: 10 * time.Millisecond}}, ok)
	times, _ := waitRequests(t, s, 5, 10*time.Second)
	// Gaps: ~40, 80, 160, 320 ms. Each must be clearly longer than the last.
	for i := 2; i < 5; i++ {
		prev, gap := times[i-1].Sub(times[i-2]), times[i].Sub(times[i-1])
		if gap < prev*3/2 {
			t.Errorf("gap %d = %s after %s: not backing off", i, gap, prev)
		}
	}
	if v := testutil.ToFloat64(m.up.WithLabelValues("f")); v != 0 {
		t.Errorf("feed_up = %v for a failing feed", v)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s := newServer(t, func(i int, w http.ResponseWriter, r *http.Request) bool {
		if i == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	runPoller(t, Config{BackoffBase: 10 * time.Millisecond}, []feedlist.Feed{{ID: "f", URL: s.URL, Interval: 10 * time.Millisecond}}, ok)
	times, _ := waitRequests(t, s, 2, 5*time.Second)
	if gap := times[1].Sub(times[0]); gap < 950*time.Millisecond {
		t.Fatalf("polled again %s after a 429 with Retry-After: 1", gap)
	}
}

func TestValidatorsStayWhenHandlerFails(t *testing.T) {
	s := newServer(t, nil)
	var calls int
	runPoller(t, Config{BackoffBase: 20 * time.Millisecond}, []feedlist.Feed{{ID: "f", URL: s.URL, Interval: 20 * time.Millisecond}},
		func(context.Context, feedlist.Feed, *fetcher.Result) error {
			calls++
			if calls == 1 {
				return errors.New("kafka down")
			}
			return nil
		})
	_, inm := waitRequests(t, s, 3, 5*time.Second)
	if inm[1] != "" {
		t.Errorf("after a failed hand-off the next poll sent If-None-Match %q; the items would be skipped", inm[1])
	}
	if inm[2] != `"v1"` {
		t.Errorf("after a successful hand-off the poll sent If-None-Match %q", inm[2])
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	s := newServer(t, nil)
	_, cancel, done := runPoller(t, Config{}, []feedlist.Feed{{ID: "f", URL: s.URL, Interval: time.Hour}}, ok)
	waitRequests(t, s, 1, 5*time.Second)
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// TestStartOffsetsAreDeterministicAndEven: a feed's first poll comes at the
// same offset on every start; 2,000 feeds spread evenly over the spread.
func TestStartOffsetsAreDeterministicAndEven(t *testing.T) {
	const spread = 15 * time.Minute
	buckets := make([]int, 10)
	for i := range 2000 {
		id := fmt.Sprintf("feed-%d", i)
		d := StartOffset(id, spread)
		if d != StartOffset(id, spread) {
			t.Fatalf("%s: offset changes between calls", id)
		}
		if d < 0 || d >= spread {
			t.Fatalf("%s: offset %s outside [0, %s)", id, d, spread)
		}
		buckets[int(d*10/spread)]++
	}
	for i, n := range buckets {
		if n < 150 || n > 250 {
			t.Errorf("offsets in tenth %d of the spread: %d of 2000, want about 200 (%v)", i, n, buckets)
		}
	}
	if StartOffset("x", 0) != 0 {
		t.Error("no spread must mean no offset")
	}
}

// TestFirstPollsAtTheirOffsets: with SpreadInterval, each feed is first
// polled at its offset within its interval, not all at once.
func TestFirstPollsAtTheirOffsets(t *testing.T) {
	const interval = 2 * time.Second
	var mu sync.Mutex
	first := map[string]time.Time{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if _, ok := first[r.URL.Path]; !ok {
			first[r.URL.Path] = time.Now()
		}
		mu.Unlock()
		io.WriteString(w, atom)
	}))
	defer srv.Close()
	var feeds []feedlist.Feed
	for i := range 8 {
		feeds = append(feeds, feedlist.Feed{ID: fmt.Sprintf("f%d", i), URL: fmt.Sprintf("%s/f%d", srv.URL, i), Interval: interval})
	}
	start := time.Now()
	runPoller(t, Config{StartSpread: SpreadInterval, Jitter: 0.01}, feeds, ok)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(first)
		mu.Unlock()
		if n == len(feeds) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d feeds polled", n, len(feeds))
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	var offsets []time.Duration
	for _, f := range feeds {
		want := StartOffset(f.ID, interval)
		got := first["/"+f.ID].Sub(start)
		offsets = append(offsets, got)
		if got < want-50*time.Millisecond || got > want+500*time.Millisecond {
			t.Errorf("%s first polled after %s, want at its offset %s", f.ID, got.Round(time.Millisecond), want.Round(time.Millisecond))
		}
	}
	t.Logf("first polls after %v", offsets)
}

// TestSendsTheFeedsHeaders: a feed's own request headers (feeds file
// `headers:`) reach its server, and only its server.
func TestSendsTheFeedsHeaders(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	record := func(id string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[id] = r.Header.Get("User-Agent") + "|" + r.Header.Get("Accept-Language")
			mu.Unlock()
			io.WriteString(w, atom)
		}
	}
	a, b := httptest.NewServer(record("a")), httptest.NewServer(record("b"))
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	feeds := []feedlist.Feed{
		{ID: "a", URL: a.URL, Interval: time.Hour, Headers: http.Header{"User-Agent": {"Mozilla/5.0 (tensionwatch test)"}, "Accept-Language": {"ja"}}},
		{ID: "b", URL: b.URL, Interval: time.Hour},
	}
	runPoller(t, Config{}, feeds, ok)
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests after 5s: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["a"] != "Mozilla/5.0 (tensionwatch test)|ja" {
		t.Errorf("feed a sent %q, want its own User-Agent and Accept-Language", got["a"])
	}
	if !strings.HasPrefix(got["b"], "tensionwatch/") || strings.HasSuffix(got["b"], "|ja") {
		t.Errorf("feed b sent %q, want the default agent and no Accept-Language", got["b"])
	}
}
