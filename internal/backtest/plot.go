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
)

// Plot draws the East Asia gauge and one region's sub-index over time and,
// below them, the daily MND PLA aircraft counts over the same days (if any),
// as a PNG at path.
func Plot(path, title string, rows []Row, regionCol int, regionName string, mnd map[time.Time]float64) error {
	if len(rows) == 0 {
		return fmt.Errorf("backtest: nothing to plot")
	}
	top := plot.New()
	top.Title.Text = title
	top.Y.Label.Text = "gauge (0-100)"
	top.Y.Min, top.Y.Max = 0, 100
	top.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2"}
	gauge, region := make(plotter.XYs, len(rows)), make(plotter.XYs, len(rows))
	for i, r := range rows {
		x := float64(r.Time.Unix())
		gauge[i] = plotter.XY{X: x, Y: r.Index}
		region[i] = plotter.XY{X: x, Y: r.Regions[regionCol]}
	}
	lg, err := plotter.NewLine(gauge)
	if err != nil {
		return err
	}
	lg.Color = color.RGBA{R: 90, G: 90, B: 90, A: 255}
	lg.Width = vg.Points(1.5)
	lr, err := plotter.NewLine(region)
	if err != nil {
		return err
	}
	lr.Color = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	lr.Width = vg.Points(2)
	top.Add(plotter.NewGrid(), lg, lr)
	top.Legend.Add("East Asia gauge", lg)
	top.Legend.Add(regionName+" sub-index", lr)
	top.Legend.Top, top.Legend.Left = true, true

	bottom := plot.New()
	bottom.Y.Label.Text = "PLA aircraft (Taiwan MND)"
	bottom.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2"}
	bottom.X.Min, bottom.X.Max = gauge[0].X, gauge[len(gauge)-1].X
	top.X.Min, top.X.Max = bottom.X.Min, bottom.X.Max
	var pts plotter.XYs
	for d := rows[0].Time.Truncate(24 * time.Hour); !d.After(rows[len(rows)-1].Time); d = d.Add(24 * time.Hour) {
		if v, ok := mnd[d]; ok {
			pts = append(pts, plotter.XY{X: float64(d.Add(12 * time.Hour).Unix()), Y: v})
		}
	}
	if len(pts) > 0 {
		bars, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		bars.GlyphStyle.Shape = draw.BoxGlyph{}
		bars.GlyphStyle.Radius = vg.Points(4)
		bars.GlyphStyle.Color = color.RGBA{R: 30, G: 80, B: 200, A: 255}
		bottom.Add(plotter.NewGrid(), bars)
		bottom.Y.Min = 0
	}

	img := vgimg.New(10*vg.Inch, 6*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])
	return savePNG(img, path)
}
