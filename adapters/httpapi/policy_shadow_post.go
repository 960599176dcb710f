package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// postPolicyShadow puts a version in shadow: it decides every new claim
// beside the active one, recorded, never acted on; a version in shadow
// before is taken out. Putting the version in shadow again changes
// nothing, so a retry needs no Idempotency-Key.
func (a *api) postPolicyShadow(c echo.Context) error {
	v, err := a.Policies.StartShadow(c.Request().Context(), viewer(c), c.Param("version"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newPolicyView(v))
}
