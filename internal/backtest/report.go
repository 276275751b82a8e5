package backtest

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"time"
)

// Daily is one day of a series.
type Daily struct {
	Day   time.Time
	Value float64
}

// DailyMax returns, for each UTC day, the highest value of column col of
// rows (col < 0: the East Asia index; otherwise a region index).
func DailyMax(rows []Row, col int) []Daily {
	var out []Daily
	for _, r := range rows {
		v := r.Index
		if col >= 0 {
			v = r.Regions[col]
		}
		d := r.Time.UTC().Truncate(24 * time.Hour)
		if n := len(out); n > 0 && out[n-1].Day.Equal(d) {
			out[n-1].Value = math.Max(out[n-1].Value, v)
			continue
		}
		out = append(out, Daily{Day: d, Value: v})
	}
	return out
}

// ReadMND reads Taiwan MND daily PLA aircraft counts
// (date,pla_aircraft,pla_vessels), keyed by day.
func ReadMND(path string) (map[time.Time]float64, error) {
	return ReadSeries(path, "date", "pla_aircraft")
}

// ReadGPR reads the Caldara–Iacoviello daily geopolitical risk index
// (date,GPRD,...), keyed by day.
func ReadGPR(path string) (map[time.Time]float64, error) {
	return ReadSeries(path, "date", "GPRD")
}

// ReadSeries reads a daily series from a CSV file with a header: the
// column named value, keyed by the day in the column named date
// (2006-01-02). Rows whose day or value do not parse are skipped.
func ReadSeries(path, date, value string) (map[time.Time]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("backtest: %s: %w", path, err)
	}
	di, vi := -1, -1
	for i, h := range head {
		switch h {
		case date:
			di = i
		case value:
			vi = i
		}
	}
	if di < 0 || vi < 0 {
		return nil, fmt.Errorf("backtest: %s: want columns %s and %s, got %v", path, date, value, head)
	}
	out := map[time.Time]float64{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("backtest: %s: %w", path, err)
		}
		d, err1 := time.Parse("2006-01-02", rec[di])
		v, err2 := strconv.ParseFloat(rec[vi], 64)
		if err1 == nil && err2 == nil {
			out[d] = v
		}
	}
}

// Correlate returns the Spearman rank correlation of a daily series with
// another over the days both have, and the number of those days.
func Correlate(daily []Daily, other map[time.Time]float64) (rho float64, days int) {
	var xs, ys []float64
	for _, d := range daily {
		if v, ok := other[d.Day]; ok {
			xs, ys = append(xs, d.Value), append(ys, v)
		}
	}
	return Spearman(xs, ys), len(xs)
}

// Spearman returns the rank correlation of paired samples.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) || len(x) < 2 {
		return math.NaN()
	}
	rx, ry := ranks(x), ranks(y)
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	mx /= float64(len(rx))
	my /= float64(len(ry))
	var sxy, sxx, syy float64
	for i := range rx {
		sxy += (rx[i] - mx) * (ry[i] - my)
		sxx += (rx[i] - mx) * (rx[i] - mx)
		syy += (ry[i] - my) * (ry[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// ranks gives average ranks (1-based) with ties shared.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}
