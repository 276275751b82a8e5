// Package classifycmd is `collector classify`: JSON lines in, the same lines
// with the classification added out, or a person-readable explanation. It is
// the contract analysts and the evaluation use, so its fields stay stable.
package classifycmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil {
			return fmt.Errorf("line %d: not a JSON object: %w", n, err)
		}
		var title, summary string
		if raw, ok := obj["title"]; !ok || json.Unmarshal(raw, &title) != nil {
			return fmt.Errorf("line %d: needs a string field \"title\"", n)
		}
		if raw, ok := obj["summary"]; ok && json.Unmarshal(raw, &summary) != nil {
			return fmt.Errorf("line %d: \"summary\" must be a string", n)
		}
		cls := c.Classify(title, summary)
		if explain {
			writeExplanation(w, n, title, summary, cls)
		} else {
			if err := writeLine(w, obj, cls); err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
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

func writeLine(w io.Writer, obj map[string]json.RawMessage, c events.Classification) error {
	set := func(k string, v any) {
		b, _ := json.Marshal(v)
		obj[k] = b
	}
	set("relevant", c.Relevant)
	set("type", nullable(c.Type))
	set("region", nullable(c.Region))
	set("section", nullable(c.Section))
	set("also", c.Also)
	set("confidence", c.Confidence)
	set("magnitude", c.Magnitude)
	set("severe", c.Severe)
	set("signals", c.Signals)
	set("class", nullable(c.Class))
	set("evidence", c.Evidence)
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
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
