package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// changedShown is how many changed claims a page lists at once; the CSV
// has them all.
const changedShown = 50

// backtestRefreshSeconds is how often a run's page reloads itself while
// the run is queued or running.
const backtestRefreshSeconds = 3

// backtestFields are the backtest form's fields, by the field a
// validation error names, with their labels.
var backtestFields = map[string]struct{ Key, Label string }{
	"from":               {"from", "From"},
	"to":                 {"to", "To"},
	"filters.reasons":    {"reasons", "Claim reasons"},
	"filters.currencies": {"currencies", "Currencies"},
	"filters.seller_id":  {"seller_id", "Seller"},
	"filters.decided_by": {"decided_by", "Decided by"},
}

// backtestFieldError puts a validation error on its field of the backtest
// form; an indexed one (filters.currencies[1]) on its list, beside the
// others.
func backtestFieldError(form formState, ve *validation.Error) {
	f := ve.Field
	if i := strings.IndexByte(f, '['); i > 0 {
		f = f[:i]
	}
	field, ok := backtestFields[f]
	if !ok {
		field.Key, field.Label = "from", fieldLabel(f)
	}
	msg := field.Label + ": " + ve.Message
	if prev := form.Errors[field.Key]; prev != "" {
		msg = prev + "; " + ve.Message
	}
	form.Errors[field.Key] = msg
}

// backtestDay reads one of the form's days (a date input sends
// YYYY-MM-DD), or says on the form what is wrong with it.
func backtestDay(form formState, key string, today time.Time) (time.Time, bool) {
	label := backtestFields[key].Label
	v := form.Values[key]
	if v == "" {
		form.Errors[key] = label + ": is required"
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		form.Errors[key] = label + ": enter a day, such as " + today.Format(time.DateOnly)
		return time.Time{}, false
	}
	if t.After(today) {
		form.Errors[key] = label + ": must not be after today (" + today.Format(time.DateOnly) + ", UTC)"
		return time.Time{}, false
	}
	return t, true
}

// splitList reads a list typed into one field, its values separated by
// commas or spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\t' || r == '\n' || r == '\r' })
}

// policyBacktestPost queues a backtest of the version over the claims
// decided from the From day to the To day, both whole UTC days included,
// and opens the run's page. A bad field comes back on the version's page,
// beside the field, and nothing is queued.
func (c *console) policyBacktestPost(ec echo.Context) error {
	form := newFormState()
	for _, k := range []string{"from", "to", "currencies", "seller_id", "decided_by"} {
		form.Values[k] = strings.TrimSpace(ec.FormValue(k))
	}
	today := c.Now().UTC().Truncate(24 * time.Hour)
	from, fromOK := backtestDay(form, "from", today)
	to, toOK := backtestDay(form, "to", today)
	if fromOK && toOK && to.Before(from) {
		form.Errors["to"] = "To: must be the From day or a later one"
	}
	currencies := splitList(strings.ToUpper(form.Values["currencies"]))
	filters, err := policyflow.ParseFilters(formList(ec, "reasons"), currencies, form.Values["seller_id"], form.Values["decided_by"])
	if err != nil {
		problems, ok := validationProblems(err)
		if !ok {
			return err
		}
		for _, p := range problems {
			backtestFieldError(form, p)
		}
	}
	if len(form.Errors) == 0 {
		b, err := c.Policies.StartBacktest(ec.Request().Context(), viewerOf(ec), ec.Param("version"),
			policyflow.BacktestRequest{From: from, To: to.AddDate(0, 0, 1), Filters: filters})
		if err == nil {
			return ec.Redirect(http.StatusSeeOther, backtestPath(b.ID))
		}
		problems, ok := validationProblems(err)
		if !ok {
			return err
		}
		for _, p := range problems {
			backtestFieldError(form, p)
		}
	}
	return c.policyRender(ec, http.StatusUnprocessableEntity, form, "")
}

type backtestData struct {
	B       policyflow.Backtest
	Period  string
	Filters []fact
	Report  *reportView
	// Refresh: the run is not done, so the page reloads itself.
	Refresh int
	Claims  changedList
	CSVURL  string
}

// changedList is a page of the claims a candidate decides otherwise, with
// its filter by change.
type changedList struct {
	Action  string // the list's own address, for its filter
	Rows    []changedRow
	Change  string
	Changes []option
	Err     string
	Paged   bool
	// NextURL is the next page, when there is one; FirstURL the first.
	NextURL, FirstURL string
	// Empty says why there are no rows.
	Empty string
}

type changedRow struct {
	ClaimID, Change, Amount, Reasons string
	// URL is the claim's page, for those who may open it.
	URL string
}

// backtestPage shows a run: its status (reloading itself while it works),
// then the report, the chart of money moved and the changed claims.
func (c *console) backtestPage(ec echo.Context) error {
	b, err := c.Policies.Backtest(ec.Request().Context(), ec.Param("id"))
	if err != nil {
		return err
	}
	self := backtestPath(b.ID)
	d := backtestData{B: b, Period: periodLabel(b.From, b.To), Filters: filtersView(b.Filters)}
	if !b.Status.Done() {
		d.Refresh = backtestRefreshSeconds
	}
	status := http.StatusOK
	if b.Status == policylab.BacktestCompleted {
		d.Report = newReportView(b.Report, self)
		d.CSVURL = self + "/claims.csv"
		d.Claims, err = c.changedClaims(ec, self, func(q policyflow.ClaimQuery) ([]policyflow.ChangedClaim, error) {
			return c.Policies.ChangedClaims(ec.Request().Context(), b.ID, q)
		})
		if err != nil {
			return err
		}
		if d.Claims.Err != "" {
			status = http.StatusBadRequest
		}
	}
	return c.render(ec, status, "policy_backtest", pageData{Title: "Backtest " + b.ID, Data: d})
}

