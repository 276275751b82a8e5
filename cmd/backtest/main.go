// Command backtest replays dated news items through classify, cluster and
// score on simulated time: the index's calibration and regression tool. It
// is a command of its own so that the production scorer does not link the
// plotting stack.
//
//	backtest --items FILE|DIR [...] --out index.csv [--plot x.png] [--feeds A,B] [--explain TIME]
//	backtest --windows testdata/windows.yaml [--data ../shared/data] [--subsets 20]
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/backtest"
	"github.com/tensionwatch/tensionwatch/internal/index"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// pathList is a repeatable flag.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(v string) error { *p = append(*p, v); return nil }

type options struct {
	items              pathList
	out, plot, region  string
	mnd, gpr           string
	feeds, explain     string
	step               time.Duration
	cred               float64
	windows, data      string
	subsets, minSubset int
	plotDir            string
	tc                 app.TaxonomyConfig
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	app.Usage(fs, stderr, "backtest --items FILE|DIR [--items ...] --out index.csv [flags] [FILE|DIR ...]\n"+
		"       backtest --windows FILE [--data DIR] [--subsets N] [--plot.dir DIR]",
		"Replays dated items through classify → cluster → score on simulated time and writes the\n"+
			"gauge and every sub-index, one row per --step, as CSV with the header\n"+
			"time,index,<each region>,<each paper section>,<each dyad>,longest_live_chain.\n"+
			"--explain TIME prints the incidents behind every number at TIME, who acted toward\n"+
			"whom, what each answers, the dyads and the action–reaction chains. Items are JSON lines of\n"+
			"{date, source, url, title, summary} or RSS-Link-Database JSON captures; folders are\n"+
			"read recursively. The same input gives the same output, byte for byte.\n\n"+
			"With --windows, replays every crisis window of the file (see testdata/windows.yaml),\n"+
			"checks its targets, replays it with subsets of its feeds, prints the tables of\n"+
			"METHODOLOGY.md and exits 1 if a target is missed.")
	var o options
	fs.Var(&o.items, "items", "file or folder of items (repeatable; extra arguments are items too)")
	fs.StringVar(&o.out, "out", "", "CSV file to write (required with --items)")
	fs.DurationVar(&o.step, "step", time.Hour, "simulated time between rows")
	fs.StringVar(&o.plot, "plot", "", "also draw the gauge and a region's sub-index to this PNG")
	fs.StringVar(&o.region, "plot.region", "taiwan_strait", "region drawn and compared with --mnd")
	fs.StringVar(&o.mnd, "mnd", "", "Taiwan MND daily PLA counts (date,pla_aircraft,...) to draw and correlate with")
	fs.StringVar(&o.gpr, "gpr", "", "daily geopolitical risk index (date,GPRD,...) to correlate the gauge with")
	fs.Float64Var(&o.cred, "credibility", backtest.DefaultCredibility, "credibility given to every item's source")
	fs.StringVar(&o.feeds, "feeds", "", "keep only the items of these feeds (comma-separated sources, as the feeds line of the output names them)")
	fs.StringVar(&o.explain, "explain", "", "print the incidents behind every number, the dyads and the chains at this time (RFC 3339)")
	fs.StringVar(&o.windows, "windows", "", "evaluate the crisis windows of this file instead of --items")
	fs.StringVar(&o.data, "data", filepath.Join("..", "shared", "data"), "with --windows: the directory window items are relative to")
	fs.IntVar(&o.subsets, "subsets", 20, "with --windows: the most feed subsets to replay each window with")
	fs.IntVar(&o.minSubset, "subsets.min", 3, "with --windows: the fewest feeds in a subset")
	fs.StringVar(&o.plotDir, "plot.dir", "", "with --windows: draw each window to DIR/backtest-<window>.png")
	o.tc.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.items = append(o.items, fs.Args()...)
	var err error
	switch {
	case o.windows != "" && len(o.items) > 0:
		err = usageError("give --windows or --items, not both")
	case o.windows != "":
		err = runWindows(o, stdout)
	case len(o.items) == 0 || o.out == "":
		err = usageError("--items and --out are required (or --windows)")
	case o.step <= 0:
		err = usageError("--step must be positive")
	default:
		err = runItems(o, stdout)
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "backtest: %v\n", err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "backtest: %v\n", err)
		return 1
	}
	return 0
}

type usageError string

func (e usageError) Error() string { return string(e) }

