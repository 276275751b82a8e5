// Package index computes the tension index: a pure, deterministic function of
// the events it holds and the time it is evaluated at. It does no I/O and
// reads no clock, so a restarted scorer that holds the same events reports
// the same numbers. METHODOLOGY.md at the repository root explains the
// formula with a worked example (TestWorkedExample keeps the two in step);
// every parameter below is in pkg/events/taxonomy.yaml.
//
// An event happens, for the index, at EventTime: its publication time, or
// its fetch time when the feed dates it later than that. Reports are grouped
// into incidents (see cluster.go). An incident I at time now is worth
//
//	value(I) = level(I) × corroboration(outlets) × 0.5^(age / half_life(type))
//
// where level(I) is the highest level of its reports so far (a report's
// level is its incident class's, see events.Taxonomy.Level, else its
// type's), corroboration is the taxonomy's confidence for 1, 2, 3… distinct
// outlets (saturating at 1), and age runs from the report that first gave I
// its level (an act of a moment) or from its latest report of that level (an
// ongoing type: drills, visits, summits). A report dated after now does not
// exist yet at now, so that evaluating at a past time (/api/v1/index?at=,
// the history, the backtest) sees what was known then.
//
// A region keeps the strongest incident of each class and aggregates them
// strongest first, E = min(100, v₁ + a·v₂ + a²·v₃ + …); de-escalatory
// incidents, aggregated the same way, cancel at most max_deescalation of
// it. The East Asia gauge aggregates every region's per-class incidents
// (each scaled by its region's de-escalation) the same way, and a paper
// section its own without cancellation. Values are rounded to 2 decimals
// and incident scores to 4, so that the same events print the same numbers
// on every run.
//
// Every region and section of the taxonomy is present in a Snapshot, at 0
// when nothing contributes. Add ignores duplicate IDs (delivery is
// at-least-once) and irrelevant events; Prune forgets events older than
// Cutoff but remembers their IDs for one more window.
package index
