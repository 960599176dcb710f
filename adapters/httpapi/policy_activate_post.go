package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// postPolicyActivate makes a version decide new claims from now on; the
// active one is retired, both audited. Activating the active version
// changes nothing, so a retry needs no Idempotency-Key.
func (a *api) postPolicyActivate(c echo.Context) error {
	v, err := a.Policies.Activate(c.Request().Context(), viewer(c), c.Param("version"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newPolicyView(v))
}