// changedClaims reads a page of changed claims by the query's change and
// after; a bad filter is said on the list, which stays empty.
func (c *console) changedClaims(ec echo.Context, self string, list func(policyflow.ClaimQuery) ([]policyflow.ChangedClaim, error)) (changedList, error) {
	l := changedList{Action: self, Changes: changeOptions(), Change: ec.QueryParam("change")}
	q := policyflow.ClaimQuery{After: ec.QueryParam("after"), Limit: changedShown + 1}
	if l.Change != "" {
		ch, err := policylab.ParseChange(l.Change)
		if err != nil || ch.Got == ch.Candidate {
			l.Err = "Change: choose one of the list's changes"
			return l, nil
		}
		q.Change = &ch
	}
	cs, err := list(q)
	if problems, ok := validationProblems(err); ok {
		l.Err = fieldLabel(problems[0].Field) + ": " + problems[0].Message
		return l, nil
	}
	if err != nil {
		return l, err
	}
	l.Paged = q.After != ""
	query := func(after string) string {
		v := url.Values{}
		if l.Change != "" {
			v.Set("change", l.Change)
		}
		if after != "" {
			v.Set("after", after)
		}
		if len(v) == 0 {
			return self + "#changed"
		}
		return self + "?" + v.Encode() + "#changed"
	}
	if len(cs) > changedShown {
		cs = cs[:changedShown]
		l.NextURL = query(cs[len(cs)-1].ClaimID)
	}
	l.FirstURL = query("")
	claimPages := ec.Get(sessionKey).(*session).Role == RoleAdmin
	for _, cc := range cs {
		r := changedRow{ClaimID: cc.ClaimID, Change: changeLabel(cc.Change), Amount: formatMoney(cc.Amount), Reasons: strings.Join(cc.Reasons, ", ")}
		if claimPages {
			r.URL = "/console/claims/" + url.PathEscape(cc.ClaimID)
		}
		l.Rows = append(l.Rows, r)
	}
	switch {
	case len(l.Rows) > 0:
	case l.Paged:
		l.Empty = "No more changed claims."
	case q.Change != nil:
		l.Empty = "No claim made this change."
	default:
		l.Empty = "The candidate decides every claim as it was decided."
	}
	return l, nil
}

// periodLabel writes a backtest's period: whole UTC days as days, both
// included; other bounds as instants.
func periodLabel(from, to time.Time) string {
	day := 24 * time.Hour
	if from.Truncate(day).Equal(from) && to.Truncate(day).Equal(to) {
		last := to.AddDate(0, 0, -1)
		if last.Equal(from) {
			return from.Format("2 Jan 2006") + " (a UTC day)"
		}
		return from.Format("2 Jan 2006") + " to " + last.Format("2 Jan 2006") + " (UTC days, both included)"
	}
	return formatWhen(from) + " to " + formatWhen(to)
}

// filtersView describes a backtest's filters.
func filtersView(f policyflow.Filters) []fact {
	var out []fact
	if len(f.Reasons) > 0 {
		rs := make([]string, len(f.Reasons))
		for i, r := range f.Reasons {
			rs[i] = words(r.String())
		}
		out = append(out, fact{Label: "Claim reasons", Value: strings.Join(rs, ", ")})
	}
	if len(f.Currencies) > 0 {
		cs := make([]string, len(f.Currencies))
		for i, c := range f.Currencies {
			cs[i] = c.String()
		}
		out = append(out, fact{Label: "Currencies", Value: strings.Join(cs, ", ")})
	}
	if f.SellerID != "" {
		out = append(out, fact{Label: "Seller", Value: f.SellerID})
	}
	if f.DecidedBy != "" {
		out = append(out, fact{Label: "Decided by", Value: f.DecidedBy})
	}
	return out
}

// backtestCSV sends every claim a completed run changes, as CSV.
func (c *console) backtestCSV(ec echo.Context) error {
	ctx := ec.Request().Context()
	id := ec.Param("id")
	b, err := c.Policies.Backtest(ctx, id)
	if err != nil {
		return err
	}
	if b.Status != policylab.BacktestCompleted {
		return c.render(ec, http.StatusConflict, "error", pageData{Title: "Not yet",
			Data: errorData{Heading: "Not yet", Message: "The backtest is " + b.Status.String() + "; its claims can be downloaded once it completes."}})
	}
	s := export.NewCSV(ec.Response(), "backtest-"+id+"-claims.csv", export.ChangedClaimHeader, func(err error, rows int) {
		c.Logger.ErrorContext(ctx, "console download cut short", "err", err, "rows", rows, "path", ec.Path())
	})
	q := policyflow.ClaimQuery{Limit: policyflow.MaxClaimLimit}
	for {
		cs, err := c.Policies.ChangedClaims(ctx, id, q)
		if err != nil {
			return s.Fail(err)
		}
		for _, cc := range cs {
			if err := s.ChangedClaimRow(nil, cc); err != nil {
				return s.Fail(err)
			}
		}
		if len(cs) < q.Limit {
			break
		}
		q.After = cs[len(cs)-1].ClaimID
	}
	if err := s.Close(nil); err != nil {
		return s.Fail(err)
	}
	return nil
}
