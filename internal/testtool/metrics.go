package testtool

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics is a /metrics page parsed with the exposition-format parser:
// each sample's value by its name and labels.
type Metrics struct {
	families map[string]*dto.MetricFamily
}

// ParseMetrics parses a text exposition, failing the test on a syntax
// error (which a substring search would not notice).
func ParseMetrics(t testing.TB, r io.Reader) Metrics {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return Metrics{fams}
}

// ScrapeMetrics GETs url (a /metrics page) and parses it.
func ScrapeMetrics(t testing.TB, url string) Metrics {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return ParseMetrics(t, resp.Body)
}

// Value returns the value of the sample of name with exactly the labels
// given as name, value pairs (a counter's, gauge's or untyped value; a
// histogram's or summary's sample count), and whether it exists.
func (m Metrics) Value(name string, labels ...string) (float64, bool) {
	fam, ok := m.families[name]
	if !ok {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, s := range fam.GetMetric() {
		if len(s.GetLabel()) != len(want) {
			continue
		}
		match := true
		for _, l := range s.GetLabel() {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		switch {
		case s.Counter != nil:
			return s.GetCounter().GetValue(), true
		case s.Gauge != nil:
			return s.GetGauge().GetValue(), true
		case s.Untyped != nil:
			return s.GetUntyped().GetValue(), true
		case s.Histogram != nil:
			return float64(s.GetHistogram().GetSampleCount()), true
		case s.Summary != nil:
			return float64(s.GetSummary().GetSampleCount()), true
		}
	}
	return 0, false
}

// Series lists the label sets of name's samples, each as "k=v,k=v" sorted.
func (m Metrics) Series(name string) []string {
	var out []string
	for _, s := range m.families[name].GetMetric() {
		var ls []string
		for _, l := range s.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		sort.Strings(ls)
		out = append(out, strings.Join(ls, ","))
	}
	sort.Strings(out)
	return out
}

// Type returns name's metric type ("" if absent).
func (m Metrics) Type(name string) string {
	fam, ok := m.families[name]
	if !ok {
		return ""
	}
	return strings.ToLower(fam.GetType().String())
}
