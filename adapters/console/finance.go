package console

import (
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/decision"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

// financeRoutes registers the finance pages: the overview with its
// charts, chargebacks, seller statements, reconciliation runs and the
// trial balance, with their CSV downloads. Finance and admins may look
// and request a reconciliation (as in the API); only finance records
// recoveries and resolves exceptions.
func (c *console) financeRoutes() {
	books := []claimflow.Role{RoleFinance, RoleAdmin}
	c.get("/console/finance", c.financeOverview, books...)
	c.get("/console/finance/chargebacks", c.finChargebacksPage, books...)
	c.download(pathChargebacksCSV, c.finChargebacksCSV, books...)
	c.get("/console/finance/sellers/:id/statement", c.finStatementPage, books...)
	c.download(pathStatementCSV, c.finStatementCSV, books...)
	c.post("/console/finance/sellers/:id/recoveries", c.finRecoveryPost, RoleFinance)
	c.get("/console/finance/reconciliations", c.finRunsPage, books...)
	c.post("/console/finance/reconciliations", c.finRunPost, books...)
	c.get("/console/finance/reconciliations/:id", c.finRunPage, books...)
	c.download(pathRunItemsCSV, c.finRunItemsCSV, books...)
	c.post("/console/finance/reconciliations/:id/exceptions/:seq/resolution", c.finResolutionPost, RoleFinance)
	c.get("/console/finance/trial-balance", c.finTrialBalancePage, books...)
	c.addNav("Finance overview", "/console/finance", books...)
	c.addNav("Chargebacks", "/console/finance/chargebacks", books...)
	c.addNav("Reconciliation", "/console/finance/reconciliations", books...)
	c.addNav("Trial balance", "/console/finance/trial-balance", books...)
	c.home[RoleFinance] = "/console/finance"
}

// finLabels name the finance forms' fields as their labels do.
var finLabels = map[string]string{
	"from":            "From",
	"to":              "To",
	"days":            "Period",
	"as_of":           "As of",
	"status":          "Status",
	"amount":          "Amount",
	"method":          "Method",
	"reference":       "Reference",
	"idempotency_key": "Form key",
}

func finLabel(field string) string {
	if l, ok := finLabels[field]; ok {
		return l
	}
	return fieldLabel(field)
}

// finToday is the start of the current UTC day.
func (c *console) finToday() time.Time { return finance.Day(c.Now()).From }

// finMaxDays bounds the period a page or download covers.
const finMaxDays = 366

// finReadPeriod reads a period of whole UTC days from the form's from and to
// dates (to included), each defaulting to its def; a bad one is named in
// errs. The period is [from, to + 1 day).
func finReadPeriod(vals, errs map[string]string, defFrom, defTo time.Time) finance.Period {
	bound := func(k string, def time.Time) time.Time {
		s := vals[k]
		if s == "" {
			vals[k] = def.Format(time.DateOnly)
			return def
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			errs[k] = finLabel(k) + " must be a date such as " + defTo.Format(time.DateOnly)
		} else if ve := validation.CheckDate(k, t, k == "to"); ve != nil {
			errs[k] = finLabel(k) + " " + ve.Message
		}
		return t
	}
	from, to := bound("from", defFrom), bound("to", defTo)
	if len(errs) > 0 {
		return finance.Period{}
	}
	switch {
	case to.Before(from):
		errs["to"] = "To must not be before from"
	case to.Sub(from) >= finMaxDays*24*time.Hour:
		errs["to"] = fmt.Sprintf("To must be within %d days of from", finMaxDays)
	}
	return finance.Period{From: from, To: to.AddDate(0, 0, 1)}
}

// finValues reads the named query (or form) values, trimmed.
func finValues(ec echo.Context, names ...string) map[string]string {
	out := map[string]string{}
	for _, k := range names {
		out[k] = strings.TrimSpace(ec.FormValue(k))
	}
	return out
}

// ---- the overview ----

type finTable struct {
	Heading string
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
	Claims   int
	Instant  int
	Share    string
	Refunded []money.Money
	Recover  []money.Money
	Charts   []finChart
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
	sum, err := c.Finance.Daily(ec.Request().Context(), p)
	if err != nil {
		return err
	}
	d.Period, d.Last = p, to.AddDate(0, 0, -1)
	days := make([]time.Time, d.Days)
	labels := make([]string, d.Days)
	index := map[time.Time]int{}
	for i := range days {
		days[i] = p.From.AddDate(0, 0, i)
		labels[i] = finDayLabel(days[i])
		index[days[i]] = i
	}

	// Claims by outcome, stacked.
	counts := map[decision.Outcome][]int64{}
	for _, o := range finOutcomeSeries {
		counts[o.Outcome] = make([]int64, d.Days)
	}
	totals := make([]int64, d.Days)
	for _, o := range sum.Outcomes {
		i, ok := index[o.Day]
		if !ok {
			continue
		}
		if _, known := counts[o.Outcome]; known {
			counts[o.Outcome][i] += int64(o.Claims)
		}
		totals[i] += int64(o.Claims)
		d.Claims += o.Claims
		if o.Outcome == decision.OutcomeInstantRefund {
			d.Instant += o.Claims
		}
	}
	claims := barChart{ID: "chart-claims", Title: "Claims filed per day, by outcome",
		Desc: fmt.Sprintf("%d claims filed from %s to %s, stacked by the outcome decided.", d.Claims,
			labels[0], labels[d.Days-1]), Labels: labels, Stacked: true}
	tbl := finTable{Heading: "Claims filed per day", Columns: []string{"Total"}}
	for _, o := range finOutcomeSeries {
		claims.Series = append(claims.Series, barSeries{Name: o.Name, Class: o.Class, Values: counts[o.Outcome]})
		tbl.Columns = append(tbl.Columns, o.Name)
	}
	for i := range days {
		r := finTableRow{Label: labels[i], Cells: []string{strconv.FormatInt(totals[i], 10)}}
		for _, o := range finOutcomeSeries {
			r.Cells = append(r.Cells, strconv.FormatInt(counts[o.Outcome][i], 10))
		}
		tbl.Rows = append(tbl.Rows, r)
	}
	d.Charts = append(d.Charts, finChart{ID: "chart-claims", Heading: "Claims per day by outcome", SVG: claims.SVG(), Legend: legendOf(claims), Table: tbl})

	// The instant-refund share, in whole finPercent.
	share := make([]int64, d.Days)
	shareTbl := finTable{Heading: "Instant-refund share per day", Columns: []string{"Share", "Instant refunds", "Claims"}}
	for i := range days {
		if totals[i] > 0 {
			share[i] = finPercent(counts[decision.OutcomeInstantRefund][i], totals[i])
		}
		shown := "no claims"
		if totals[i] > 0 {
			shown = strconv.FormatInt(share[i], 10) + "%"
		}
		shareTbl.Rows = append(shareTbl.Rows, finTableRow{Label: labels[i], Cells: []string{shown,
			strconv.FormatInt(counts[decision.OutcomeInstantRefund][i], 10), strconv.FormatInt(totals[i], 10)}})
	}
	if d.Claims > 0 {
		d.Share = strconv.FormatInt(finPercent(int64(d.Instant), int64(d.Claims)), 10) + "%"
	}
	shareChart := barChart{ID: "chart-share", Title: "Share of claims refunded at once, per day",
		Desc:   "The percentage of each day's claims the engine refunded at once; days without claims show no bar.",
		Labels: labels, Max: 100, Format: func(v int64) string { return strconv.FormatInt(v, 10) + "%" },
		Series: []barSeries{{Name: "instant-refund share", Class: "s-share", Values: share}}}

	// Money, one chart per currency: currencies are never added up.
	byCur := map[string]*[2][]int64{} // refunded, recovered
	var curs []string
	for _, a := range sum.Amounts {
		i, ok := index[a.Day]
		if !ok {
			continue
		}
		cur := a.Amount.Currency().String()
		v, seen := byCur[cur]
		if !seen {
			v = &[2][]int64{make([]int64, d.Days), make([]int64, d.Days)}
			byCur[cur] = v
			curs = append(curs, cur)
		}
		s := 0
		switch a.Kind {
		case ledger.KindRefund:
		case ledger.KindSellerRecovery:
			s = 1
		default:
			continue
		}
		if v[s][i], err = money.AddMinor(v[s][i], a.Amount.Amount()); err != nil {
			return fmt.Errorf("finance overview: %s on %s in %s: %w", a.Kind, labels[i], cur, err)
		}
	}
	slices.Sort(curs)
	for _, cur := range curs {
		v := byCur[cur]
		currency := money.MustCurrency(cur)
		var refunded, recovered int64
		for i := range days {
			if refunded, err = money.AddMinor(refunded, v[0][i]); err != nil {
				return fmt.Errorf("finance overview: refunded in %s: %w", cur, err)
			}
			if recovered, err = money.AddMinor(recovered, v[1][i]); err != nil {
				return fmt.Errorf("finance overview: recovered in %s: %w", cur, err)
			}
		}
		d.Refunded = append(d.Refunded, money.Of(refunded, currency))
		d.Recover = append(d.Recover, money.Of(recovered, currency))
		id := "chart-money-" + strings.ToLower(cur)
		ch := barChart{ID: id, Title: "Refunded and recovered per day, " + cur,
			Desc: fmt.Sprintf("Refunded to shoppers: %s; recovered from sellers: %s, from %s to %s.",
				money.Of(refunded, currency), money.Of(recovered, currency), labels[0], labels[d.Days-1]),
			Labels: labels, Format: func(n int64) string { return money.Of(n, currency).String() },
			Series: []barSeries{{Name: "refunded", Class: "s-refunded", Values: v[0]}, {Name: "recovered", Class: "s-recovered", Values: v[1]}}}
		t := finTable{Heading: "Refunded and recovered per day, " + cur, Columns: []string{"Refunded", "Recovered"}}
		for i := range days {
			t.Rows = append(t.Rows, finTableRow{Label: labels[i], Cells: []string{money.Of(v[0][i], currency).String(), money.Of(v[1][i], currency).String()}})
		}
		d.Charts = append(d.Charts, finChart{ID: id, Heading: "Refunded and recovered, " + cur, SVG: ch.SVG(), Legend: legendOf(ch), Table: t})
	}
	if len(curs) == 0 {
		ch := barChart{ID: "chart-money", Title: "Refunded and recovered per day", Desc: "Nothing was refunded or recovered in the period."}
		d.Charts = append(d.Charts, finChart{ID: "chart-money", Heading: "Refunded and recovered", SVG: ch.SVG()})
	}
	d.Charts = append(d.Charts, finChart{ID: "chart-share", Heading: "Instant-refund share", SVG: shareChart.SVG(), Table: shareTbl})
	return c.render(ec, http.StatusOK, "finance_overview", pageData{Title: "Finance overview", Data: d})
}

// finPercent is 100·part/whole rounded to the nearest whole finPercent.
func finPercent(part, whole int64) int64 { return (200*part + whole) / (2 * whole) }

// ---- chargebacks ----

// finMaxRows caps the rows a page lists; the CSV download has them all.
const finMaxRows = 500

type finChargebackTotals struct {
	Currency                    money.Currency
	Count                       int
	Charged, Released, Standing money.Money
}

type finChargebacksData struct {
	Values   map[string]string
	Errors   map[string]string
	Statuses []string
	Rows     []financeflow.Chargeback
	Total    int
	Totals   []finChargebackTotals
	CSVURL   string
	Searched bool
}

var finChargebackStatuses = []string{"open", "contested", "upheld", "final", "reversed", "waived", "voided"}

// finChargebackQuery reads the chargebacks filter: the period (default the
// last 30 days), a seller and a status.
func (c *console) finChargebackQuery(ec echo.Context) (finChargebacksData, financeflow.ChargebackFilter) {
	d := finChargebacksData{Values: finValues(ec, "from", "to", "seller_id", "status"), Errors: map[string]string{},
		Statuses: finChargebackStatuses}
	today := c.finToday()
	p := finReadPeriod(d.Values, d.Errors, today.AddDate(0, 0, -29), today)
	f := financeflow.ChargebackFilter{Period: p, SellerID: d.Values["seller_id"], Status: d.Values["status"]}
	if f.SellerID != "" {
		if err := validation.CheckID("seller_id", f.SellerID); err != nil {
			d.Errors["seller_id"] = fieldLabel("seller_id") + " " + err.Message
		}
	}
	if f.Status != "" && !slices.Contains(finChargebackStatuses, f.Status) {
		d.Errors["status"] = "Status must be one of the listed statuses"
	}
	q := url.Values{}
	for _, k := range []string{"from", "to", "seller_id", "status"} {
		if d.Values[k] != "" {
			q.Set(k, d.Values[k])
		}
	}
	d.CSVURL = "/console/finance/chargebacks.csv?" + q.Encode()
	return d, f
}

// finFilterFailed puts an unknown seller (or another bad filter the service
// found) on its field: 400; other errors are returned.
func finFilterFailed(err error, errs map[string]string) (int, error) {
	var ve *validation.Error
	var nf *claimflow.NotFoundError
	switch {
	case errors.As(err, &ve):
		errs[ve.Field] = finLabel(ve.Field) + " " + ve.Message
		return http.StatusBadRequest, nil
	case errors.As(err, &nf) && nf.Field != "":
		errs[nf.Field] = finLabel(nf.Field) + " is not a seller the engine knows"
		return http.StatusBadRequest, nil
	}
	return 0, err
}

func (c *console) finChargebacksPage(ec echo.Context) error {
	d, f := c.finChargebackQuery(ec)
	if len(d.Errors) > 0 {
		return c.render(ec, http.StatusBadRequest, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
	}
	totals, err := c.Finance.Chargebacks(ec.Request().Context(), f, func(cb financeflow.Chargeback) error {
		d.Total++
		if len(d.Rows) < finMaxRows {
			d.Rows = append(d.Rows, cb)
		}
		return nil
	})
	if err != nil {
		status, err := finFilterFailed(err, d.Errors)
		if err != nil {
			return err
		}
		return c.render(ec, status, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
	}
	for _, t := range totals {
		d.Totals = append(d.Totals, finChargebackTotals{Currency: t.Currency, Count: t.Count, Charged: money.Of(t.Charged, t.Currency),
			Released: money.Of(t.Released, t.Currency), Standing: money.Of(t.Standing, t.Currency)})
	}
	d.Searched = true
	return c.render(ec, http.StatusOK, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
}

var finChargebackCSVHeader = []string{"record", "charged_at", "claim_id", "order_id", "seller_id", "seller_name", "reason",
	"status", "contest_by", "recovery", "currency", "amount_minor", "amount"}

func (c *console) finChargebacksCSV(ec echo.Context) error {
	d, f := c.finChargebackQuery(ec)
	if len(d.Errors) > 0 {
		return c.render(ec, http.StatusBadRequest, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
	}
	s := c.newFinCSV(ec, "chargebacks-"+finFileDays(f.Period)+".csv", finChargebackCSVHeader)
	totals, err := c.Finance.Chargebacks(ec.Request().Context(), f, func(cb financeflow.Chargeback) error {
		return s.write([]string{"chargeback", finTime(cb.ChargedAt), finCell(cb.ClaimID), finCell(cb.OrderID), finCell(cb.SellerID),
			finCell(cb.SellerName), finCell(cb.Reason), finCell(cb.Status), finTime(cb.ContestBy), finCell(cb.Recovery),
			cb.Amount.Currency().String(), strconv.FormatInt(cb.Amount.Amount(), 10), finMajor(cb.Amount)})
	})
	if err == nil {
		for _, t := range totals {
			for _, line := range []struct {
				name   string
				amount int64
			}{{"total_charged", t.Charged}, {"total_released", t.Released}, {"total_standing", t.Standing}} {
				if err = s.write(finTotalRecord(len(finChargebackCSVHeader), 10, line.name, money.Of(line.amount, t.Currency))); err != nil {
					break
				}
			}
		}
	}
	if err == nil {
		err = s.close()
	}
	if err != nil {
		if s.committed {
			return s.abort(err)
		}
		status, err := finFilterFailed(err, d.Errors)
		if err != nil {
			return err
		}
		return c.render(ec, status, "finance_chargebacks", pageData{Title: "Chargebacks", Data: d})
	}
	return nil
}

// ---- a seller's statement ----

type finStatementData struct {
	SellerID   string
	Owed       []money.Money // what the seller owes now
	Values     map[string]string
	Errors     map[string]string
	Opening    []money.Money
	Lines      []financeflow.StatementLine
	Total      int
	Totals     []finStatementTotals
	CSVURL     string
	CanRecord  bool
	Recovery   formState
	Methods    []option
	Currencies []string
	Done       string
}

type finStatementTotals struct {
	Currency                                                      money.Currency
	Opening, Charges, Reversals, Recoveries, Adjustments, Closing money.Money
}

func (c *console) finStatementQuery(ec echo.Context) (*finStatementData, finance.Period) {
	d := &finStatementData{SellerID: ec.Param("id"), Values: finValues(ec, "from", "to"), Errors: map[string]string{},
		CanRecord: ec.Get(sessionKey).(*session).Role == RoleFinance, Recovery: newFormState()}
	for _, m := range finance.RecoveryMethods {
		d.Methods = append(d.Methods, option{Value: m.String(), Label: words(m.String())})
	}
	today := c.finToday()
	p := finReadPeriod(d.Values, d.Errors, today.AddDate(0, 0, -29), today)
	d.CSVURL = "/console/finance/sellers/" + url.PathEscape(d.SellerID) + "/statement.csv?" +
		url.Values{"from": {d.Values["from"]}, "to": {d.Values["to"]}}.Encode()
	return d, p
}

func (c *console) finStatementPage(ec echo.Context) error {
	d, p := c.finStatementQuery(ec)
	d.Recovery.Values["idempotency_key"] = finFormKey()
	if ec.QueryParam("done") == "recovery" {
		d.Done = "The recovery was recorded; the statement below includes it when it falls in the period."
	}
	return c.finRenderStatement(ec, http.StatusOK, d, p)
}

// finRenderStatement loads the statement for d's period (unless the period
// is bad) and renders the page with status.
func (c *console) finRenderStatement(ec echo.Context, status int, d *finStatementData, p finance.Period) error {
	v := viewerOf(ec)
	ctx := ec.Request().Context()
	owed, err := c.Claims.SellerBalance(ctx, v, d.SellerID)
	if err != nil {
		return err
	}
	d.Owed = owed
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	} else {
		totals, err := c.Finance.Statement(ctx, v, d.SellerID, p, func(open []money.Money) error {
			d.Opening = open
			return nil
		}, func(l financeflow.StatementLine) error {
			d.Total++
			if len(d.Lines) < finMaxRows {
				d.Lines = append(d.Lines, l)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, t := range totals {
			of := func(n int64) money.Money { return money.Of(n, t.Currency) }
			d.Totals = append(d.Totals, finStatementTotals{Currency: t.Currency, Opening: of(t.Opening), Charges: of(t.Charges),
				Reversals: of(t.Reversals), Recoveries: of(t.Recoveries), Adjustments: of(t.Adjustments), Closing: of(t.Closing)})
		}
	}
	for _, m := range owed {
		d.Currencies = append(d.Currencies, m.Currency().String())
	}
	if len(d.Currencies) == 0 {
		d.Currencies = []string{"EUR"}
	}
	if d.Recovery.Values["currency"] == "" {
		d.Recovery.Values["currency"] = d.Currencies[0]
	}
	return c.render(ec, status, "finance_statement", pageData{Title: "Statement of " + d.SellerID, Data: d})
}

var finEnough = errors.New("console: enough rows")

var finStatementCSVHeader = []string{"record", "at", "transaction_id", "category", "kind", "claim_id", "description",
	"currency", "amount_minor", "amount", "balance_minor", "balance"}

func (c *console) finStatementCSV(ec echo.Context) error {
	d, p := c.finStatementQuery(ec)
	if len(d.Errors) > 0 {
		return c.finRenderStatement(ec, http.StatusBadRequest, d, p)
	}
	s := c.newFinCSV(ec, "statement-"+d.SellerID+"-"+finFileDays(p)+".csv", finStatementCSVHeader)
	totals, err := c.Finance.Statement(ec.Request().Context(), viewerOf(ec), d.SellerID, p, func(open []money.Money) error {
		for _, m := range open {
			r := finTotalRecord(len(finStatementCSVHeader), 7, "opening", m)
			r[1] = finTime(p.From)
			if err := s.write(r); err != nil {
				return err
			}
		}
		return nil
	}, func(l financeflow.StatementLine) error {
		return s.write([]string{"entry", finTime(l.At), strconv.FormatInt(l.TransactionID, 10), string(l.Category), string(l.Kind),
			finCell(l.ClaimID), finCell(l.Description), l.Amount.Currency().String(), strconv.FormatInt(l.Amount.Amount(), 10),
			finMajor(l.Amount), strconv.FormatInt(l.Balance.Amount(), 10), finMajor(l.Balance)})
	})
	for _, t := range totals {
		if err != nil {
			break
		}
		r := finTotalRecord(len(finStatementCSVHeader), 7, "closing", money.Of(t.Closing, t.Currency))
		r[1] = finTime(p.To)
		err = s.write(r)
	}
	if err == nil {
		err = s.close()
	}
	if err != nil {
		if s.committed {
			return s.abort(err)
		}
		return err
	}
	return nil
}

// finFormKey is a form's idempotency key: a double submit sends the same
// one, so the recovery is recorded once.
func finFormKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "console-" + hex.EncodeToString(b)
}

// finRecoveryPost records money a seller paid back, once per form.
func (c *console) finRecoveryPost(ec echo.Context) error {
	form := newFormState()
	for k, v := range finValues(ec, "amount", "currency", "method", "reference", "idempotency_key") {
		form.Values[k] = v
	}
	form.Values["note"] = ec.FormValue("note")
	form.Values["currency"] = strings.ToUpper(form.Values["currency"])
	sellerID := ec.Param("id")
	in := financeflow.RecoveryInput{SellerID: sellerID, Currency: form.Values["currency"], Method: form.Values["method"],
		Reference: form.Values["reference"], Note: form.Values["note"]}
	status := http.StatusUnprocessableEntity
	cur, err := money.ParseCurrency(form.Values["currency"])
	switch {
	case err != nil:
		form.Errors["currency"] = "Currency must be a currency code such as EUR"
	case form.Values["amount"] == "":
		form.Errors["amount"] = "Amount is required"
	default:
		n, ok := parseMajor(form.Values["amount"], cur)
		switch {
		case !ok:
			form.Errors["amount"] = fmt.Sprintf("Amount must be an amount in %s such as %s", cur, amountExample(cur))
		case n == 0:
			form.Errors["amount"] = "Amount must be more than zero"
		default:
			in.Amount = n
		}
	}
	if len(form.Errors) == 0 {
		_, _, err = c.Finance.RecordRecoveryOnce(ec.Request().Context(), viewerOf(ec), form.Values["idempotency_key"], in)
		if err == nil {
			return ec.Redirect(http.StatusSeeOther, "/console/finance/sellers/"+url.PathEscape(sellerID)+"/statement?done=recovery")
		}
		var ve *validation.Error
		var re *finance.RefusedError
		var nf *claimflow.NotFoundError
		switch {
		case errors.As(err, &ve):
			form.Errors[ve.Field] = finLabel(ve.Field) + " " + ve.Message
			if ve.Field == "idempotency_key" {
				form.Values["idempotency_key"] = finFormKey()
			}
		case errors.As(err, &re):
			status = http.StatusConflict
			field := "amount"
			if re.Code == "duplicate_recovery" {
				field = "reference"
			}
			form.Errors[field] = "Not recorded: " + re.Message
		case errors.Is(err, claimflow.ErrIdempotencyKeyReused):
			status = http.StatusConflict
			form.Values["idempotency_key"] = finFormKey()
			form.Errors["idempotency_key"] = "This form was sent before with other values, so nothing was recorded. Reload the page and enter the recovery again."
		case errors.As(err, &nf):
			return &claimflow.NotFoundError{Resource: nf.Resource, ID: nf.ID}
		default:
			return err
		}
	}
	if form.Values["idempotency_key"] == "" {
		form.Values["idempotency_key"] = finFormKey()
	}
	d, p := c.finStatementQuery(ec)
	d.Recovery = form
	return c.finRenderStatement(ec, status, d, p)
}

// ---- reconciliation ----

type finRunsData struct {
	Runs    []financeflow.Run
	Form    formState
	NextURL string
	Paged   bool
}

const finRunsPageSize = 50

func (c *console) finRunsPage(ec echo.Context) error {
	yesterday := c.finToday().AddDate(0, 0, -1).Format(time.DateOnly)
	form := newFormState()
	form.Values["from"], form.Values["to"] = yesterday, yesterday
	return c.finRenderRuns(ec, http.StatusOK, form)
}

func (c *console) finRenderRuns(ec echo.Context, status int, form formState) error {
	d := finRunsData{Form: form}
	after := ec.QueryParam("after")
	if after != "" {
		if validation.CheckID("after", after) != nil {
			return errNotFound
		}
		d.Paged = true
	}
	runs, err := c.Finance.Runs(ec.Request().Context(), financeflow.RunFilter{After: after, Limit: finRunsPageSize + 1})
	if err != nil {
		return err
	}
	if len(runs) > finRunsPageSize {
		runs = runs[:finRunsPageSize]
		d.NextURL = "/console/finance/reconciliations?after=" + url.QueryEscape(runs[len(runs)-1].ID)
	}
	d.Runs = runs
	return c.render(ec, status, "finance_runs", pageData{Title: "Reconciliation", Data: d})
}

// finRunPost queues a reconciliation of whole UTC days; a job runs it.
func (c *console) finRunPost(ec echo.Context) error {
	form := newFormState()
	for k, v := range finValues(ec, "from", "to") {
		form.Values[k] = v
	}
	for _, k := range []string{"from", "to"} {
		if form.Values[k] == "" {
			form.Errors[k] = finLabel(k) + " is required"
		}
	}
	var p finance.Period
	if len(form.Errors) == 0 {
		p = finReadPeriod(form.Values, form.Errors, time.Time{}, c.finToday())
	}
	if len(form.Errors) == 0 {
		run, err := c.Finance.RequestReconciliation(ec.Request().Context(), viewerOf(ec), p)
		if err == nil {
			return ec.Redirect(http.StatusSeeOther, "/console/finance/reconciliations/"+url.PathEscape(run.ID))
		}
		var ve *validation.Error
		if !errors.As(err, &ve) {
			return err
		}
		form.Errors[ve.Field] = finLabel(ve.Field) + " " + ve.Message
	}
	return c.finRenderRuns(ec, http.StatusUnprocessableEntity, form)
}

type finException struct {
	financeflow.RunItem
	Form formState
}

type finRunData struct {
	Run        financeflow.Run
	Kinds      []fact
	Totals     []fact
	Exceptions []finException
	Truncated  bool
	CanResolve bool
	Done       string
	Conflict   string
}

func (c *console) finRunPage(ec echo.Context) error {
	d, err := c.finLoadRun(ec)
	if err != nil {
		return err
	}
	if ec.QueryParam("done") != "" {
		d.Done = "The exception is resolved; your note is kept with it."
	}
	return c.render(ec, http.StatusOK, "finance_run", pageData{Title: "Reconciliation " + d.Run.ID, Data: d})
}

func (c *console) finLoadRun(ec echo.Context) (*finRunData, error) {
	ctx := ec.Request().Context()
	run, err := c.Finance.Run(ctx, ec.Param("id"))
	if err != nil {
		return nil, err
	}
	d := &finRunData{Run: run, CanResolve: ec.Get(sessionKey).(*session).Role == RoleFinance}
	for _, k := range finance.ItemKinds {
		if n := run.Summary.Exceptions[k]; n > 0 {
			d.Kinds = append(d.Kinds, fact{Label: words(string(k)), Value: strconv.Itoa(n)})
		}
	}
	for _, t := range run.Summary.Totals {
		d.Totals = append(d.Totals, fact{Label: t.Currency.String(), Value: fmt.Sprintf("claims %s · provider %s · ledger %s",
			money.Of(t.Claims, t.Currency), money.Of(t.Provider, t.Currency), money.Of(t.Ledger, t.Currency))})
	}
	if run.Status != financeflow.RunCompleted {
		return d, nil
	}
	err = c.Finance.RunItems(ctx, financeflow.ItemFilter{RunID: run.ID, Exceptions: true, Limit: finMaxRows + 1},
		func(it financeflow.RunItem) error {
			if len(d.Exceptions) == finMaxRows {
				d.Truncated = true
				return finEnough
			}
			d.Exceptions = append(d.Exceptions, finException{RunItem: it, Form: newFormState()})
			return nil
		})
	if err != nil && !errors.Is(err, finEnough) {
		return nil, err
	}
	return d, nil
}

// finResolutionPost resolves one exception of a run with finance's note.
func (c *console) finResolutionPost(ec echo.Context) error {
	note := ec.FormValue("note")
	seq64, convErr := strconv.ParseInt(ec.Param("seq"), 10, 32) // an item's seq is a PostgreSQL integer
	if convErr != nil || seq64 < 1 {
		return errNotFound
	}
	seq := int(seq64)
	_, err := c.Finance.ResolveException(ec.Request().Context(), viewerOf(ec), ec.Param("id"), seq, note)
	if err == nil {
		return ec.Redirect(http.StatusSeeOther, fmt.Sprintf("/console/finance/reconciliations/%s?done=resolved#exception-%d", url.PathEscape(ec.Param("id")), seq))
	}
	var ve *validation.Error
	var re *finance.RefusedError
	var status int
	form := newFormState()
	form.Values["note"] = note
	conflict := ""
	switch {
	case errors.As(err, &ve):
		status = http.StatusUnprocessableEntity
		form.Errors[ve.Field] = finLabel(ve.Field) + " " + ve.Message
	case errors.As(err, &re):
		status = http.StatusConflict
		conflict = "Exception " + strconv.Itoa(seq) + " was not resolved: " + re.Message + "."
	default:
		return err
	}
	d, lerr := c.finLoadRun(ec)
	if lerr != nil {
		return lerr
	}
	d.Conflict = conflict
	for i := range d.Exceptions {
		if d.Exceptions[i].Seq == seq {
			d.Exceptions[i].Form = form
		}
	}
	return c.render(ec, status, "finance_run", pageData{Title: "Reconciliation " + d.Run.ID, Data: d})
}

var finItemCSVHeader = []string{"seq", "kind", "claim_id", "provider", "refund_id",
	"claim_status", "claim_currency", "claim_amount_minor", "provider_status", "provider_currency", "provider_amount_minor",
	"ledger_currency", "ledger_amount_minor", "detail", "resolved_at", "resolved_by", "resolution_note"}

func (c *console) finRunItemsCSV(ec echo.Context) error {
	id := ec.Param("id")
	s := c.newFinCSV(ec, "reconciliation-"+id+".csv", finItemCSVHeader)
	err := c.Finance.RunItems(ec.Request().Context(), financeflow.ItemFilter{RunID: id}, func(it financeflow.RunItem) error {
		amt := func(m money.Money) (string, string) {
			if m.Currency().IsZero() {
				return "", ""
			}
			return m.Currency().String(), strconv.FormatInt(m.Amount(), 10)
		}
		cc, ca := amt(it.ClaimAmount)
		pc, pa := amt(it.ProviderAmount)
		lc, la := amt(it.LedgerAmount)
		return s.write([]string{strconv.Itoa(it.Seq), string(it.Kind), finCell(it.ClaimID), finCell(it.Provider), finCell(it.RefundID),
			finCell(it.ClaimStatus), cc, ca, finCell(it.ProviderStatus), pc, pa, lc, la, finCell(it.Detail),
			finTime(it.ResolvedAt), finCell(it.ResolvedBy), finCell(it.ResolutionNote)})
	})
	if err == nil {
		err = s.close()
	}
	if err != nil {
		if s.committed {
			return s.abort(err)
		}
		var re *finance.RefusedError
		if errors.As(err, &re) {
			return c.render(ec, http.StatusConflict, "error", pageData{Title: "Not yet",
				Data: errorData{Heading: "No items yet", Message: re.Message + "."}})
		}
		return err
	}
	return nil
}

// ---- the trial balance ----

type finTrialRow struct {
	Account                  ledger.Account
	Debits, Credits, Balance money.Money
}

type finTrialCurrency struct {
	Currency        money.Currency
	Rows            []finTrialRow
	Debits, Credits money.Money
	Balanced        bool
}

type finTrialData struct {
	Values     map[string]string
	Errors     map[string]string
	AsOf       time.Time
	Currencies []finTrialCurrency
}

// finTrialBalancePage shows every account's debits, credits and balance per
// currency at the end of a UTC day (default: now), and whether each
// currency's debits equal its credits.
func (c *console) finTrialBalancePage(ec echo.Context) error {
	d := finTrialData{Values: finValues(ec, "as_of"), Errors: map[string]string{}}
	var asOf time.Time // zero: every posting so far
	if s := d.Values["as_of"]; s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			d.Errors["as_of"] = "As of must be a date such as " + c.finToday().Format(time.DateOnly)
		} else if ve := validation.CheckDate("as_of", t, true); ve != nil {
			d.Errors["as_of"] = "As of " + ve.Message
		}
		if len(d.Errors) > 0 {
			return c.render(ec, http.StatusBadRequest, "finance_trial_balance", pageData{Title: "Trial balance", Data: d})
		}
		asOf = t.AddDate(0, 0, 1)
		d.AsOf = asOf
	} else {
		d.AsOf = c.Now().UTC()
	}
	tb, err := c.Finance.TrialBalance(ec.Request().Context(), asOf)
	if err != nil {
		return err
	}
	for _, t := range tb.Totals {
		of := func(n int64) money.Money { return money.Of(n, t.Currency) }
		tc := finTrialCurrency{Currency: t.Currency, Debits: of(t.Debits), Credits: of(t.Credits), Balanced: t.Balanced()}
		for _, r := range tb.In(t.Currency) {
			tc.Rows = append(tc.Rows, finTrialRow{Account: r.Account, Debits: of(r.Debits), Credits: of(r.Credits), Balance: of(r.Balance)})
		}
		d.Currencies = append(d.Currencies, tc)
	}
	return c.render(ec, http.StatusOK, "finance_trial_balance", pageData{Title: "Trial balance", Data: d})
}

// ---- CSV downloads ----

// finCSV writes a CSV download (RFC 4180: quoted where needed, CRLF
// line ends) as rows come: the first 64 KiB are held back, so an error
// found early still gets an error page; after that an error aborts the
// connection, and the browser reports a failed download rather than
// keeping a short file that looks complete.
type finCSV struct {
	ec        echo.Context
	log       *slog.Logger
	filename  string
	buf       bytes.Buffer
	cw        *csv.Writer
	committed bool
}

const finCSVHoldBack = 64 << 10

func (c *console) newFinCSV(ec echo.Context, filename string, header []string) *finCSV {
	s := &finCSV{ec: ec, log: c.Logger, filename: filename}
	s.cw = csv.NewWriter(&s.buf)
	s.cw.UseCRLF = true
	_ = s.cw.Write(header) // writes to a buffer: never fails
	return s
}

func (s *finCSV) write(record []string) error {
	if err := s.cw.Write(record); err != nil {
		return err
	}
	s.cw.Flush()
	if s.buf.Len() < finCSVHoldBack {
		return nil
	}
	return s.send()
}

func (s *finCSV) send() error {
	w := s.ec.Response()
	if !s.committed {
		h := w.Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8; header=present")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+finFilename(s.filename)+`"`)
		w.WriteHeader(http.StatusOK)
		s.committed = true
	}
	if _, err := w.Write(s.buf.Bytes()); err != nil {
		return err
	}
	s.buf.Reset()
	w.Flush()
	return nil
}

func (s *finCSV) close() error {
	s.cw.Flush()
	if err := s.cw.Error(); err != nil {
		return err
	}
	return s.send()
}

// abort ends a download already under way: the cause is logged and the
// connection cut, so the browser sees a failed download rather than a
// short file. (Only http.ErrAbortHandler itself gets through echo's
// recovery as an abort; wrapped, it would end the response cleanly.)
func (s *finCSV) abort(err error) error {
	s.log.ErrorContext(s.ec.Request().Context(), "console download cut short", "err", err, "path", s.ec.Path())
	panic(http.ErrAbortHandler)
}

// finFilename keeps a download's name to letters, digits and - _ .
func finFilename(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// finCell makes text from outside (people's notes, names, ids others chose)
// safe to open in a spreadsheet: text a spreadsheet would read as a
// formula (leading = + - @, tab or carriage return) gets a leading
// apostrophe. Amounts and times the console formats are written as they
// are.
func finCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func finTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// finMajor writes an amount in its currency's major unit, exactly:
// 1999 EUR is "19.99".
func finMajor(m money.Money) string {
	return strings.TrimSuffix(m.String(), " "+m.Currency().String())
}

// finTotalRecord is a CSV line of totals: its label in the first column, the
// currency and the amount (minor units, then major) from column at.
func finTotalRecord(width, at int, label string, m money.Money) []string {
	r := make([]string, width)
	r[0] = label
	r[at], r[at+1], r[at+2] = m.Currency().String(), strconv.FormatInt(m.Amount(), 10), finMajor(m)
	return r
}

// finFileDays names a download after its days: 2026-11-01_2026-11-30.
func finFileDays(p finance.Period) string {
	return p.From.Format(time.DateOnly) + "_" + p.To.AddDate(0, 0, -1).Format(time.DateOnly)
}
