package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/adapters/export"
	"github.com/claimsd/claimsd/domain/finance"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/financeflow"
)

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
		run, _, err := c.Finance.RequestReconciliationOnce(ec.Request().Context(), viewerOf(ec), p, formKey(ec))
		if err == nil {
			return ec.Redirect(http.StatusSeeOther, "/console/finance/reconciliations/"+url.PathEscape(run.ID))
		}
		var ve *validation.Error
		switch {
		case errors.Is(err, claimflow.ErrIdempotencyKeyReused):
			form.Errors["from"] = "This form was already sent with other days, and that run was queued; see the runs below, or reload the page to queue another"
		case errors.As(err, &ve):
			form.Errors[ve.Field] = finLabel(ve.Field) + " " + ve.Message
		default:
			return err
		}
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
				return errFinEnough
			}
			d.Exceptions = append(d.Exceptions, finException{RunItem: it, Form: newFormState()})
			return nil
		})
	if err != nil && !errors.Is(err, errFinEnough) {
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

// finRunItemsCSV sends every item of a completed run as CSV.
func (c *console) finRunItemsCSV(ec echo.Context) error {
	id := ec.Param("id")
	s := c.finCSV(ec, "reconciliation-"+id+".csv", export.ItemHeader)
	err := c.Finance.RunItems(ec.Request().Context(), financeflow.ItemFilter{RunID: id}, func(it financeflow.RunItem) error {
		return s.ItemRow(nil, it)
	})
	if err == nil {
		err = s.Close(nil)
	}
	if err != nil {
		err = s.Fail(err)
		var re *finance.RefusedError
		if errors.As(err, &re) {
			return c.render(ec, http.StatusConflict, "error", pageData{Title: "Not yet",
				Data: errorData{Heading: "No items yet", Message: re.Message + "."}})
		}
		return err
	}
	return nil
}
