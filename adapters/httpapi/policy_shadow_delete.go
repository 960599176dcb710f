package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// deletePolicyShadow takes a version out of shadow: back to draft, or to
// retired if it was ever active. A version not in shadow is 409
// not_in_shadow.
func (a *api) deletePolicyShadow(c echo.Context) error {
	v, err := a.Policies.StopShadow(c.Request().Context(), viewer(c), c.Param("version"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newPolicyView(v))
}
