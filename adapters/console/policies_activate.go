package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/policylab"
	"github.com/claimsd/claimsd/workflows/claimflow"
	"github.com/claimsd/claimsd/workflows/policyflow"
)

// backtestsSearched is how many of a version's newest runs the
// confirmation looks through for the last completed one.
const backtestsSearched = 100

// noBacktest is what the confirmation form says it showed when the
// version has no completed backtest.
const noBacktest = "none"

type policyActivateData struct {
	V policyflow.Version
	// Active is the version it replaces ("" when none is active);
	// Differ how many settings differ from it.
	Active string
	Differ int
	// Last is the version's last completed backtest, nil when none
	// completed; Report its report.
	Last    *policyflow.Backtest
	Report  *reportView
	Period  string
	Filters []fact
	// Working counts its runs still queued or running.
	Working  int
	Seen     string
	Form     formState
	Conflict string
}

// policyActivatePage asks to confirm an activation, showing what the
// version's last completed backtest found, or saying plainly that none
// was run.
func (c *console) policyActivatePage(ec echo.Context) error {
	d, err := c.loadActivate(ec, newFormState())
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "policy_activate", pageData{Title: "Activate " + d.V.Version + "?", Data: d})
}

func (c *console) loadActivate(ec echo.Context, form formState) (*policyActivateData, error) {
	ctx := ec.Request().Context()
	v, _, err := c.Policies.Get(ctx, ec.Param("version"))
	if err != nil {
		return nil, err
	}
	d := &policyActivateData{V: v, Form: form, Seen: noBacktest}
	active, _, diff, err := c.Policies.Diff(ctx, v.Version, "")
	var nf *claimflow.NotFoundError
	switch {
	case errors.As(err, &nf) && nf.ID == "active":
	case err != nil:
		return nil, err
	default:
		d.Active, d.Differ = active.Version, len(diff)
	}
	bts, err := c.Policies.Backtests(ctx, v.Version, backtestsSearched)
	if err != nil {
		return nil, err
	}
	for i := range bts {
		b := &bts[i]
		if !b.Status.Done() {
			d.Working++
		}
		if b.Status == policylab.BacktestCompleted && d.Last == nil {
			d.Last = b
		}
	}
	if d.Last != nil {
		d.Seen = d.Last.ID
		d.Report = newReportView(d.Last.Report, backtestPath(d.Last.ID))
		d.Period, d.Filters = periodLabel(d.Last.From, d.Last.To), filtersView(d.Last.Filters)
	}
	return d, nil
}

// policyActivatePost activates the version once the person has ticked
// that they read what the confirmation showed, and only if it still shows
// the last completed backtest: one that completed since is shown first.
func (c *console) policyActivatePost(ec echo.Context) error {
	form := newFormState()
	d, err := c.loadActivate(ec, form)
	if err != nil {
		return err
	}
	title := "Error: Activate " + d.V.Version + "?"
	if ec.FormValue("confirm") != "yes" {
		form.Errors["confirm"] = "Confirmation: tick the box to say you have read what activating this version does"
		return c.render(ec, http.StatusUnprocessableEntity, "policy_activate", pageData{Title: title, Data: d})
	}
	if seen := ec.FormValue("seen"); seen != d.Seen {
		d.Conflict = "Nothing changed: a backtest of this version completed after this page was opened. Read its figures below, then confirm again."
		return c.render(ec, http.StatusConflict, "policy_activate", pageData{Title: title, Data: d})
	}
	_, err = c.Policies.Activate(ec.Request().Context(), viewerOf(ec), d.V.Version)
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, policyPath(d.V.Version)+"?done=activated")
}
