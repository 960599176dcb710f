package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/claimsd/claimsd/workflows/policyflow"
)

// listShadowClaims pages through the claims a version decided otherwise
// in shadow, by claim id, ?change=got:candidate narrowing them; as CSV,
// every one.
func (a *api) listShadowClaims(c echo.Context) error {
	ctx, version := c.Request().Context(), c.Param("version")
	return a.changedClaims(c, "shadow-"+version+"-claims.csv", func(q policyflow.ClaimQuery) ([]policyflow.ChangedClaim, error) {
		return a.Policies.ShadowClaims(ctx, version, q)
	})
}
