// Package replay sends dated news items of the past through the live
// pipeline, re-timed to now, so that the gauge shows a real crisis unfolding
// without the Internet: for newcomers, training and demonstrations
// (tensionwatch --replay).
//
// Load reads JSON lines of {date, source, url, title, summary, lang} (the
// crisis windows and headline files of ../shared/data) and RSS-Link-Database
// daily captures ({"entries": [...]} or a bare list of {source, link, title,
// description, date_published}), from files or folders, into one stream in
// time order. Nothing is dropped silently: undecodable records and records
// without a usable date are counted and reported with their file:line.
//
// Run classifies each item with the collector's classifier and publishes
// the relevant ones as v1 events. A Clock maps the first item's time to the
// start of the replay and the rest at Speed times real time; each event is
// dated the moment it is sent, so it falls inside the scoring window. With
// Speed 0 the items keep their original dates and go out at once; those
// older than the scorer's window are then reported, since the scorer
// counts but does not score them.
//
// Health is the replay seen as one feed, always fetched, for the collector
// heartbeat (internal/app.RunHeartbeat): the scorer does not read NO DATA
// while a replay is its only source.
package replay
