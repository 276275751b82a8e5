package index

import (
	"sort"
	"testing"
	"time"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// The benchmarks below feed the index realistic traffic (see stream):
// stories told by several outlets over hours or days, spread over weeks,
// most reports fetched within half an hour, some hours or days late. They
// use only Add, Prune and Snapshot, so the same file measures an older
// index for comparison (BENCHMARKS.md).

// BenchmarkSnapshot28d computes the snapshot of 10,000 events spread over 28
// days: "cached" is what the scorer's refresher pays each interval (the
// baseline's steps cached), "cold" the first snapshot after a day's prune
// (every step recomputed), "top5" the cached one with each number's five
// largest incidents (/api/v1/index).
func BenchmarkSnapshot28d(b *testing.B) {
	ix := New(events.DefaultTaxonomy())
	evs := stream(11, 10000, 28*24*time.Hour, 72*time.Hour)
	for _, e := range evs {
		ix.Add(e)
	}
	now := t0.Add(time.Hour)
	ix.Prune(now)
	ix.Snapshot(now, 0)
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			ix.Snapshot(now, 0)
		}
	})
	b.Run("top5", func(b *testing.B) {
		for b.Loop() {
			ix.Snapshot(now, 5)
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			forgetSteps(ix)
			ix.Snapshot(now, 0)
		}
	})
}

// BenchmarkArrival40k delivers 40,000 events over 28 days as a live scorer
// sees them: the first 36,000 untimed, then 4,000 each followed by a prune
// and a snapshot (at 40,000 events in 28 days, about one a minute, every
// arrival gets its own refresh). "in_order" delivers every event the moment
// it happens; "late" delivers the same events in the order they were
// fetched, 80 % within half an hour, 15 % up to 6 hours and 5 % up to 3
// days late (pessimistic); "typical" 95 %, 4.5 % and 0.5 %. It reports the
// cost per timed event.
func BenchmarkArrival40k(b *testing.B) {
	late := stream(12, 40000, 28*24*time.Hour, 72*time.Hour)
	typ := streamLate(12, 40000, 28*24*time.Hour, 72*time.Hour, typical)
	inOrder := make([]events.Event, len(late))
	copy(inOrder, late)
	for i := range inOrder {
		inOrder[i].Fetched = inOrder[i].Published
	}
	sort.SliceStable(inOrder, func(i, j int) bool { return eventLess(inOrder[i], inOrder[j]) })
	const warm = 36000
	for _, c := range []struct {
		name string
		evs  []events.Event
	}{{"in_order", inOrder}, {"late", late}, {"typical", typ}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ix := New(events.DefaultTaxonomy())
				for i, e := range c.evs[:warm] {
					ix.Add(e)
					if i%100 == 99 {
						ix.Prune(e.Fetched)
						ix.Snapshot(e.Fetched, 0)
					}
				}
				b.StartTimer()
				for _, e := range c.evs[warm:] {
					ix.Add(e)
					ix.Prune(e.Fetched)
					ix.Snapshot(e.Fetched, 0)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(len(c.evs)-warm)), "ns/event")
		})
	}
}

// BenchmarkReplayDays replays events as a restarted scorer or the backtest
// does, pruning and computing the numbers at every simulated hour: 30 days
// (nothing leaves the window) against 120 days (a prune at every day
// boundary), at the same density of news, each "as_fetched" (in the order
// the reports were fetched, pessimistic lateness) and "in_order" (the same
// reports, each fetched when it happened). It reports the cost per event.
func BenchmarkReplayDays(b *testing.B) {
	for _, days := range []int{30, 120} {
		late := stream(13, 330*days, time.Duration(days)*24*time.Hour, 72*time.Hour)
		inOrder := make([]events.Event, len(late))
		copy(inOrder, late)
		for i := range inOrder {
			inOrder[i].Fetched = inOrder[i].Published
		}
		sort.SliceStable(inOrder, func(i, j int) bool { return eventLess(inOrder[i], inOrder[j]) })
		for _, c := range []struct {
			name string
			evs  []events.Event
		}{{"as_fetched", late}, {"in_order", inOrder}} {
			b.Run(time.Duration(days*24*int(time.Hour)).String()+"/"+c.name, func(b *testing.B) {
				evs := c.evs
				for b.Loop() {
					ix := New(events.DefaultTaxonomy())
					next := evs[0].Fetched.Truncate(time.Hour).Add(time.Hour)
					for _, e := range evs {
						for e.Fetched.After(next) {
							ix.Prune(next)
							ix.SnapshotNumbers(next)
							next = next.Add(time.Hour)
						}
						ix.Add(e)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
			})
		}
	}
}
