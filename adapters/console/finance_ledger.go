package console

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/ledger"
	"github.com/claimsd/claimsd/domain/money"
	"github.com/claimsd/claimsd/domain/validation"
)

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
