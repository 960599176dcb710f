package console

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

type finTable struct {
	Heading string
	RowHead string // what each row is: "Day", "Month"
	Columns []string
	Rows    []finTableRow
}

type finTableRow struct {
	Label string
	Cells []string
}

type finChart struct {
	ID, Heading string
	SVG         template.HTML
	Legend      []option // each series: its colour's class (Value) and name
	Table       finTable
}

func legendOf(c barChart) []option {
	var out []option
	for _, s := range c.Series {
		out = append(out, option{Value: s.Class, Label: s.Name})
	}
	return out
}

type finOverviewData struct {
	Days     int
	Options  []int
	Errors   map[string]string
	Period   finance.Period
	Last     time.Time // the period's last day
	Claims   int64
	Instant  int64
	Share    string
	Refunded []money.Money
	Recover  []money.Money
	Charts   []finChart
	// What the platform carries for protected sellers now, and how many
	// protected charges are open or contested.
	Protection financeflow.Protection
}

var finOverviewDays = []int{7, 30, 90}

// finOutcomeSeries are the outcomes the claims chart stacks, with their names
// and colours.
var finOutcomeSeries = []struct {
	Outcome     decision.Outcome
	Name, Class string
}{
	{decision.OutcomeInstantRefund, "instant refund", "s-instant"},
	{decision.OutcomeManualReview, "sent to review", "s-review"},
	{decision.OutcomeRejected, "rejected", "s-rejected"},
}

func finDayLabel(t time.Time) string { return t.UTC().Format("2 Jan") }

// financeOverview draws the last 7, 30 or 90 UTC days (today included):
// claims by outcome, money refunded and recovered per currency, and the
// share refunded at once.
func (c *console) financeOverview(ec echo.Context) error {
	d := finOverviewData{Days: 30, Options: finOverviewDays, Errors: map[string]string{}}
	if s := ec.QueryParam("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !slices.Contains(finOverviewDays, n) {
			d.Errors["days"] = "Period must be 7, 30 or 90 days"
			return c.render(ec, http.StatusBadRequest, "finance_overview", pageData{Title: "Finance overview", Data: d})
		}
		d.Days = n
	}
	to := c.finToday().AddDate(0, 0, 1)
	p := finance.Period{From: to.AddDate(0, 0, -d.Days), To: to}
	ov, err := c.Finance.Overview(ec.Request().Context(), p)
	if err != nil {
		return err
	}
	d.Period, d.Last = p, to.AddDate(0, 0, -1)
	d.Claims, d.Instant = ov.Claims, ov.Instant
	if share, ok := ov.Share(); ok {
		d.Share = strconv.FormatInt(share, 10) + "%"
	}
	for _, m := range ov.Money {
		d.Refunded = append(d.Refunded, m.TotalRefunded)
		d.Recover = append(d.Recover, m.TotalRecovered)
	}
	d.Charts = finOverviewCharts(ov)
	if d.Protection, err = c.Finance.Protection(ec.Request().Context()); err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "finance_overview", pageData{Title: "Finance overview", Data: d})
}

// finOverviewCharts draws the overview's charts, each with a table of its
// numbers: claims per day stacked by outcome, refunded and recovered per
// day in each currency (one chart a currency), and the instant-refund
// share per day.
func finOverviewCharts(ov financeflow.Overview) []finChart {
	n := len(ov.Days)
	labels := make([]string, n)
	for i, day := range ov.Days {
		labels[i] = finDayLabel(day)
	}
	var charts []finChart

	claims := barChart{ID: "chart-claims", Title: "Claims filed per day, by outcome",
		Desc: fmt.Sprintf("%d claims filed from %s to %s, stacked by the outcome decided.", ov.Claims,
			labels[0], labels[n-1]), Labels: labels, Stacked: true}
	tbl := finTable{Heading: "Claims filed per day", RowHead: "Day", Columns: []string{"Total"}}
	for _, o := range finOutcomeSeries {
		claims.Series = append(claims.Series, barSeries{Name: o.Name, Class: o.Class, Values: ov.Outcome(o.Outcome)})
		tbl.Columns = append(tbl.Columns, o.Name)
	}
	for i := range ov.Days {
		r := finTableRow{Label: labels[i], Cells: []string{strconv.FormatInt(ov.Filed[i], 10)}}
		for _, o := range finOutcomeSeries {
			r.Cells = append(r.Cells, strconv.FormatInt(ov.Outcome(o.Outcome)[i], 10))
		}
		tbl.Rows = append(tbl.Rows, r)
	}
	charts = append(charts, finChart{ID: "chart-claims", Heading: "Claims per day by outcome", SVG: claims.SVG(), Legend: legendOf(claims), Table: tbl})

	// Money, one chart per currency: currencies are never added up.
	for _, m := range ov.Money {
		cur := m.Currency
		id := "chart-money-" + strings.ToLower(cur.String())
		ch := barChart{ID: id, Title: "Refunded and recovered per day, " + cur.String(),
			Desc: fmt.Sprintf("Refunded to shoppers: %s; recovered from sellers: %s, from %s to %s.",
				m.TotalRefunded, m.TotalRecovered, labels[0], labels[n-1]),
			Labels: labels, Format: func(v int64) string { return money.Of(v, cur).String() },
			Series: []barSeries{{Name: "refunded", Class: "s-refunded", Values: m.Refunded}, {Name: "recovered", Class: "s-recovered", Values: m.Recovered}}}
		t := finTable{Heading: "Refunded and recovered per day, " + cur.String(), RowHead: "Day", Columns: []string{"Refunded", "Recovered"}}
		for i := range ov.Days {
			t.Rows = append(t.Rows, finTableRow{Label: labels[i], Cells: []string{money.Of(m.Refunded[i], cur).String(), money.Of(m.Recovered[i], cur).String()}})
		}
		charts = append(charts, finChart{ID: id, Heading: "Refunded and recovered, " + cur.String(), SVG: ch.SVG(), Legend: legendOf(ch), Table: t})
	}
	if len(ov.Money) == 0 {
		ch := barChart{ID: "chart-money", Title: "Refunded and recovered per day", Desc: "Nothing was refunded or recovered in the period."}
		charts = append(charts, finChart{ID: "chart-money", Heading: "Refunded and recovered", SVG: ch.SVG()})
	}

	// The instant-refund share, in whole percent; days without claims show
	// no bar.
	instant := ov.Outcome(decision.OutcomeInstantRefund)
	shareTbl := finTable{Heading: "Instant-refund share per day", RowHead: "Day", Columns: []string{"Share", "Instant refunds", "Claims"}}
	for i := range ov.Days {
		shown := "no claims"
		if ov.Filed[i] > 0 {
			shown = strconv.FormatInt(ov.Shares[i], 10) + "%"
		}
		shareTbl.Rows = append(shareTbl.Rows, finTableRow{Label: labels[i], Cells: []string{shown,
			strconv.FormatInt(instant[i], 10), strconv.FormatInt(ov.Filed[i], 10)}})
	}
	share := barChart{ID: "chart-share", Title: "Share of claims refunded at once, per day",
		Desc:   "The percentage of each day's claims the engine refunded at once; days without claims show no bar.",
		Labels: labels, Max: 100, Format: func(v int64) string { return strconv.FormatInt(v, 10) + "%" },
		Series: []barSeries{{Name: "instant-refund share", Class: "s-share", Values: ov.Shares}}}
	return append(charts, finChart{ID: "chart-share", Heading: "Instant-refund share", SVG: share.SVG(), Table: shareTbl})
}
