package console

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// bar is a drawn bar as the SVG has it.
type bar struct {
	Label, Series string
	Value         int64
	Y, Height     float64
}

var barRE = regexp.MustCompile(`<rect class="bar [^"]*" x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)" data-label="([^"]*)" data-series="([^"]*)" data-value="(\d+)">`)

func barsOf(t *testing.T, svg string) []bar {
	t.Helper()
	var out []bar
	for _, m := range barRE.FindAllStringSubmatch(svg, -1) {
		y, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		h, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		v, err := strconv.ParseInt(m[5], 10, 64)
		require.NoError(t, err)
		out = append(out, bar{Label: m[3], Series: m[4], Value: v, Y: y, Height: h})
	}
	return out
}

// wellFormed checks the SVG parses as XML.
func wellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err, svg)
	}
}

// plotHeight is the height of the plot area, where a full-scale bar ends.
const plotHeight = chartHeight - chartTop - chartBottom

func TestChartTicksAreEven(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ give, want int64 }{{1, 1}, {2, 2}, {5, 5}, {10, 5}, {20, 4}, {50, 5}, {100, 4}, {5000, 4}} {
		require.Equal(t, tc.want, chartTicks(tc.give), "chartTicks(%d)", tc.give)
		require.Zero(t, tc.give%tc.want)
	}
}

func TestNiceMax(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ give, want int64 }{
		{0, 1}, {1, 1}, {2, 2}, {3, 5}, {7, 10}, {10, 10}, {11, 20}, {99, 100}, {101, 200}, {450, 500}, {501, 1000}, {123456, 200000},
		// Two days at the largest amount the engine accepts.
		{2_000_000_000_000, 2_000_000_000_000}, {2_000_000_000_001, 5_000_000_000_000},
		// Near the top of int64 no round step fits: the scale ends at the
		// value rather than at a wrapped, negative one.
		{5_000_000_000_000_000_000, 5_000_000_000_000_000_000},
		{5_000_000_000_000_000_001, 5_000_000_000_000_000_001},
		{math.MaxInt64, math.MaxInt64},
	} {
		require.Equal(t, tc.want, niceMax(tc.give), "niceMax(%d)", tc.give)
	}
}

// TestChartOfHugeValues: bars near the top of int64, stacked beyond it,
// are drawn within the chart, never from a wrapped scale.
func TestChartOfHugeValues(t *testing.T) {
	t.Parallel()
	c := barChart{ID: "h", Labels: []string{"d1", "d2"}, Stacked: true,
		Series: []barSeries{{Name: "a", Values: []int64{math.MaxInt64, 1}}, {Name: "b", Values: []int64{math.MaxInt64, 2}}}}
	svg := string(c.SVG())
	wellFormed(t, svg)
	require.Contains(t, svg, `data-max="9223372036854775807"`)
	for _, b := range barsOf(t, svg) {
		require.GreaterOrEqual(t, b.Height, 0.0)
		require.GreaterOrEqual(t, b.Y, float64(chartTop)-0.1)
		require.LessOrEqual(t, b.Y+b.Height, chartTop+plotHeight+0.1)
	}
	require.NotContains(t, svg, ">-", "no negative figure on the axis")
}

func TestChartScalesBarsToTheLargest(t *testing.T) {
	t.Parallel()
	c := barChart{ID: "c", Title: "Claims", Desc: "per day", Labels: []string{"1 Mar", "2 Mar", "3 Mar"},
		Series: []barSeries{{Name: "instant", Class: "s-instant", Values: []int64{4, 10, 0}}}}
	svg := string(c.SVG())
	wellFormed(t, svg)
	require.Contains(t, svg, `role="img"`)
	require.Contains(t, svg, `aria-labelledby="c-title c-desc"`)
	require.Contains(t, svg, `<title id="c-title">Claims</title><desc id="c-desc">per day</desc>`)
	require.Contains(t, svg, `data-max="10"`)
	bars := barsOf(t, svg)
	require.Len(t, bars, 3)
	require.Equal(t, []int64{4, 10, 0}, []int64{bars[0].Value, bars[1].Value, bars[2].Value})
	require.InDelta(t, plotHeight, bars[1].Height, 0.1, "the largest bar fills the scale")
	require.InDelta(t, plotHeight*0.4, bars[0].Height, 0.1)
	require.InDelta(t, 0, bars[2].Height, 0.01)
	// All bars stand on the same base line.
	for _, b := range bars {
		require.InDelta(t, chartTop+plotHeight, b.Y+b.Height, 0.1)
	}
	require.Contains(t, svg, `<title>2 Mar, instant: 10</title>`)
	// The axis: 0 to 10 in five even steps, gridlines where the values are.
	for i, tick := range []int64{0, 2, 4, 6, 8, 10} {
		require.Contains(t, svg, `>`+strconv.FormatInt(tick, 10)+`</text>`, "tick %d", i)
		yy := float64(chartTop) + plotHeight - plotHeight*float64(tick)/10
		require.Contains(t, svg, `y1="`+svgNum(yy)+`"`)
	}
}

