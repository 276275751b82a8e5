// Package probe fetches each feed of a feeds file once and reports what an
// operator needs to trust the list: the HTTP status, the items, the age of
// the newest, the language the items are written in against the one
// declared, the share the classifier calls relevant, and the problems, each
// with what to do. It is "collector probe".
package probe
