package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/domain/money"
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
	rows, err := a.Finance.TrialBalance(c.Request().Context(), asOf)
	if err != nil {
		return err
	}
	out := trialBalanceResponse{AsOf: shown, Accounts: []accountBalanceDTO{}, Totals: []trialTotalsDTO{}}
	idx := map[string]int{}
	for _, r := range rows {
		cur := r.Currency.String()
		out.Accounts = append(out.Accounts, accountBalanceDTO{Account: string(r.Account), Currency: cur,
			Debits: r.Debits, Credits: r.Credits, Balance: r.Balance})
		i, ok := idx[cur]
		if !ok {
			i = len(out.Totals)
			idx[cur] = i
			out.Totals = append(out.Totals, trialTotalsDTO{Currency: cur})
		}
		tot := &out.Totals[i]
		if tot.Debits, err = money.AddMinor(tot.Debits, r.Debits); err != nil {
			return fmt.Errorf("trial balance debits in %s: %w", cur, err)
		}
		if tot.Credits, err = money.AddMinor(tot.Credits, r.Credits); err != nil {
			return fmt.Errorf("trial balance credits in %s: %w", cur, err)
		}
	}
	slices.SortFunc(out.Totals, func(a, b trialTotalsDTO) int { return strings.Compare(a.Currency, b.Currency) })
	for i := range out.Totals {
		out.Totals[i].Balanced = out.Totals[i].Debits == out.Totals[i].Credits
	}
	return c.JSON(http.StatusOK, out)
}