func runItems(o options, stdout io.Writer) error {
	tx, clf, err := o.tc.Load()
	if err != nil {
		return err
	}
	col := slices.IndexFunc(tx.Regions, func(r events.Region) bool { return r.ID == o.region })
	if col < 0 {
		return usageError(fmt.Sprintf("--plot.region: unknown region %q", o.region))
	}
	var at time.Time
	if o.explain != "" {
		if at, err = time.Parse(time.RFC3339, o.explain); err != nil {
			return usageError("--explain: want an RFC 3339 time such as 2023-04-08T12:00:00Z")
		}
	}
	start := time.Now()
	all, skipped, err := backtest.ReadItems(o.items)
	if err != nil {
		return err
	}
	feeds := backtest.Feeds(all)
	if o.feeds != "" {
		keep := strings.Split(o.feeds, ",")
		for _, f := range keep {
			if !slices.Contains(feeds, f) {
				return usageError(fmt.Sprintf("--feeds: no feed %q in the items (feeds: %s)", f, strings.Join(feeds, ", ")))
			}
		}
		all = backtest.KeepFeeds(all, keep)
		feeds = keep
	}
	evs := backtest.Events(all, clf, o.cred)
	if len(evs) == 0 {
		return backtest.ErrNoEvents
	}
	rows := backtest.Replay(tx, evs, o.step)
	took := time.Since(start)
	if err := writeCSV(o.out, tx, rows); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "feeds: %s\n", strings.Join(feeds, ", "))
	fmt.Fprintf(stdout, "items %d (skipped %d), relevant events %d, rows %d, %s to %s; replay took %s (%.0f items/s)\n",
		len(all), skipped, len(evs), len(rows), rows[0].Time.Format(time.RFC3339), rows[len(rows)-1].Time.Format(time.RFC3339),
		took.Round(time.Millisecond), float64(len(all))/took.Seconds())
	var mnd, gpr map[time.Time]float64
	if o.mnd != "" {
		if mnd, err = backtest.ReadMND(o.mnd); err != nil {
			return err
		}
	}
	if o.gpr != "" {
		if gpr, err = backtest.ReadGPR(o.gpr); err != nil {
			return err
		}
	}
	printDaily(stdout, rows, col, o.region, mnd, gpr)
	if !at.IsZero() {
		explain(stdout, tx, evs, at)
	}
	if o.plot != "" {
		c := backtest.Chart{Title: fmt.Sprintf("tensionwatch backtest, methodology %s", tx.Version), Rows: rows,
			RegionCol: col, RegionName: o.region, Bands: tx.Index.Bands}
		c.Daily, c.DailyLabel = dailyPanel(evs, o.region, mnd)
		if err := backtest.Plot(o.plot, c); err != nil {
			return err
		}
	}
	return nil
}

// dailyPanel is the lower panel of a chart: Taiwan MND's PLA aircraft for
// the Taiwan Strait when given, else the region's relevant reports per day.
func dailyPanel(evs []events.Event, region string, mnd map[time.Time]float64) (map[time.Time]float64, string) {
	if region == "taiwan_strait" && len(mnd) > 0 {
		return mnd, "PLA aircraft (Taiwan MND)"
	}
	return backtest.ReportsPerDay(evs, region), "relevant reports, " + region
}

