package index

import (
	"math"
	"sort"
	"time"
)

// zscores returns each region's robust z-score at now: how far its gauge
// stands from its own trailing baseline, in robust standard deviations,
//
//	z = (value − median(samples)) / max(1.4826 × MAD(samples), baseline_min_spread)
//
// where the samples are the region's gauge at every baseline_step over the
// last baseline_window. Routine activity that happens every day (coast guard
// ships near the Senkakus) raises the median with it and so reads near 0; an
// excess over the routine reads high. The caller holds ix.cmu.
func (ix *Index) zscores(incidents []*Incident, now time.Time, current map[string]*acc) map[string]float64 {
	spec := ix.tx.Index
	k := int(spec.BaselineWindow / spec.BaselineStep)
	anchor := now.Truncate(spec.BaselineStep)
	times := make([]time.Time, k)
	for i := range times {
		times[i] = anchor.Add(-time.Duration(i+1) * spec.BaselineStep)
	}
	// The samples are whole steps, cached until the region's incidents at
	// or before them change: a snapshot computes one new step an hour, not
	// k, and a late event recomputes only its region's steps after it.
	out := map[string]float64{}
	samples := make([]float64, k)
	for _, r := range ix.tx.Regions {
		id := r.ID
		for i, t := range times {
			samples[i] = ix.regionAt(incidents, t, id)
		}
		v := ix.Gauge(values(current[id].esc), values(current[id].de))
		med := median(samples)
		dev := make([]float64, k)
		for i, x := range samples {
			dev[i] = math.Abs(x - med)
		}
		spread := math.Max(1.4826*median(dev), spec.BaselineMinSpread)
		out[id] = round((v-med)/spread, 2)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
