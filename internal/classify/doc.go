// Package classify decides whether a news item is an East Asian security
// event, and which type, region, incident class and magnitude it has.
//
// The rules of the taxonomy (events.Rules) compile once into a phrase
// matcher over a numbered vocabulary, so classifying costs one map look-up
// per word and is linear in the text. A classification records, as
// evidence, every rule that matched and the words it matched, so that each
// decision can be explained (`collector classify --explain`).
package classify
