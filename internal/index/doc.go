// Package index computes the tension index: a pure, deterministic function of
// the events it holds and the time it is evaluated at. It does no I/O and
// reads no clock, so a restarted scorer that holds the same events reports
// the same numbers. METHODOLOGY.md at the repository root explains the
// formula with a worked example (TestWorkedExample keeps the two in step);
// every parameter below is in the index section of pkg/events/taxonomy.yaml.
//
// An event happens, for the index, at EventTime: its publication time, or
// its fetch time when the feed dates it later than that. Reports are grouped
// into incidents (see cluster.go). For an incident I at time now:
//
//	score(I) = max over its reports e of weight(type) × magnitude(e) × credibility(e) × confidence(e)
//	           × 0.5^(age(e) / half_life(type))
//	           × (1 + corroboration × log2(distinct outlets))
//	magnitude(e) = min(magnitude_cap, 1 + log2(1 + (aircraft+ships+missiles)/10) + 0.5·live_fire)
//
// A report dated after now does not exist yet at now and counts nothing, so
// that evaluating at a past time (/api/v1/index?at=, the history, the
// backtest) sees what was known then.
//
// For a region or a paper section S (an event's classification section, or
// its type's default section):
//
//	raw(S)   = esc(S) − min(de(S), max_deescalation × esc(S))
//	gauge(S) = 100 × (1 − exp(−(raw(S)/scale)^shape))
//
// where esc sums the escalatory incidents' scores and de the de-escalatory
// ones. The East Asia gauge takes the hottest region's raw plus
// other_regions × the sum of the other regions' raws (east_asia itself is
// one of the regions), so background spread over seven regions does not
// add up to a crisis. Values are rounded to 2 decimals, raws and scores to
// 4, so that the same events print the same numbers on every run.
//
// Every region and section of the taxonomy is present in a Snapshot, at 0
// when nothing contributes. Add ignores duplicate IDs (delivery is
// at-least-once) and irrelevant events; Prune forgets events older than
// Cutoff but remembers their IDs for one more window.
package index
