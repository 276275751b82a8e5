// Package classifycmd is `collector classify`: JSON lines in, the same lines
// with the classification added out, or a person-readable explanation. It is
// the contract analysts and the evaluation use, so its fields stay stable.
package classifycmd

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/tensionwatch/tensionwatch/internal/classify"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// MaxLine is the longest input line accepted.
const MaxLine = 4 << 20

// Run classifies every line of in. Each line is a JSON object with at least
// "title" and "summary"; its other fields pass through untouched. A bad line
// stops the run with an error naming it, after the lines before it were
// written.
func Run(ctx context.Context, c *classify.Classifier, in io.Reader, out io.Writer, explain bool) error {
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriter(out)
	defer w.Flush()
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := readLine(r)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if strings.TrimSpace(string(line)) == "" {
			continue
		}
		var p probe
		if err := json.Unmarshal(line, &p); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				return fmt.Errorf("line %d: %q must be a string", n, te.Field)
			}
			return fmt.Errorf("line %d: not a JSON object: %w", n, err)
		}
		if p.Title == nil {
			return fmt.Errorf("line %d: needs a string field \"title\"", n)
		}
		summary := ""
		if p.Summary != nil {
			summary = *p.Summary
		}
		cls := c.Classify(*p.Title, summary)
		if explain {
			writeExplanation(w, n, *p.Title, summary, cls)
		} else if err := writeLine(w, line, p.hasOutputKey(), cls); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if err != nil { // io.EOF after a last line without newline
			return nil
		}
	}
}

func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		line = append(line, chunk...)
		if len(line) > MaxLine {
			return nil, fmt.Errorf("longer than %d bytes", MaxLine)
		}
		if err != nil || !isPrefix {
			return line, err
		}
	}
}

// probe reads what classifying a line needs: its title and summary, and
// whether it already has any of the fields the classification writes.
// Decoding into it skips every other field without building it.
type probe struct {
	Title   *string `json:"title"`
	Summary *string `json:"summary"`
	// The output fields, if the input has them already.
	Relevant, Type, Region, Section, Also, Confidence, Magnitude, Severe, Signals, Class, Evidence json.RawMessage
}

func (p *probe) hasOutputKey() bool {
	for _, v := range [...]json.RawMessage{p.Relevant, p.Type, p.Region, p.Section, p.Also, p.Confidence, p.Magnitude,
		p.Severe, p.Signals, p.Class, p.Evidence} {
		if v != nil {
			return true
		}
	}
	return false
}

// output is the classification's fields, in the order they are written.
type output struct {
	Relevant   bool              `json:"relevant"`
	Type       *string           `json:"type"`
	Region     *string           `json:"region"`
	Section    *string           `json:"section"`
	Also       []string          `json:"also"`
	Confidence float64           `json:"confidence"`
	Magnitude  events.Magnitude  `json:"magnitude"`
	Severe     bool              `json:"severe"`
	Signals    []string          `json:"signals"`
	Class      *string           `json:"class"`
	Actor      *string           `json:"actor"`
	Target     *string           `json:"target"`
	Evidence   []events.Evidence `json:"evidence"`
}

// writeLine writes the input line with the classification's fields added:
// the input's bytes stay as they were, and the fields follow them inside
// the object. A line that has some of those fields already is re-encoded
// with them replaced (keys sorted).
func writeLine(w io.Writer, line []byte, replace bool, c events.Classification) error {
	o := output{Relevant: c.Relevant, Type: nullable(c.Type), Region: nullable(c.Region), Section: nullable(c.Section),
		Also: c.Also, Confidence: c.Confidence, Magnitude: c.Magnitude, Severe: c.Severe, Signals: c.Signals,
		Class: nullable(c.Class), Actor: nullable(c.Actor), Target: nullable(c.Target), Evidence: c.Evidence}
	fields, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if replace {
		var obj, add map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil {
			return err
		}
		json.Unmarshal(fields, &add)
		maps.Copy(obj, add)
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	body := bytes.TrimRight(line, " \t\r\n")
	body = body[:len(body)-1] // the closing brace
	if len(bytes.TrimSpace(body)) > 1 {
		body = append(body, ',')
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	_, err = w.Write(append(fields[1:], '\n'))
	return err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func writeExplanation(w io.Writer, n int, title, summary string, c events.Classification) {
	fmt.Fprintf(w, "#%d %s\n", n, title)
	if c.Relevant {
		fmt.Fprintf(w, "   RELEVANT  type=%s region=%s section=%s class=%s confidence=%.2f", c.Type, c.Region, c.Section, c.Class, c.Confidence)
		if c.Severe {
			fmt.Fprint(w, " SEVERE")
		}
		if len(c.Also) > 0 {
			fmt.Fprintf(w, " also=%s", strings.Join(c.Also, ","))
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "   NOT RELEVANT  %s\n", whyNot(c))
	}
	m := c.Magnitude
	if m.Aircraft+m.Ships+m.Missiles > 0 || m.LiveFire {
		fmt.Fprintf(w, "   magnitude: aircraft=%d ships=%d missiles=%d live_fire=%v\n", m.Aircraft, m.Ships, m.Missiles, m.LiveFire)
	}
	if len(c.Signals) > 0 {
		fmt.Fprintf(w, "   signals: %s\n", strings.Join(c.Signals, ", "))
	}
	if c.Actor != "" {
		fmt.Fprintf(w, "   sides: %s → %s\n", c.Actor, cmp.Or(c.Target, "(none named)"))
	}
	for _, e := range c.Evidence {
		fmt.Fprintf(w, "   %-30s %-7s [%d:%d] %q\n", e.Rule, e.Field, e.Start, e.End, e.Match)
	}
	fmt.Fprintln(w)
}

func whyNot(c events.Classification) string {
	var trig, anchor, off bool
	for _, e := range c.Evidence {
		switch {
		case strings.HasPrefix(e.Rule, "type:"):
			trig = true
		case e.Rule == "anchor" || strings.HasPrefix(e.Rule, "region:"):
			anchor = true
		case e.Rule == "offtopic" && e.Field == "title":
			off = true
		}
	}
	switch {
	case !trig:
		return "(no event trigger, or only ambiguous ones without the context they need)"
	case !anchor:
		return "(no East Asian actor or place)"
	case off:
		return "(the title is about another theatre)"
	}
	return ""
}
