package console

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// barChart is a small bar chart drawn on the server as inline SVG: no
// script, no style attribute (the page's policy forbids both); colours
// come from the style sheet by class. Each category (a day) has one bar
// per series, side by side, or one stacked column when Stacked.
//
//	c := barChart{ID: "claims", Title: "Claims per day", Labels: days,
//		Series: []barSeries{{Name: "instant refund", Class: "s-instant", Values: counts}}}
//	svg := c.SVG()
//
// For people who do not see it, the SVG has a title and a description
// (role="img"), and every bar a title with its value; pages put the same
// numbers in a table as well.
type barChart struct {
	ID      string // unique on the page: prefixes the title's and description's ids
	Title   string
	Desc    string
	Labels  []string // one per category, left to right
	Series  []barSeries
	Stacked bool
	// Max fixes the top of the scale (100 for a share in percent); zero
	// fits the scale to the data.
	Max int64
	// Format writes a value for the axis and the bars' titles; nil writes
	// the number.
	Format func(int64) string
}

// barSeries is one kind of bar: its name, the style sheet class that
// colours it and a value per category. Values below zero count as zero:
// the charts show counts and amounts moved, which cannot be negative.
type barSeries struct {
	Name   string
	Class  string
	Values []int64
}

// The chart's geometry, in SVG user units; the SVG scales to its box.
const (
	chartWidth  = 640
	chartHeight = 220
	chartLeft   = 72 // room for the axis labels
	chartRight  = 24 // room for the last day's label
	chartTop    = 12
	chartBottom = 28 // room for the day labels
)

// chartTicks is how many equal steps divide the scale 0..top into whole
// numbers: 4 or 5 where they can, else 2, else 1.
func chartTicks(top int64) int64 {
	for _, n := range []int64{4, 5, 2} {
		if top%n == 0 {
			return n
		}
	}
	return 1
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten (at least 1), so
// the axis reads in round steps; a v so large that no such step above it
// fits in an int64 is its own top.
func niceMax(v int64) int64 {
	if v <= 1 {
		return 1
	}
	p := int64(1)
	for p <= v/10 {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if p > math.MaxInt64/m {
			break
		}
		if m*p >= v {
			return m * p
		}
	}
	return v
}

// stack adds a bar onto the ones below it. Values are never negative; a
// stack taller than int64 is drawn to the scale's top (the figures shown
// come from checked totals, never from here).
func stack(base, v int64) int64 {
	if base > math.MaxInt64-v {
		return math.MaxInt64
	}
	return base + v
}

// scaleMax is the top of the chart's scale.
func (c barChart) scaleMax() int64 {
	if c.Max > 0 {
		return c.Max
	}
	var top int64
	for i := range c.Labels {
		var sum int64
		for _, s := range c.Series {
			v := s.value(i)
			if c.Stacked {
				sum = stack(sum, v)
			} else {
				sum = max(sum, v)
			}
		}
		top = max(top, sum)
	}
	return niceMax(top)
}

func (s barSeries) value(i int) int64 {
	if i >= len(s.Values) || s.Values[i] < 0 {
		return 0
	}
	return s.Values[i]
}

func (c barChart) format(v int64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return strconv.FormatInt(v, 10)
}

// svgNum writes a coordinate with one decimal.
func svgNum(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// SVG renders the chart.
func (c barChart) SVG() template.HTML {
	var b strings.Builder
	esc := html.EscapeString
	top := c.scaleMax()
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	base := float64(chartTop) + plotH
	y := func(v int64) float64 { return base - plotH*float64(min(v, top))/float64(top) }

	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" aria-labelledby="%s-title %s-desc" data-max="%d">`,
		chartWidth, chartHeight, esc(c.ID), esc(c.ID), top)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))

	// The scale: gridlines with their values, in even steps.
	ticks := chartTicks(top)
	b.WriteString(`<g class="axis">`)
	for i := int64(0); i <= ticks; i++ {
		v := top / ticks * i
		yy := y(v)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s"></line>`, chartLeft, chartWidth-chartRight, svgNum(yy), svgNum(yy))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end">%s</text>`, chartLeft-6, svgNum(yy+4), esc(c.format(v)))
	}
	b.WriteString(`</g>`)

	n := len(c.Labels)
	if n == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%s" y="%s" text-anchor="middle">No data for this period</text></svg>`,
			svgNum(chartLeft+plotW/2), svgNum(chartTop+plotH/2))
		return template.HTML(b.String())
	}
	slot := plotW / float64(n)
	gap := slot * 0.15
	bars := 1
	if !c.Stacked && len(c.Series) > 0 {
		bars = len(c.Series)
	}
	barW := (slot - 2*gap) / float64(bars)
	b.WriteString(`<g class="bars">`)
	for i, label := range c.Labels {
		x0 := float64(chartLeft) + slot*float64(i) + gap
		stackBase := int64(0)
		for si, s := range c.Series {
			v := s.value(i)
			var x, yTop, yBottom float64
			if c.Stacked {
				x, yTop, yBottom = x0, y(stack(stackBase, v)), y(stackBase)
				stackBase = stack(stackBase, v)
			} else {
				x, yTop, yBottom = x0+barW*float64(si), y(v), base
			}
			fmt.Fprintf(&b, `<rect class="bar %s" x="%s" y="%s" width="%s" height="%s" data-label="%s" data-series="%s" data-value="%d"><title>%s, %s: %s</title></rect>`,
				esc(s.Class), svgNum(x), svgNum(yTop), svgNum(max(barW-1, 0.5)), svgNum(yBottom-yTop), esc(label), esc(s.Name), v,
				esc(label), esc(s.Name), esc(c.format(v)))
		}
	}
	b.WriteString(`</g>`)

	// Category labels: as many as fit, counted back from the last (today),
	// so the newest day always has its label.
	every := max(1, (n+9)/10)
	b.WriteString(`<g class="labels">`)
	for i, label := range c.Labels {
		if (n-1-i)%every != 0 {
			continue
		}
		x := float64(chartLeft) + slot*(float64(i)+0.5)
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`, svgNum(x), chartHeight-8, esc(label))
	}
	b.WriteString(`</g></svg>`)
	return template.HTML(b.String()) // every text in it was escaped above
}
