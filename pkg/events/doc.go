// Package events is tensionwatch's one importable contract: the Event model,
// its versioned JSON wire format, and the event taxonomy (types, regions,
// paper sections, index parameters, incident classes and the classifier's
// rules as data). It does no I/O beyond what its callers hand it; the
// classification engine is internal/classify.
//
// # Wire format v1
//
// Every event travels through Kafka as one message:
//
//	key:     the event ID (32 lowercase hex characters, see [ID])
//	value:   the event as a JSON object, UTF-8, with "v": 1 and "rev": 1
//	headers: "schema" = "tensionwatch.event.v1"
//	time:    when the collector fetched the item (the scorer replays by it)
//
// The value's fields:
//
//	v               int     wire-format version, always 1 for this layout
//	rev             int     revision of v1 (see below); absent in revision 0
//	id              string  stable ID: hex(sha256(feed_id + "\x00" + GUID))[:32], or, for an item
//	                        without a GUID, hex(sha256(canonical link))[:32] (links are global)
//	source          object  {feed_id, outlet, kind: news|think_tank|government, credibility: 0..1}
//	link            string  the item's link
//	title           string  plain text, HTML removed
//	summary         string  plain text, HTML removed, clipped to 2000 bytes
//	language        string  BCP 47 tag from the feed, "" if unknown
//	published       string  RFC 3339; the fetch time when the feed gives none
//	fetched         string  RFC 3339
//	classification  object  {relevant, type, region, section, also[], confidence 0..1,
//	                         magnitude{aircraft, ships, missiles, live_fire, exercise}, severe,
//	                         signals[] (optional), class (optional),
//	                         actor (optional), target (optional),
//	                         evidence[{rule, field, match, start, end, weight}]}
//
// A scorer reads signals to pick an event's class; an event without them
// scores at its type's level.
//
// # Revisions of v1
//
// A revision adds optional fields only, so every v1 reader reads every
// revision: an older reader ignores the fields it does not know, and this
// package reads an older revision's event with those fields empty.
//
//   - revision 0 (no "rev"): the layout above without actor and target;
//     signals and class were added to it as optional fields (methodology
//     2026.11-4): the taxonomy's named facts found in the text and the
//     incident class they select;
//   - revision 1 (methodology 2026.11-9): classification.actor and
//     classification.target, the sides (the taxonomy's `sides`: "prc",
//     "us", "taiwan", …) that acted and that the act was aimed at, "" when
//     the text names none; a target needs an actor. An event without them
//     scores as before and is in no dyad and no chain.
//
// Decoders reject a value whose "v" is not 1, so a future v2 cannot be read as
// v1 by mistake. Unknown fields are ignored, so adding an optional field does
// not need a new version; removing or changing the meaning of one does.
package events
