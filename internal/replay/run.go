package replay

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Publisher writes events and returns once they are acknowledged, as the
// collector's does (bus.Producer).
type Publisher interface {
	Publish(ctx context.Context, evs []events.Event) error
}

// Classifier classifies an item by its title and summary
// (classify.Classifier, the collector's).
type Classifier interface {
	Classify(title, summary string) events.Classification
}

// FeedID is the source.feed_id of every replayed event: the page and the
// API show where an event came from. Event IDs are scoped further by the
// replay's start (see Run), so a replay never collides with a live feed's
// events nor with an earlier replay's.
const FeedID = "replay"

// Run's defaults.
const (
	DefaultProgressEvery = 5 * time.Second
	maxBatch             = 500
	retryBase            = 500 * time.Millisecond
	retryMax             = 30 * time.Second
	problemsLogged       = 10
)

// Options is what Run needs.
type Options struct {
	Classifier Classifier
	Publisher  Publisher
	// Speed is how many times faster than real time the items are sent
	// (DefaultSpeed if 0 and KeepDates is false). KeepDates sends every
	// item at once with its original date instead.
	Speed     float64
	KeepDates bool
	// Cutoff returns the oldest event time the scorer holds at now
	// (index.Cutoff); with KeepDates, older items are reported. Window is
	// the scorer's window, for the log.
	Cutoff func(now time.Time) time.Time
	Window time.Duration
	// Credibility of every replayed source (default
	// feedlist.DefaultCredibility, a general newsroom's).
	Credibility   float64
	ProgressEvery time.Duration // default DefaultProgressEvery
	// MaxGap is the longest stretch without items that is replayed as
	// it was (default DefaultMaxGap); a longer one, such as between two
	// crisis windows of one folder, is played as MaxGap.
	MaxGap time.Duration
	// Registry, if set, receives the replay's metrics
	// (tensionwatch_replay_*).
	Registry prometheus.Registerer
	Log      *slog.Logger
	Now      func() time.Time // default time.Now
}

// Summary is what a replay did.
type Summary struct {
	Items int // items to replay
	// Sent counts the items handled: classified, and the relevant ones
	// published as Events. Irrelevant items are classified out, Invalid
	// ones would make an invalid event (each is logged).
	Sent, Events, Irrelevant, Invalid int
	// TooOld counts, with KeepDates, the events older than the scorer's
	// window: published, counted, not scored.
	TooOld int
	// Reached is the original time of the last item sent.
	Reached  time.Time
	Took     time.Duration
	Complete bool
}

type metrics struct {
	items    *prometheus.CounterVec
	position prometheus.Gauge
	pending  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := promauto.With(reg)
	m := &metrics{
		items: f.NewCounterVec(prometheus.CounterOpts{
			Name: "tensionwatch_replay_items_total",
			Help: "Items of --replay sent through the pipeline, by result: event (relevant, published), irrelevant (classified out), invalid (would make an invalid event; logged).",
		}, []string{"result"}),
		position: f.NewGauge(prometheus.GaugeOpts{
			Name: "tensionwatch_replay_position_timestamp_seconds",
			Help: "Original publication time (Unix) of the last item --replay sent: how far into the crisis the replay is.",
		}),
		pending: f.NewGauge(prometheus.GaugeOpts{
			Name: "tensionwatch_replay_pending_items",
			Help: "Items of --replay still to send.",
		}),
	}
	for _, r := range []string{"event", "irrelevant", "invalid"} {
		m.items.WithLabelValues(r)
	}
	return m
}

