package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/policyflow"
)

// listBacktestClaims pages through the claims a completed run's candidate
// decides otherwise, by claim id, ?change=got:candidate narrowing them;
// as CSV, every one. A run not completed is 409 backtest_not_completed.
func (a *api) listBacktestClaims(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	return a.changedClaims(c, "backtest-"+id+"-claims.csv", func(q policyflow.ClaimQuery) ([]policyflow.ChangedClaim, error) {
		return a.Policies.ChangedClaims(ctx, id, q)
	})
}
