package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/backtest"
)

// pathList is a repeatable flag.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(v string) error { *p = append(*p, v); return nil }

func runBacktest(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scorer backtest", flag.ContinueOnError)
	app.Usage(fs, stderr, "scorer backtest --items FILE|DIR [--items ...] --out index.csv [flags] [FILE|DIR ...]",
		"Replays dated items through classify → cluster → score on simulated time and writes the\n"+
			"gauge and every sub-index, one row per --step, as CSV with the header\n"+
			"time,index,<each region>,<each paper section>. Items are JSON lines of\n"+
			"{date, source, url, title, summary} or RSS-Link-Database JSON captures; folders are\n"+
			"read recursively. The same input gives the same output, byte for byte.")
	var items pathList
	fs.Var(&items, "items", "file or folder of items (repeatable; extra arguments are items too)")
	out := fs.String("out", "", "CSV file to write (required)")
	step := fs.Duration("step", time.Hour, "simulated time between rows")
	plotPath := fs.String("plot", "", "also draw the gauge and a region's sub-index to this PNG")
	region := fs.String("plot.region", "taiwan_strait", "region drawn and compared with --mnd")
	mndPath := fs.String("mnd", "", "Taiwan MND daily PLA counts (date,pla_aircraft,...) to draw and correlate with")
	cred := fs.Float64("credibility", 0.7, "credibility given to every item's source")
	var tc app.TaxonomyConfig
	tc.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	items = append(items, fs.Args()...)
	if len(items) == 0 || *out == "" {
		return errors.New("--items and --out are required")
	}
	if *step <= 0 {
		return errors.New("--step must be positive")
	}
	tx, clf, err := tc.Load()
	if err != nil {
		return err
	}
	col := -1
	for i, r := range tx.Regions {
		if r.ID == *region {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("--plot.region: unknown region %q", *region)
	}
	start := time.Now()
	all, skipped, err := backtest.ReadItems(items)
	if err != nil {
		return err
	}
	evs := backtest.Events(all, clf, *cred)
	if len(evs) == 0 {
		return backtest.ErrNoEvents
	}
	rows := backtest.Replay(tx, evs, *step)
	took := time.Since(start)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := backtest.WriteCSV(f, tx, rows); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "items %d (skipped %d), relevant events %d, rows %d, %s to %s; replay took %s (%.0f items/s)\n",
		len(all), skipped, len(evs), len(rows), rows[0].Time.Format(time.RFC3339), rows[len(rows)-1].Time.Format(time.RFC3339),
		took.Round(time.Millisecond), float64(len(all))/took.Seconds())
	daily := backtest.DailyMax(rows, col)
	var mnd map[time.Time]float64
	if *mndPath != "" {
		if mnd, err = backtest.ReadMND(*mndPath); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%-10s  %-8s  %-8s  %s\n", "day", "index", *region, "MND aircraft")
	gauge := backtest.DailyMax(rows, -1)
	var xs, ys []float64
	for i, d := range daily {
		m := "-"
		if v, ok := mnd[d.Day]; ok {
			m = fmt.Sprint(v)
			xs, ys = append(xs, d.Value), append(ys, v)
		}
		fmt.Fprintf(stdout, "%s  %8.2f  %8.2f  %s\n", d.Day.Format("2006-01-02"), gauge[i].Value, d.Value, m)
	}
	if len(xs) >= 2 {
		fmt.Fprintf(stdout, "Spearman rank correlation, daily %s peak vs MND aircraft, %d days: %.3f\n", *region, len(xs), backtest.Spearman(xs, ys))
	}
	if *plotPath != "" {
		title := fmt.Sprintf("tensionwatch backtest, methodology %s", tx.Version)
		if err := backtest.Plot(*plotPath, title, rows, col, *region, mnd); err != nil {
			return err
		}
	}
	return nil
}
