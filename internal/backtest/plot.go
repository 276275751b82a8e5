package backtest

import (
	"fmt"
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Chart is what Plot draws: the gauge and one region's sub-index over
// time, the bands, the crisis days shaded, and below them, on the same
// time axis, a daily series (Taiwan MND's PLA aircraft, or the number of
// relevant reports).
type Chart struct {
	Title      string
	Rows       []Row
	RegionCol  int
	RegionName string
	Bands      []events.Band
	// Crisis, if set, is shaded: [first day, last day].
	Crisis [2]time.Time
	// Daily is drawn as bars in the lower panel, labelled DailyLabel.
	Daily      map[time.Time]float64
	DailyLabel string
}

// Plot draws c as a PNG at path.
func Plot(path string, c Chart) error {
	rows := c.Rows
	if len(rows) == 0 {
		return fmt.Errorf("backtest: nothing to plot")
	}
	x0, x1 := float64(rows[0].Time.Unix()), float64(rows[len(rows)-1].Time.Unix())
	top := plot.New()
	top.Title.Text = c.Title
	top.Y.Label.Text = "gauge (0-100)"
	top.Y.Min, top.Y.Max = 0, 100
	gauge, region := make(plotter.XYs, len(rows)), make(plotter.XYs, len(rows))
	for i, r := range rows {
		x := float64(r.Time.Unix())
		gauge[i] = plotter.XY{X: x, Y: r.Index}
		region[i] = plotter.XY{X: x, Y: r.Regions[c.RegionCol]}
	}
	if !c.Crisis[0].IsZero() {
		shade, err := plotter.NewPolygon(plotter.XYs{
			{X: float64(c.Crisis[0].Unix()), Y: 0}, {X: float64(c.Crisis[1].Add(24 * time.Hour).Unix()), Y: 0},
			{X: float64(c.Crisis[1].Add(24 * time.Hour).Unix()), Y: 100}, {X: float64(c.Crisis[0].Unix()), Y: 100}})
		if err != nil {
			return err
		}
		shade.Color = color.RGBA{R: 255, G: 230, B: 200, A: 255}
		shade.LineStyle.Width = 0
		top.Add(shade)
		top.Legend.Add("crisis days", shade)
	}
	top.Add(plotter.NewGrid())
	for _, b := range c.Bands[1:] {
		l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: b.Min}, {X: x1, Y: b.Min}})
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 150, G: 150, B: 150, A: 255}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		top.Add(l)
	}
	lg, err := plotter.NewLine(gauge)
	if err != nil {
		return err
	}
	lg.Color = color.RGBA{R: 60, G: 60, B: 60, A: 255}
	lg.Width = vg.Points(1.5)
	lr, err := plotter.NewLine(region)
	if err != nil {
		return err
	}
	lr.Color = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	lr.Width = vg.Points(2)
	top.Add(lg, lr)
	top.Legend.Add("East Asia gauge", lg)
	top.Legend.Add(c.RegionName+" sub-index", lr)
	top.Legend.Top, top.Legend.Left = true, true

	bottom := plot.New()
	bottom.Y.Label.Text = c.DailyLabel
	var bars plotter.XYs
	for d := rows[0].Time.Truncate(24 * time.Hour); !d.After(rows[len(rows)-1].Time); d = d.Add(24 * time.Hour) {
		if v, ok := c.Daily[d]; ok {
			bars = append(bars, plotter.XY{X: float64(d.Add(12 * time.Hour).Unix()), Y: v})
		}
	}
	bottom.Add(plotter.NewGrid())
	if len(bars) > 0 {
		s, err := plotter.NewScatter(bars)
		if err != nil {
			return err
		}
		s.GlyphStyle.Shape = draw.BoxGlyph{}
		s.GlyphStyle.Radius = vg.Points(4)
		s.GlyphStyle.Color = color.RGBA{R: 30, G: 80, B: 200, A: 255}
		bottom.Add(s)
	}
	bottom.Y.Min = 0
	// One time axis: the same range and ticks in both panels.
	for _, p := range []*plot.Plot{top, bottom} {
		p.X.Min, p.X.Max = x0, x1
		p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2", Ticker: dayTicks{}}
	}
	bottom.X.Label.Text = "UTC"

	img := vgimg.New(10*vg.Inch, 6*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])
	return savePNG(img, path)
}

// dayTicks puts a labelled tick at every UTC midnight.
type dayTicks struct{}

func (dayTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for d := time.Unix(int64(min), 0).UTC().Truncate(24 * time.Hour); float64(d.Unix()) <= max; d = d.Add(24 * time.Hour) {
		if float64(d.Unix()) >= min {
			ts = append(ts, plot.Tick{Value: float64(d.Unix()), Label: d.Format(time.RFC3339)})
		}
	}
	return ts
}

// ReportsPerDay counts the events of a region (all regions if region is
// "") per UTC day.
func ReportsPerDay(evs []events.Event, region string) map[time.Time]float64 {
	out := map[time.Time]float64{}
	for _, e := range evs {
		if region == "" || e.Classification.Region == region {
			out[e.Published.UTC().Truncate(24*time.Hour)]++
		}
	}
	return out
}