func writeCSV(path string, tx *events.Taxonomy, rows []backtest.Row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := backtest.WriteCSV(f, tx, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printDaily prints each day's highest gauge and region value, with the
// external series beside them and their rank correlations.
func printDaily(w io.Writer, rows []backtest.Row, col int, region string, mnd, gpr map[time.Time]float64) {
	daily, gauge := backtest.DailyMax(rows, col), backtest.DailyMax(rows, -1)
	fmt.Fprintf(w, "%-10s  %8s  %16s  %12s  %8s\n", "day", "index", region, "MND aircraft", "GPR")
	cell := func(m map[time.Time]float64, d time.Time) string {
		if v, ok := m[d]; ok {
			return fmt.Sprintf("%.0f", v)
		}
		return "-"
	}
	for i, d := range daily {
		fmt.Fprintf(w, "%s  %8.2f  %16.2f  %12s  %8s\n", d.Day.Format(time.DateOnly), gauge[i].Value, d.Value, cell(mnd, d.Day), cell(gpr, d.Day))
	}
	if rho, n := backtest.Correlate(daily, mnd); n >= 2 {
		fmt.Fprintf(w, "Spearman rank correlation, daily %s peak vs MND aircraft, %d days: %.3f\n", region, n, rho)
	}
	if rho, n := backtest.Correlate(gauge, gpr); n >= 2 {
		fmt.Fprintf(w, "Spearman rank correlation, daily gauge peak vs GPR, %d days: %.3f\n", n, rho)
	}
}

// explain prints the incidents behind every non-zero number at a time.
func explain(w io.Writer, tx *events.Taxonomy, evs []events.Event, at time.Time) {
	ix := index.New(tx)
	for _, e := range evs {
		if !e.Published.After(at) {
			ix.Add(e)
		}
	}
	s, chains := ix.SnapshotAndChains(at, 10)
	fmt.Fprintf(w, "\nAt %s: East Asia %.2f (%s)\n", at.Format(time.RFC3339), s.Gauge.Value, s.Gauge.Band)
	for _, r := range tx.Regions {
		n := s.Regions[r.ID]
		if n.Value == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s %.2f (%s), %d incidents:\n", r.ID, n.Value, n.Band, n.Incidents)
		for _, c := range n.Top {
			sides := ""
			if c.Actor != "" {
				sides = " [" + c.Actor + " → " + cmp.Or(c.Target, "?") + "]"
			}
			fmt.Fprintf(w, "    %6.2f = %-22s %3.0f × conf %.2f (%d outlets, %d reports) %s | %s%s\n", c.Score, c.Class, c.Level,
				c.Confidence, c.Outlets, c.Reports, c.Published.Format("01-02 15:04"), c.Title, sides)
			if a := c.Answering; a != nil {
				fmt.Fprintf(w, "             ← answering %s | %s\n", a.Start.Format("01-02 15:04"), a.Title)
			}
		}
	}
	for _, d := range tx.Dyads {
		if n := s.Dyads[d.ID]; n.Value > 0 {
			fmt.Fprintf(w, "  dyad %s (%s) %.2f (%s), %d incidents\n", d.ID, d.Name, n.Value, n.Band, n.Incidents)
		}
	}
	fmt.Fprintf(w, "  chains: %d, longest live %d incidents\n", len(chains.Chains), chains.LongestLive)
	for _, c := range chains.Chains {
		var parts []string
		for i := len(c.Moves) - 1; i >= 0; i-- {
			m := c.Moves[i]
			parts = append(parts, fmt.Sprintf("%s %s→%s %s", m.Start.Format("01-02 15:04"), m.Actor, cmp.Or(m.Target, "?"), m.Title))
		}
		state := "ended"
		if c.Live {
			state = "live"
		}
		fmt.Fprintf(w, "    [%s] %s\n", state, strings.Join(parts, " ← "))
	}
}

func runWindows(o options, stdout io.Writer) error {
	tx, clf, err := o.tc.Load()
	if err != nil {
		return err
	}
	ws, err := backtest.ReadWindows(o.windows, tx)
	if err != nil {
		return err
	}
	mnd, err := backtest.ReadMND(filepath.Join(o.data, "series", "taiwan_mnd_pla_daily_2015_2026.csv"))
	if err != nil {
		return err
	}
	gpr, err := backtest.ReadGPR(filepath.Join(o.data, "series", "gpr_daily.csv"))
	if err != nil {
		return err
	}
	tsCol := slices.IndexFunc(tx.Regions, func(r events.Region) bool { return r.ID == "taiwan_strait" })
	failed := 0
	fmt.Fprintf(stdout, "| window | feeds | crisis region | first report (UTC) | first at target | region peak | gauge peak | crisis-day bands (region / gauge) | quiet days | quiet max | targets |\n")
	fmt.Fprintf(stdout, "|---|---|---|---|---|---|---|---|---|---|---|\n")
	var invLines, anchorLines []string
	var poolTS, poolGauge []backtest.Daily
	for _, w := range ws {
		items, err := w.Load(o.data)
		if err != nil {
			return err
		}
		r := backtest.Evaluate(w, tx, clf, items)
		fails := w.Failures(tx, r)
		verdict := "met"
		if len(fails) > 0 {
			verdict = "MISSED: " + strings.Join(fails, "; ")
			failed++
		}
		reached := "never"
		if !r.Reached.IsZero() {
			reached = fmt.Sprintf("+%s", r.Reached.Sub(r.FirstReport).Round(time.Minute))
		}
		var quiet []string
		for _, d := range w.QuietDays {
			quiet = append(quiet, d.Format("01-02"))
		}
		fmt.Fprintf(stdout, "| %s | %d | %s ≥ %s | %s | %s | %.1f (%s) | %.1f (%s) | %s / %s | %s | %.1f | %s |\n",
			w.Name, len(r.Feeds), w.Region, w.Target, r.FirstReport.Format("01-02 15:04"), reached,
			r.RegionPeak, r.RegionPeakAt.Format("01-02 15h"), r.GaugePeak, r.GaugePeakAt.Format("01-02 15h"),
			r.CrisisRegionBand, r.CrisisGaugeBand, strings.Join(quiet, " "), r.QuietMax, verdict)

		evs := backtest.Events(items, clf, backtest.DefaultCredibility)
		rows := backtest.Replay(tx, evs, time.Hour)
		ts, gauge := backtest.DailyMax(rows, tsCol), backtest.DailyMax(rows, -1)
		rm, nm := backtest.Correlate(ts, mnd)
		rg, ng := backtest.Correlate(gauge, gpr)
		anchorLines = append(anchorLines, fmt.Sprintf("| %s | %s (%d days) | %s (%d days) |", w.Name, rho(rm), nm, rho(rg), ng))
		if len(w.Feeds) == 0 { // a subset of another window's feeds would count its days twice
			poolTS, poolGauge = append(poolTS, ts...), append(poolGauge, gauge...)
		}
		if o.plotDir != "" {
			col := slices.IndexFunc(tx.Regions, func(x events.Region) bool { return x.ID == w.Region })
			c := backtest.Chart{Title: fmt.Sprintf("%s: %s (methodology %s)", w.Name, w.Crisis, tx.Version), Rows: rows,
				RegionCol: col, RegionName: w.Region, Bands: tx.Index.Bands, Crisis: [2]time.Time{w.CrisisDays[0].Time, w.CrisisDays[1].Time}}
			c.Daily, c.DailyLabel = dailyPanel(evs, w.Region, mnd)
			if err := backtest.Plot(filepath.Join(o.plotDir, "backtest-"+w.Name+".png"), c); err != nil {
				return err
			}
		}

		subsets := backtest.Subsets(r.Feeds, o.minSubset, o.subsets+1, 1)
		if len(subsets) < 2 {
			invLines = append(invLines, fmt.Sprintf("| %s | %d | none of %d or more feeds | | | | | | | |", w.Name, len(r.Feeds), o.minSubset))
			continue
		}
		inv := backtest.CheckInvariance(w, tx, clf, items, subsets)
		pct := func(n int) string {
			return fmt.Sprintf("%d/%d (%.0f %%)", n, inv.Runs, 100*float64(n)/float64(inv.Runs))
		}
		ok := "met"
		if 5*inv.AgreeRegion < 4*inv.Runs || 5*inv.AgreeGauge < 4*inv.Runs || inv.MaxApart > 1 {
			ok = "MISSED"
			failed++
		}
		lo, hi, latest, quietMax, withFirst, nReached := 100.0, 0.0, time.Duration(0), 0.0, 0, 0
		for _, x := range inv.Results[1:] {
			lo, hi = min(lo, x.RegionPeak), max(hi, x.RegionPeak)
			quietMax = max(quietMax, x.QuietMax)
			if !x.FirstReport.IsZero() {
				withFirst++
				if !x.Reached.IsZero() {
					nReached++
					latest = max(latest, x.Reached.Sub(x.FirstReport))
				}
			}
		}
		invLines = append(invLines, fmt.Sprintf("| %s | %d | %d | %s | %s | %d | %.1f–%.1f | %d of %d, latest +%s | %.1f | %s |", w.Name, len(r.Feeds), inv.Runs,
			pct(inv.AgreeRegion), pct(inv.AgreeGauge), inv.MaxApart, lo, hi, nReached, withFirst, latest.Round(time.Minute), quietMax, ok))
	}
	fmt.Fprintf(stdout, "\n| window | feeds | subsets | same crisis-day band, region | same crisis-day band, gauge | most bands apart | region peak (subsets) | subsets with the first report that reach the target, latest | quiet max (subsets) | invariance |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, l := range invLines {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintf(stdout, "\n| window | Spearman: daily taiwan_strait peak vs MND PLA aircraft | Spearman: daily gauge peak vs GPR (GPRD) |\n|---|---|---|\n")
	for _, l := range anchorLines {
		fmt.Fprintln(stdout, l)
	}
	rm, nm := backtest.Correlate(poolTS, mnd)
	rg, ng := backtest.Correlate(poolGauge, gpr)
	fmt.Fprintf(stdout, "| all windows (distinct days) | %s (%d days) | %s (%d days) |\n", rho(rm), nm, rho(rg), ng)
	if failed > 0 {
		return fmt.Errorf("%d window check(s) missed", failed)
	}
	return nil
}

func rho(r float64) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", r)
}