// Run sends the items of set through the pipeline until they are all sent
// or ctx is done: each item is classified, and a relevant one is published
// as a v1 event of feed FeedID, with the outlet and link of the item. It
// logs what it will do, its progress every ProgressEvery (items sent of
// the total, the original time reached, relevant events so far) and a
// summary. A failed publish is retried with backoff, so nothing is skipped
// while Kafka is away; Run returns only when it is done or ctx is.
func Run(ctx context.Context, set *Set, o Options) Summary {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	speed := o.Speed
	if speed <= 0 {
		speed = DefaultSpeed
	}
	if o.KeepDates {
		speed = 0
	}
	every := o.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	cred := o.Credibility
	if cred <= 0 {
		cred = feedlist.DefaultCredibility
	}
	m := newMetrics(o.Registry)
	items := set.Items
	m.pending.Set(float64(len(items)))
	start := now()
	clock := Clock{T0: set.First(), Start: start, Speed: speed}
	maxGap := o.MaxGap
	if maxGap <= 0 {
		maxGap = DefaultMaxGap
	}
	virtual, gaps := SkipGaps(items, maxGap)
	// Scoping the IDs by the start keeps two replays of one file apart
	// (the second is not dropped as duplicates of the first) and apart from
	// the live feeds' events for the same links.
	scope := FeedID + "@" + start.UTC().Format(time.RFC3339Nano)
	sum := Summary{Items: len(items)}
	o.logStart(set, clock, start, virtual)
	nextGap := 0

	i := 0
	nextProgress := start.Add(every)
	progress := func(t time.Time) {
		if t.Before(nextProgress) {
			return
		}
		// The original time the clock has reached since the last item
		// sent (the last item's time across a gap that is skipped).
		reached := sum.Reached
		if i > 0 && i < len(items) {
			r := items[i-1].Time.Add(clock.Reached(t).Sub(virtual[i-1]))
			if r.After(items[i].Time) {
				r = items[i].Time
			}
			if r.After(reached) && virtual[i].Sub(virtual[i-1]) == items[i].Time.Sub(items[i-1].Time) {
				reached = r
			}
		}
		if reached.IsZero() {
			reached = set.First()
		}
		o.Log.Info("item replay progress", "sent", sum.Sent, "items", sum.Items, "replayed_to", reached.Format(time.RFC3339),
			"relevant", sum.Events, "irrelevant", sum.Irrelevant, "elapsed", t.Sub(start).Round(time.Second).String())
		for !nextProgress.After(t) {
			nextProgress = nextProgress.Add(every)
		}
	}
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	for i < len(items) && ctx.Err() == nil {
		t := now()
		if due := clock.At(virtual[i]); due.After(t) {
			wake := due
			if nextProgress.Before(wake) {
				wake = nextProgress
			}
			timer.Reset(wake.Sub(t))
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
			progress(now())
			continue
		}
		for speed > 0 && nextGap < len(gaps) && gaps[nextGap].Before == i {
			g := gaps[nextGap]
			o.Log.Info("item replay skips a gap without items", "from", items[i-1].Time.Format(time.RFC3339), "to", items[i].Time.Format(time.RFC3339),
				"gap", g.Skipped.Round(time.Second).String(), "played_as", maxGap.String())
			nextGap++
		}
		j := i
		for j < len(items) && j-i < maxBatch && !clock.At(virtual[j]).After(t) {
			j++
		}
		var evs []events.Event
		irrelevant, invalid := 0, 0
		for k := i; k < j; k++ {
			it := items[k]
			cls := o.Classifier.Classify(it.Title, it.Summary)
			if !cls.Relevant {
				irrelevant++
				continue
			}
			pub := clock.At(virtual[k])
			if o.KeepDates {
				pub = it.Time
			}
			e := events.Event{
				V:              events.WireVersion,
				ID:             events.ID(scope, it.Key(), ""),
				Source:         events.Source{FeedID: FeedID, Outlet: it.Outlet, Kind: events.KindNews, Credibility: cred},
				Link:           it.Link,
				Title:          it.Title,
				Summary:        it.Summary,
				Language:       it.Language,
				Published:      pub.UTC(),
				Fetched:        t.UTC(),
				Classification: cls,
			}
			if err := e.Validate(); err != nil {
				o.Log.Error("not replaying an item that makes an invalid event", "at", it.At, "link", it.Link, "err", err)
				invalid++
				continue
			}
			if o.KeepDates && o.Cutoff != nil && pub.Before(o.Cutoff(t)) {
				sum.TooOld++
			}
			evs = append(evs, e)
		}
		if !o.publish(ctx, evs) {
			break
		}
		sum.Sent += j - i
		sum.Events += len(evs)
		sum.Irrelevant += irrelevant
		sum.Invalid += invalid
		sum.Reached = items[j-1].Time
		m.items.WithLabelValues("event").Add(float64(len(evs)))
		m.items.WithLabelValues("irrelevant").Add(float64(irrelevant))
		m.items.WithLabelValues("invalid").Add(float64(invalid))
		m.position.Set(float64(sum.Reached.UnixNano()) / 1e9)
		m.pending.Set(float64(len(items) - j))
		i = j
		progress(now())
	}
	sum.Took = now().Sub(start)
	sum.Complete = i == len(items)
	o.logEnd(set, sum, speed)
	return sum
}

