package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// WireVersion is the version of the JSON layout this package writes and reads.
const WireVersion = 1

// WireRevision is the revision of wire v1 this package writes: revisions
// add optional fields only, so every v1 reader reads every revision (an
// older one ignores the fields it does not know), and this package reads
// every revision (a field an older writer did not set is empty). Revision
// 0 (no "rev") is the first layout, with signals and class; revision 1
// adds classification.actor and classification.target.
const WireRevision = 1

// SchemaHeader is the Kafka header key, and SchemaV1 its value, that name the
// wire format of a message.
const (
	SchemaHeader = "schema"
	SchemaV1     = "tensionwatch.event.v1"
)

// Source kinds.
const (
	KindNews       = "news"
	KindThinkTank  = "think_tank"
	KindGovernment = "government"
)

// Event is one classified feed item.
type Event struct {
	V              int            `json:"v"`
	Rev            int            `json:"rev,omitempty"`
	ID             string         `json:"id"`
	Source         Source         `json:"source"`
	Link           string         `json:"link"`
	Title          string         `json:"title"`
	Summary        string         `json:"summary"`
	Language       string         `json:"language"`
	Published      time.Time      `json:"published"`
	Fetched        time.Time      `json:"fetched"`
	Classification Classification `json:"classification"`
}

// Source says where an event came from and how far to trust it.
type Source struct {
	FeedID      string  `json:"feed_id"`
	Outlet      string  `json:"outlet"`
	Kind        string  `json:"kind"`
	Credibility float64 `json:"credibility"`
}

// Classification is the classifier's verdict on an item.
type Classification struct {
	Relevant   bool      `json:"relevant"`
	Type       string    `json:"type,omitempty"`
	Region     string    `json:"region,omitempty"`
	Section    string    `json:"section,omitempty"`
	Also       []string  `json:"also"`
	Confidence float64   `json:"confidence"`
	Magnitude  Magnitude `json:"magnitude"`
	// Severe marks an event that should page at once on its own (a
	// missile over Japan, live fire or a blockade around Taiwan): rules.severe.
	Severe bool `json:"severe,omitempty"`
	// Signals are the taxonomy's named facts found in the text
	// ("encirclement", "over_japan"), sorted; Class is the incident class
	// they, the type, region and magnitude select (the type's ID when no
	// class applies). Both were added to wire v1 as optional fields: an
	// event without them scores at its type's level.
	Signals []string `json:"signals,omitempty"`
	Class   string   `json:"class,omitempty"`
	// Actor and Target are the sides (the taxonomy's `sides`) that acted
	// and that the act was aimed at, "" when the text names none (wire v1
	// revision 1; an older event has neither, and belongs to no dyad).
	// The evidence shows the words ("actor:prc", "target:taiwan").
	Actor    string     `json:"actor,omitempty"`
	Target   string     `json:"target,omitempty"`
	Evidence []Evidence `json:"evidence"`
}

// Magnitude holds the counts the text states (0 when it states none).
type Magnitude struct {
	Aircraft int  `json:"aircraft,omitempty"`
	Ships    int  `json:"ships,omitempty"`
	Missiles int  `json:"missiles,omitempty"`
	LiveFire bool `json:"live_fire,omitempty"`
	// Exercise is the name of a named exercise the text mentions
	// ("Joint Sword-2024A", "Balikatan"), as written.
	Exercise string `json:"exercise,omitempty"`
}

// Evidence records which rule matched which words, and where.
type Evidence struct {
	Rule  string `json:"rule"`  // e.g. "type:military_exercise", "context:military_actor", "region:taiwan_strait"
	Field string `json:"field"` // "title" or "summary"
	Match string `json:"match"` // the matched text as it appears in the field
	Start int    `json:"start"` // byte offset in the field
	End   int    `json:"end"`   // byte offset just past the match
	// Weight, for the learned model's evidence ("model:relevant"), is the
	// words' contribution to the log-odds of relevance; for "model:type:…"
	// (the model chose the type; no field or words), the model's
	// probability of that type.
	Weight float64 `json:"weight,omitempty"`
}

// ID returns the stable event ID of an item of the feed feedID: the first 32
// hex characters of the SHA-256 of feedID, a NUL byte and the item's GUID, or,
// when the GUID is empty, of its canonical link alone. A GUID is unique only
// within its feed (two feeds may both number their items "1"), so it is
// scoped by the feed; a link is global, so an item without a GUID carried by
// two feeds is one event. The same item therefore gets the same ID on every
// poll, restart and replica.
func ID(feedID, guid, link string) string {
	var key string
	if g := strings.TrimSpace(guid); g != "" {
		key = feedID + "\x00" + g
	} else {
		key = CanonicalLink(link)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// CanonicalLink normalises a link so that trivially different spellings of the
// same URL (host case, default ports, fragments, tracking parameters) map to
// one string. An unparseable link is returned trimmed.
func CanonicalLink(link string) string {
	link = strings.TrimSpace(link)
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return link
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if (u.Scheme == "http" && strings.HasSuffix(u.Host, ":80")) || (u.Scheme == "https" && strings.HasSuffix(u.Host, ":443")) {
		u.Host = u.Host[:strings.LastIndexByte(u.Host, ':')]
	}
	u.Fragment = ""
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "utm_") || lk == "at_medium" || lk == "at_campaign" || lk == "cmp" {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Marshal encodes e in wire format v1, revision WireRevision. It sets V and
// Rev and fails on an event that would not decode.
func Marshal(e Event) ([]byte, error) {
	e.V, e.Rev = WireVersion, WireRevision
	if e.Classification.Also == nil {
		e.Classification.Also = []string{}
	}
	if e.Classification.Evidence == nil {
		e.Classification.Evidence = []Evidence{}
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(e)
}

// ErrVersion is returned by Unmarshal for a value of another wire version.
var ErrVersion = errors.New("events: unsupported wire version")

// Unmarshal decodes and validates one wire-format value.
func Unmarshal(b []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return Event{}, fmt.Errorf("events: decoding: %w", err)
	}
	if e.V != WireVersion {
		return Event{}, fmt.Errorf("%w %d (want %d)", ErrVersion, e.V, WireVersion)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// Validate checks the invariants every v1 event holds.
func (e Event) Validate() error {
	switch {
	case len(e.ID) != 32 || strings.Trim(e.ID, "0123456789abcdef") != "":
		return fmt.Errorf("events: invalid id %q: want 32 lowercase hex characters", e.ID)
	case e.Source.FeedID == "":
		return errors.New("events: source.feed_id is empty")
	case e.Source.Credibility < 0 || e.Source.Credibility > 1:
		return fmt.Errorf("events: source.credibility %v out of [0,1]", e.Source.Credibility)
	case e.Classification.Confidence < 0 || e.Classification.Confidence > 1:
		return fmt.Errorf("events: classification.confidence %v out of [0,1]", e.Classification.Confidence)
	case e.Published.IsZero() || e.Fetched.IsZero():
		return errors.New("events: published and fetched times are required")
	case e.Classification.Relevant && (e.Classification.Type == "" || e.Classification.Region == ""):
		return errors.New("events: a relevant event needs a type and a region")
	case e.Rev < 0:
		return fmt.Errorf("events: invalid rev %d", e.Rev)
	case e.Classification.Target != "" && e.Classification.Actor == "":
		return errors.New("events: classification.target without an actor")
	}
	return nil
}
