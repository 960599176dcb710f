package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

type accountBalanceDTO struct {
	Account  string `json:"account"`
	Currency string `json:"currency"`
	Debits   int64  `json:"debits"`
	Credits  int64  `json:"credits"`
	Balance  int64  `json:"balance"`
}

type trialTotalsDTO struct {
	Currency string `json:"currency"`
	Debits   int64  `json:"debits"`
	Credits  int64  `json:"credits"`
	Balanced bool   `json:"balanced"`
}

type trialBalanceResponse struct {
	AsOf     time.Time           `json:"as_of"`
	Accounts []accountBalanceDTO `json:"accounts"`
	Totals   []trialTotalsDTO    `json:"totals"`
}

// getTrialBalance lists every account's debits, credits and balance per
// currency as of a moment (?as_of=: a date means the end of that UTC day;
// default now), with the totals that show the books balance.
func (a *api) getTrialBalance(c echo.Context) error {
	var asOf, shown time.Time // zero: every posting so far
	if s := c.QueryParam("as_of"); s != "" {
		t, err := parseBound("as_of", s, true)
		if err != nil {
			return queryError(err)
		}
		asOf, shown = t, t
	} else {
		shown = a.Now().UTC()
	}
	tb, err := a.Finance.TrialBalance(c.Request().Context(), asOf)
	if err != nil {
		return err
	}
	out := trialBalanceResponse{AsOf: shown, Accounts: make([]accountBalanceDTO, 0, len(tb.Accounts)),
		Totals: make([]trialTotalsDTO, 0, len(tb.Totals))}
	for _, r := range tb.Accounts {
		out.Accounts = append(out.Accounts, accountBalanceDTO{Account: string(r.Account), Currency: r.Currency.String(),
			Debits: r.Debits, Credits: r.Credits, Balance: r.Balance})
	}
	for _, t := range tb.Totals {
		out.Totals = append(out.Totals, trialTotalsDTO{Currency: t.Currency.String(), Debits: t.Debits, Credits: t.Credits, Balanced: t.Balanced()})
	}
	return c.JSON(http.StatusOK, out)
}