// publish publishes evs, retrying with backoff; false when ctx ended first.
func (o *Options) publish(ctx context.Context, evs []events.Event) bool {
	if len(evs) == 0 {
		return ctx.Err() == nil
	}
	wait := retryBase
	for {
		err := o.Publisher.Publish(ctx, evs)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		o.Log.Warn("producing replayed events failed; retrying", "events", len(evs), "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}

func (o *Options) logStart(set *Set, c Clock, start time.Time, virtual []time.Time) {
	log := o.Log
	for _, kp := range []struct {
		kind string
		ps   []Problem
	}{{"undated", set.Undated}, {"unreadable", set.Bad}} {
		k, ps := kp.kind, kp.ps
		for i, p := range ps {
			if i == problemsLogged {
				log.Warn("more records not replayed", "kind", k, "more", len(ps)-problemsLogged)
				break
			}
			log.Warn("record not replayed", "kind", k, "at", p.At, "reason", p.Reason)
		}
	}
	args := []any{"items", len(set.Items), "files", set.Files, "records", set.Records,
		"undated", len(set.Undated), "unreadable", len(set.Bad), "duplicates", set.Duplicates,
		"from", set.First().Format(time.RFC3339), "to", set.Last().Format(time.RFC3339)}
	if c.Speed == 0 {
		log.Info("item replay started: items keep their original dates and are sent at once", args...)
		if o.Cutoff == nil {
			return
		}
		cutoff := o.Cutoff(start)
		old := 0
		for _, it := range set.Items {
			if it.Time.Before(cutoff) {
				old++
			}
		}
		if old > 0 {
			log.Warn("items older than the scorer's window: their events are counted but not scored (the gauge ignores them); give --replay.speed to re-time them to now",
				"items", old, "of", len(set.Items), "window", o.Window.String(), "cutoff", cutoff.Format(time.RFC3339))
		}
		return
	}
	end := c.At(virtual[len(virtual)-1])
	args = append(args, "speed", c.Speed, "plays_for", end.Sub(start).Round(time.Second).String(), "ends_at", end.Format(time.RFC3339))
	log.Info("item replay started: each item is dated the moment it is sent", args...)
}

func (o *Options) logEnd(set *Set, sum Summary, speed float64) {
	args := []any{"sent", sum.Sent, "items", sum.Items, "relevant", sum.Events, "irrelevant", sum.Irrelevant, "invalid", sum.Invalid,
		"undated", len(set.Undated), "unreadable", len(set.Bad), "duplicates", set.Duplicates,
		"speed", speed, "took", sum.Took.Round(time.Millisecond).String()}
	if !sum.Reached.IsZero() {
		args = append(args, "replayed_to", sum.Reached.Format(time.RFC3339))
	}
	if !sum.Complete {
		o.Log.Info("item replay stopped before its end", args...)
		return
	}
	if sum.TooOld > 0 {
		o.Log.Warn("replayed events older than the scorer's window were counted but not scored", "events", sum.TooOld, "of", sum.Events, "window", o.Window.String())
	}
	o.Log.Info("item replay finished; the page keeps serving what it showed", args...)
}
