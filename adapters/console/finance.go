package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
)

// The finance pages, a file a page: the overview (finance_overview.go),
// chargebacks (finance_chargebacks.go), a seller's statement
// (finance_statements.go) and its recovery form (finance_recovery.go),
// reconciliation runs (finance_reconcile.go) and the trial balance
// (finance_ledger.go); what they share is here. Each handler reads its
// form, calls a financeflow use case and renders: the reports add up in
// financeflow and domain/finance, and the downloads' CSV is package
// export's.

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

// finMaxRows caps the rows a page lists; the CSV download has them all.
const finMaxRows = 500

// errFinEnough stops a listing once a page has what it shows.
var errFinEnough = errors.New("console: enough rows")

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

// finCSV starts a CSV download (see package export): an error in its first
// 64 KiB still gets an error page; after that the connection is cut, and
// the browser reports a failed download rather than keep a short file.
func (c *console) finCSV(ec echo.Context, filename string, header []string) *export.Stream {
	return export.NewCSV(ec.Response(), filename, header, func(err error, rows int) {
		c.Logger.ErrorContext(ec.Request().Context(), "console download cut short", "err", err, "rows", rows, "path", ec.Path())
	})
}
