package replay

import (
	"math"
	"time"
)

// DefaultSpeed is --replay.speed's default: an hour of the crisis a
// minute. The first day of a crisis then plays in 24 minutes and a
// ten-day window in four hours; an item of a busy news feed arrives every
// few seconds, slow enough to follow on the page, and a 15-second
// Prometheus scrape still sees every quarter of an hour of the crisis.
const DefaultSpeed = 60

// Clock re-times a replay: the item published at T0 is sent at Start, and
// one published at t at Start + (t − T0) / Speed. Speed 0 keeps the
// original dates and sends everything at Start.
type Clock struct {
	T0, Start time.Time
	Speed     float64
}

// At is when an item published at t is sent, and the time it is dated.
func (c Clock) At(t time.Time) time.Time {
	if c.Speed <= 0 {
		return c.Start
	}
	return c.Start.Add(time.Duration(float64(t.Sub(c.T0)) / c.Speed))
}

// Reached is the original time the replay has reached at wall time now:
// T0 + (now − Start) × Speed (T0 when Speed is 0).
func (c Clock) Reached(now time.Time) time.Time {
	if c.Speed <= 0 || now.Before(c.Start) {
		return c.T0
	}
	d := float64(now.Sub(c.Start)) * c.Speed
	if d >= math.MaxInt64 {
		return c.T0.Add(math.MaxInt64)
	}
	return c.T0.Add(time.Duration(d))
}

// DefaultMaxGap is the longest stretch without items a replay plays as it
// was: a day. Feeds of a busy newsroom are never silent that long; the
// months between two crisis windows of one folder are, and are skipped.
const DefaultMaxGap = 24 * time.Hour

// Gap is a stretch without items longer than the maximum, skipped.
type Gap struct {
	Before  int           // index of the item after the gap
	Skipped time.Duration // its original length
}

// SkipGaps returns the time each item is replayed at, before re-timing:
// its own, less the excess of every earlier gap longer than maxGap; and
// those gaps.
func SkipGaps(items []Item, maxGap time.Duration) ([]time.Time, []Gap) {
	out := make([]time.Time, len(items))
	var gaps []Gap
	var shift time.Duration
	for i, it := range items {
		if i > 0 {
			if d := it.Time.Sub(items[i-1].Time); d > maxGap {
				shift += d - maxGap
				gaps = append(gaps, Gap{Before: i, Skipped: d})
			}
		}
		out[i] = it.Time.Add(-shift)
	}
	return out, gaps
}