func TestChartStacksAndGroupsSeries(t *testing.T) {
	t.Parallel()
	series := []barSeries{{Name: "a", Class: "s-a", Values: []int64{3, 1}}, {Name: "b", Class: "s-b", Values: []int64{2, 0}}}
	stacked := barChart{ID: "s", Labels: []string{"d1", "d2"}, Series: series, Stacked: true}
	svg := string(stacked.SVG())
	require.Contains(t, svg, `data-max="5"`, "a stacked scale fits the day's sum")
	bars := barsOf(t, svg)
	require.Len(t, bars, 4)
	// d1: a is 3/5 of the scale from the base, b sits on top of it.
	require.InDelta(t, plotHeight*3/5, bars[0].Height, 0.1)
	require.InDelta(t, plotHeight*2/5, bars[1].Height, 0.1)
	require.InDelta(t, bars[0].Y, bars[1].Y+bars[1].Height, 0.1)
	require.InDelta(t, float64(chartTop), bars[1].Y, 0.1, "the full day reaches the top")

	grouped := barChart{ID: "g", Labels: []string{"d1", "d2"}, Series: series}
	svg = string(grouped.SVG())
	require.Contains(t, svg, `data-max="5"`, "grouped: the largest single bar, 3, rounds up to 5")
	bars = barsOf(t, svg)
	require.InDelta(t, plotHeight*3/5, bars[0].Height, 0.1)
	require.InDelta(t, plotHeight*2/5, bars[1].Height, 0.1)
	require.InDelta(t, bars[0].Y+bars[0].Height, bars[1].Y+bars[1].Height, 0.1, "side by side on the base")
}

func TestChartWithNoData(t *testing.T) {
	t.Parallel()
	empty := barChart{ID: "e", Title: "Nothing"}
	svg := string(empty.SVG())
	wellFormed(t, svg)
	require.Contains(t, svg, "No data for this period")
	require.Empty(t, barsOf(t, svg))

	zeros := barChart{ID: "z", Labels: []string{"d1", "d2"}, Series: []barSeries{{Name: "n", Values: []int64{0, 0}}}}
	svg = string(zeros.SVG())
	wellFormed(t, svg)
	require.Contains(t, svg, `data-max="1"`, "an all-zero chart still has a scale")
	for _, b := range barsOf(t, svg) {
		require.Zero(t, b.Height)
	}
}

func TestChartOfOneDay(t *testing.T) {
	t.Parallel()
	c := barChart{ID: "one", Labels: []string{"1 Mar"}, Series: []barSeries{{Name: "n", Values: []int64{7}}}}
	svg := string(c.SVG())
	wellFormed(t, svg)
	bars := barsOf(t, svg)
	require.Len(t, bars, 1)
	require.InDelta(t, plotHeight*7/10, bars[0].Height, 0.1)
	require.Equal(t, 1, strings.Count(svg, ">1 Mar</text>"), "the one day is labelled once")
}

func TestChartNeverDrawsBelowZeroOrAboveTheScale(t *testing.T) {
	t.Parallel()
	c := barChart{ID: "n", Labels: []string{"d1", "d2", "d3"}, Max: 100,
		Series: []barSeries{{Name: "share", Values: []int64{-20, 150}}}} // d3 has no value
	svg := string(c.SVG())
	bars := barsOf(t, svg)
	require.Len(t, bars, 3)
	require.Equal(t, int64(0), bars[0].Value, "a negative value counts as zero")
	require.Zero(t, bars[0].Height)
	require.InDelta(t, plotHeight, bars[1].Height, 0.1, "a value over a fixed scale is cut at its top")
	require.Zero(t, bars[2].Height, "a missing value is zero")
	for _, b := range bars {
		require.GreaterOrEqual(t, b.Height, 0.0)
		require.GreaterOrEqual(t, b.Y, float64(chartTop))
	}
}

func TestChartEscapesText(t *testing.T) {
	t.Parallel()
	c := barChart{ID: `x"><script>`, Title: `<b>Title</b> & "more"`, Desc: `</desc><script>alert(1)</script>`,
		Labels: []string{`<img src=x>`}, Series: []barSeries{{Name: `a"b`, Class: `c" onload="x`, Values: []int64{1}}},
		Format: func(v int64) string { return "<" + strconv.FormatInt(v, 10) + ">" }}
	svg := string(c.SVG())
	wellFormed(t, svg)
	require.NotContains(t, svg, "<script")
	require.NotContains(t, svg, "<img")
	require.NotContains(t, svg, "<b>")
	require.NotContains(t, svg, `onload="x"`)
	require.Contains(t, svg, "&lt;b&gt;Title&lt;/b&gt; &amp; &#34;more&#34;")
	require.Contains(t, svg, "&lt;1&gt;")
}

func TestChartLabelsManyDaysSparsely(t *testing.T) {
	t.Parallel()
	labels := make([]string, 90)
	for i := range labels {
		labels[i] = "day" + strconv.Itoa(i)
	}
	c := barChart{ID: "m", Labels: labels, Series: []barSeries{{Name: "n", Values: make([]int64, 90)}}}
	svg := string(c.SVG())
	require.Len(t, barsOf(t, svg), 90, "every day has its bar")
	shown := strings.Count(svg, `text-anchor="middle">day`)
	require.LessOrEqual(t, shown, 12)
	require.GreaterOrEqual(t, shown, 8)
	require.Contains(t, svg, ">day89</text>", "the newest day is always labelled")
	require.Contains(t, svg, ">day80</text>")
	require.NotContains(t, svg, ">day88</text>", "labels do not crowd")
}
